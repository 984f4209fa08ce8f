"""The per-request cost budget: every hole a hostile graft could use is closed before it costs.

Each limit is set low through its environment variable, and a graft that would build far
beyond it must fail with ResourceLimitError naming the limit, not run, swell memory or
sleep. Time is tested with a controllable clock and with cancellation, never by timing.
"""

from __future__ import annotations

import threading

import pytest

import tiles as wf
from tiles.compute import jobs
from tiles.compute.evaluation import evaluate
from tiles.engine import budget
from tiles.errors import ResourceLimitError, WorkCancelledError
from tiles.geocontext import AOI, XYZTile

IMAGE = "sample:s2:20230115_z13"


def graft_of(obj) -> dict:
    return obj.graft


@pytest.fixture()
def small(monkeypatch):
    """Limits small enough that each test's graft is far beyond them."""
    monkeypatch.setenv("TILES_MAX_ELEMENTS", "1000")


@pytest.mark.parametrize(
    "build",
    [
        lambda: wf.Str("{:>5000}").format("x"),
        lambda: wf.Str("{:.5000f}").format(1.5),
        lambda: wf.Str("x") * 5000,
        lambda: wf.range(5000),
        lambda: wf.Str("-" * 100).join(wf.List[wf.Str](["ab"] * 100)),
        lambda: wf.Str("a" * 100).replace("a", "b" * 100),
        lambda: wf.Str("ab").center(5000),
    ],
    ids=["format width", "format precision", "repetition", "range", "join", "replace", "pad"],
)
def test_plain_values_beyond_the_element_limit_are_refused_before_they_are_built(small, build):
    with pytest.raises(ResourceLimitError, match="TILES_MAX_ELEMENTS"):
        evaluate(graft_of(build()))


def test_growth_by_repeated_concatenation_stops_at_the_limit(small):
    text = wf.Str("ab")
    for _ in range(40):  # 2**41 characters if nothing stopped it
        text = text + text
    with pytest.raises(ResourceLimitError, match="concatenation"):
        evaluate(graft_of(text))


def test_long_multiplication_chains_stop_at_the_integer_limit():
    number = wf.Int(3)
    for _ in range(40):  # 3 ** (2 ** 40) if nothing stopped it
        number = number * number
    with pytest.raises(ResourceLimitError, match="bits"):
        evaluate(graft_of(number))


def test_a_huge_convolution_kernel_is_refused_before_it_runs():
    red = wf.Image.from_id(IMAGE).pick_bands("red")
    kernel = wf.Kernel(dims=(301, 301), data=[1.0] * (301 * 301))
    with pytest.raises(ResourceLimitError, match="TILES_MAX_OPERATIONS"):
        evaluate(graft_of(wf.conv2d(red, kernel)), XYZTile(842, 1612, 12))


def test_grids_beyond_the_pixel_limit_are_refused_before_reading():
    aoi = AOI(bounds=(-106.2, 35.5, -105.7, 35.9), shape=(20_000, 20_000), crs="EPSG:3857")
    red = wf.Image.from_id(IMAGE).pick_bands("red")
    with pytest.raises(ResourceLimitError, match="TILES_MAX_PIXELS"):
        evaluate(graft_of(red), aoi)


def test_reads_beyond_the_byte_limit_are_refused_before_allocating(monkeypatch):
    monkeypatch.setenv("TILES_MAX_VALUE_MB", "1")
    aoi = AOI(bounds=(-106.2, 35.5, -105.7, 35.9), shape=(1024, 1024), crs="EPSG:3857")
    rgb = wf.Image.from_id(IMAGE).pick_bands("red green blue")
    with pytest.raises(ResourceLimitError, match="TILES_MAX_VALUE_MB"):
        evaluate(graft_of(rgb + 1), aoi)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_time_is_checked_at_every_builtin_with_a_controllable_clock():
    clock = FakeClock()
    limits = budget.Limits(elements=10**6, bytes=2**30, pixels=10**8, operations=10**9, seconds=5)
    graft = graft_of(wf.Int(1) + 2)
    with budget.using(budget.Budget(limits, clock=clock)):
        assert evaluate(graft) == 3
        clock.now = 5.5  # the request has now used more than its 5 s
        with pytest.raises(ResourceLimitError, match="TILES_MAX_SECONDS"):
            evaluate(graft)


def test_a_request_continued_elsewhere_keeps_its_limit_and_the_seconds_it_had_left():
    clock = FakeClock()
    clock.now = 1000.0  # another process's clock: only the seconds left carry over
    limits = budget.Limits(elements=10**6, bytes=2**30, pixels=10**8, operations=10**9, seconds=5)
    graft = graft_of(wf.Int(1) + 2)
    with budget.using(budget.Budget(limits, clock=clock, seconds_left=2)):
        assert evaluate(graft) == 3
        clock.now = 1002.5  # within the request's 5 s, but past the 2 s it had left
        with pytest.raises(ResourceLimitError, match="longer than 5 s.*TILES_MAX_SECONDS"):
            evaluate(graft)


def test_a_wait_ends_when_the_request_is_out_of_time(monkeypatch):
    monkeypatch.setenv("TILES_MAX_SECONDS", "0.5")
    slow = {"0": 1, "1": 3600, "2": ["wf.debugging.sleep", "0", "1"], "returns": "2"}
    with pytest.raises(ResourceLimitError, match="TILES_MAX_SECONDS"):
        evaluate(slow)


def test_cancelled_work_stops_at_the_next_builtin():
    cancelled = threading.Event()
    cancelled.set()
    with budget.using(budget.Budget(cancelled=cancelled)):
        with pytest.raises(WorkCancelledError):
            evaluate(graft_of(wf.Int(1) + 2))


def test_a_function_called_over_and_over_stops_when_cancelled():
    """Graft functions called by map/reduce are steps too, even without builtins inside."""
    cancelled = threading.Event()
    calls = []
    r = wf.range(1000)
    endless = r.map(lambda x: r.map(lambda y: r.map(lambda z: z).length()).length())
    limits = budget.Budget(cancelled=cancelled)
    timer = threading.Timer(1.0, cancelled.set)  # the "client" goes away while it runs
    timer.start()
    try:
        with budget.using(limits), pytest.raises(WorkCancelledError):
            calls.append(evaluate(graft_of(endless)))
    finally:
        timer.cancel()
    assert calls == []  # a billion steps never finished: the work was stopped


def test_memory_errors_are_never_retried_and_retries_have_a_maximum():
    attempts = []

    def run(progress):
        attempts.append(1)
        raise MemoryError("out of memory")

    job = jobs.LocalJob(run, num_retries=3).start()
    with pytest.raises(MemoryError):
        job.wait(timeout=600)
    assert attempts == [1]
    with pytest.raises(wf.ParameterError, match="0 to 5"):
        jobs.LocalJob(run, num_retries=100)
