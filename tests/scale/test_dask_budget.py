"""The request's cost budget holds on Dask workers: its limits and the time it has left travel
with each window to a real 2-worker ``distributed.LocalCluster``, a window over a limit fails
the request (or job) with the same ResourceLimitError, and a cancelled request's windows stop
on the workers.

Limits are set only in this (the client's) process, after the cluster started: the worker
processes keep the defaults, so an error naming a small limit proves the limit travelled.
"""

from __future__ import annotations

import time

import pytest

from tests.compute.support import dem, slow
from tests.scale.conftest import BLOCK
from tiles.compute import jobs
from tiles.errors import ResourceLimitError
from tiles.geocontext import AOI

pytest.importorskip("distributed")

#: 1024 x 1024 pixels over the sample elevation model: four windows of BLOCK pixels.
#: (A square of 8 km in UTM 13N, around (-105.94 E, 35.69 N).)
CTX = AOI(
    bounds=(411_000, 3_946_000, 419_000, 3_954_000),
    bounds_crs="EPSG:32613",
    crs="EPSG:32613",
    shape=(1024, 1024),
)
#: Generous bound so a broken test fails instead of hanging; never a measured duration.
WAIT = 120
#: Sleeps of 60 s (the most one may), ten in a row: 600 s per window, twice the 300 s a
#: worker's own default budget would let one run.
LONG_SLEEPS = 10


def _sleeping(image):
    for _ in range(LONG_SLEEPS):
        image = slow(image, 60)
    return image


def _poll(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def _busy(cluster) -> bool:
    """Whether the scheduler has windows processing or a worker thread is running one."""
    return any(cluster.processing().values()) or any(cluster.call_stack().values())


def test_a_pixel_limit_set_in_the_client_fails_the_windows_on_the_workers(cluster, monkeypatch):
    assert tuple(CTX.arr_shape) == (2 * BLOCK, 2 * BLOCK)
    monkeypatch.setenv("TILES_MAX_PIXELS", str(BLOCK * BLOCK - 1))  # one window is over it
    with pytest.raises(ResourceLimitError, match="TILES_MAX_PIXELS"):
        dem().compute(CTX, cache=False, progress_bar=False)
    with pytest.raises(ResourceLimitError, match="TILES_MAX_PIXELS"):  # summed up on workers
        dem().mean(axis="pixels").compute(CTX, cache=False, progress_bar=False)
    job = dem().compute(CTX, block=False, cache=False, num_retries=3)
    with pytest.raises(ResourceLimitError, match="TILES_MAX_PIXELS"):
        job.result(timeout=WAIT)
    assert job.stage == jobs.FAILED and job.attempts == 1
    _poll(lambda: not _busy(cluster), "windows still running after the failure")


def test_the_requests_time_limit_stops_windows_running_on_the_workers(cluster, monkeypatch):
    monkeypatch.setenv("TILES_MAX_SECONDS", "5")
    with pytest.raises(ResourceLimitError, match=r"longer than 5 s.*TILES_MAX_SECONDS"):
        _sleeping(dem()).compute(CTX, cache=False, progress_bar=False)
    _poll(lambda: not _busy(cluster), "windows still running after the time limit")


def test_a_cancelled_job_cancels_its_windows_on_the_workers(cluster):
    job = _sleeping(dem()).compute(CTX, block=False, cache=False)
    _poll(lambda: any(cluster.call_stack().values()) or job.done, "no window started")
    assert not job.done
    job.cancel()
    with pytest.raises(jobs.JobCancelledError):
        job.result(timeout=WAIT)
    _poll(lambda: not _busy(cluster), "windows still running after the job was cancelled")
