"""Jobs: computations running in the background, with stages, progress, retries and timeouts.

Every local job runs on one bounded thread pool (``$TILES_COMPUTE_WORKERS`` threads, at most
:data:`MAX_OUTSTANDING` jobs queued or running). A :class:`Job` moves through the stages
``QUEUED -> RUNNING -> SUCCEEDED | FAILED | CANCELLED``; ``progress`` counts the windows of a
chunked computation. Failures reading data (:class:`~tiles.errors.DataError` and other
``OSError``) are retried; errors in the graph itself are not, since they would only repeat.

>>> import tiles as wf                                          # doctest: +SKIP
>>> job = (wf.Int(1) + 1).compute(block=False)                  # doctest: +SKIP
>>> job.result(timeout=10)                                      # doctest: +SKIP
2
"""

from __future__ import annotations

import itertools
import sys
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from tiles import settings
from tiles.engine import budget
from tiles.errors import (
    DataError,
    JobTimeoutError,
    ParameterError,
    TooManyRequestsError,
    WorkCancelledError,
    WorkflowsError,
)

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = (
    "QUEUED",
    "RUNNING",
    "SUCCEEDED",
    "FAILED",
    "CANCELLED",
)
FINISHED = frozenset({SUCCEEDED, FAILED, CANCELLED})
#: Jobs queued or running at once per process; more are refused (like the original's limit).
MAX_OUTSTANDING = 120
#: Retries of transient failures when ``num_retries`` is not given.
DEFAULT_RETRIES = 2
#: Most retries a job may ask for.
MAX_RETRIES = 5
#: Jobs whose progress bar appears only once they have run this long (seconds).
PROGRESS_DELAY = 1.0


class JobCancelledError(WorkCancelledError):
    """The job was cancelled before it finished."""


class ResourceExhaustedError(TooManyRequestsError):
    """Too many jobs are outstanding; wait for some to finish."""


def check_retries(num_retries: Any) -> int:
    """``num_retries`` as an int from 0 to :data:`MAX_RETRIES` (None: the default).

    Raises
    ------
    ParameterError
        For anything else.
    """
    if num_retries is None:
        return DEFAULT_RETRIES
    if isinstance(num_retries, bool) or not isinstance(num_retries, int):
        raise ParameterError(f"'num_retries' must be an integer, not {num_retries!r}")
    if not 0 <= num_retries <= MAX_RETRIES:
        raise ParameterError(f"'num_retries' must be 0 to {MAX_RETRIES}, not {num_retries}")
    return num_retries


def is_transient(exc: BaseException) -> bool:
    """Whether retrying could help: data reads failed, not the graph or its arguments.

    Running out of memory is never transient: the same work would need the same memory.
    """
    if isinstance(exc, DataError):
        return True
    return isinstance(exc, OSError) and not isinstance(exc, WorkflowsError)


class Job:
    """A computation started with ``compute(block=False)``; base of local and remote jobs."""

    id: str
    file: Any = None
    #: Applied to the output by :meth:`result` (e.g. to give an xarray DataArray).
    convert: Callable[[Any], Any] | None = None

    @property
    def stage(self) -> str:
        """``QUEUED``, ``RUNNING``, ``SUCCEEDED``, ``FAILED`` or ``CANCELLED``."""
        raise NotImplementedError

    @property
    def status(self) -> str:
        """Same as :attr:`stage`."""
        return self.stage

    @property
    def progress(self) -> float:
        """Fraction of the work done, 0 to 1."""
        raise NotImplementedError

    @property
    def error(self) -> BaseException | None:
        """The exception a failed job raised, else None."""
        raise NotImplementedError

    @property
    def done(self) -> bool:
        """Whether the job has finished (succeeded, failed or was cancelled)."""
        return self.stage in FINISHED

    def refresh(self) -> None:
        """Update the stage and progress (a no-op for local jobs)."""

    def cancel(self) -> None:
        """Stop the job: queued jobs never start, running ones stop at the next window."""
        raise NotImplementedError

    def _wait_step(self, seconds: float) -> None:
        """Block up to ``seconds`` or until the job changes."""
        raise NotImplementedError

    def _output(self) -> Any:
        """The output of a succeeded job."""
        raise NotImplementedError

    def wait(
        self,
        timeout: float | None = None,
        progress_bar: bool | None = None,
        cancel_on_timeout: bool = False,
    ) -> None:
        """Wait until the job is done; raise its error if it failed.

        Raises :class:`~tiles.errors.JobTimeoutError` after ``timeout`` seconds (cancelling
        the job first when ``cancel_on_timeout``). ``progress_bar``: True shows one, None
        shows one in Jupyter (a widget) or on a terminal (tqdm), both only once the job has
        run :data:`PROGRESS_DELAY`.
        """
        start = time.monotonic()
        display: _ProgressDisplay | None = None
        try:
            while True:
                self.refresh()
                if self.done:
                    break
                elapsed = time.monotonic() - start
                if timeout is not None and elapsed >= timeout:
                    if cancel_on_timeout:
                        self.cancel()
                    raise JobTimeoutError(
                        f"job {self.id} did not finish within {timeout} s (stage {self.stage})"
                    )
                if display is None and elapsed >= PROGRESS_DELAY and _wants_bar(progress_bar):
                    display = _ProgressDisplay.create(self.id)
                if display is not None:
                    display.update(self.progress, self.stage)
                step = 0.2 if timeout is None else min(0.2, max(0.0, timeout - elapsed))
                self._wait_step(step)
        finally:
            if display is not None:
                display.update(self.progress, self.stage)
                display.close()
        if self.stage == FAILED:
            raise self.error if self.error is not None else WorkflowsError(f"job {self.id} failed")
        if self.stage == CANCELLED:
            raise JobCancelledError(f"job {self.id} was cancelled")

    def result(
        self,
        timeout: float | None = None,
        progress_bar: bool | None = None,
        cancel_on_timeout: bool = False,
    ) -> Any:
        """Wait for the job, then return its output (None when it was written to ``file``)."""
        self.wait(timeout, progress_bar, cancel_on_timeout)
        if self.file is not None:
            self.result_to_file(self.file)
            return None
        output = self._output()
        return output if self.convert is None else self.convert(output)

    def result_to_file(self, file: Any) -> None:
        """Write the output of a finished job to a path or binary file object."""
        from tiles.compute.formats import encode_result, write_output

        self.wait()
        output = self._output()
        write_output(output if isinstance(output, bytes) else encode_result(output), file)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} {self.stage} {self.progress:.0%}>"


class LocalJob(Job):
    """A job running on this process's executor."""

    def __init__(
        self,
        run: Callable[[Callable[[int, int], None]], Any],
        num_retries: int | None = None,
        file: Any = None,
        job_id: str | None = None,
        on_change: Callable[[LocalJob], None] | None = None,
    ) -> None:
        self.id = job_id or uuid.uuid4().hex[:20]
        self.file = file
        self.attempts = 0
        self.num_retries = check_retries(num_retries)
        self._run = run
        self._stage = QUEUED
        self._done_steps, self._total_steps = 0, 0
        self._error: BaseException | None = None
        self._value: Any = None
        #: Set by :meth:`cancel`; the running computation stops at its next step.
        self._cancel_event = threading.Event()
        self._changed = threading.Condition()
        self._on_change = on_change
        self._future: Future | None = None

    @property
    def stage(self) -> str:
        """The job's stage: ``"QUEUED"``, ``"RUNNING"``, ``"SUCCEEDED"``, ``"FAILED"`` or ``"CANCELLED"``."""
        return self._stage

    @property
    def progress(self) -> float:
        """The fraction of the job done, from 0.0 to 1.0 (1.0 once it succeeded)."""
        if self._stage == SUCCEEDED:
            return 1.0
        return self._done_steps / self._total_steps if self._total_steps else 0.0

    @property
    def error(self) -> BaseException | None:
        """The exception the job failed with, else None."""
        return self._error

    def _set(self, stage: str | None = None, error: BaseException | None = None) -> None:
        with self._changed:
            if self._stage in FINISHED:
                return  # a cancelled job stays cancelled whatever its thread does next
            if stage is not None:
                self._stage = stage
            if error is not None:
                self._error = error
            self._changed.notify_all()
        if self._on_change is not None:
            self._on_change(self)

    def _progress(self, done: int, total: int) -> None:
        if self._cancel_event.is_set():
            raise JobCancelledError(f"job {self.id} was cancelled")
        self._done_steps, self._total_steps = done, total
        self._set()

    def start(self) -> LocalJob:
        """Queue the job on the executor."""
        self._future = _executor().submit(self._main)
        return self

    def _main(self) -> None:
        if self._cancel_event.is_set():
            return
        self._set(RUNNING)
        for attempt in itertools.count():
            self.attempts = attempt + 1
            try:
                # One budget per attempt: its time limit and cancellation cover every step.
                with budget.using(budget.Budget(cancelled=self._cancel_event)):
                    value = self._run(self._progress)
            except (JobCancelledError, WorkCancelledError):
                return
            except Exception as exc:
                if (
                    attempt < self.num_retries
                    and is_transient(exc)
                    and not self._cancel_event.is_set()
                ):
                    continue
                self._set(FAILED, exc)
                return
            self._value = value
            self._set(SUCCEEDED)
            return

    def cancel(self) -> None:
        """Cancel the job: a queued job never runs, a running one stops at its next step."""
        self._cancel_event.set()
        if self._future is not None:
            self._future.cancel()
        self._set(CANCELLED)

    def _wait_step(self, seconds: float) -> None:
        with self._changed:
            if self._stage not in FINISHED:
                self._changed.wait(seconds)

    def _output(self) -> Any:
        return self._value


# -- the executor and the job table --------------------------------------------------------

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_jobs: OrderedDict[str, LocalJob] = OrderedDict()
#: Finished jobs remembered for :func:`get` (oldest forgotten first).
MAX_REMEMBERED = 1000


def workers() -> int:
    """Threads computing jobs: ``$TILES_COMPUTE_WORKERS``, else the CPU count (at most 8)."""
    return settings.COMPUTE_WORKERS.get()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(workers(), thread_name_prefix="tiles-job")
        return _pool


def start(job: LocalJob) -> LocalJob:
    """Register and queue ``job``; refuse when :data:`MAX_OUTSTANDING` are unfinished."""
    with _lock:
        if sum(1 for j in _jobs.values() if not j.done) >= MAX_OUTSTANDING:
            raise ResourceExhaustedError(
                f"{MAX_OUTSTANDING} jobs are already queued or running; wait for some to finish"
            )
        _jobs[job.id] = job
        while len(_jobs) > MAX_REMEMBERED:
            oldest = next(iter(_jobs))
            if not _jobs[oldest].done:
                break
            del _jobs[oldest]
    return job.start()


def submit(request: Any, cache: bool = True, num_retries: int | None = None, file: Any = None):
    """Start a local job computing a :class:`tiles.compute.evaluation.Request`."""
    from tiles.compute.evaluation import execute_cached

    job = LocalJob(
        lambda progress: execute_cached(request, cache, progress), num_retries, file=file
    )
    return start(job)


def get(job_id: str) -> LocalJob:
    """A job started in this process (recent ones), by id."""
    from tiles.errors import NotFoundError

    with _lock:
        job = _jobs.get(job_id)
    if job is None:
        raise NotFoundError(f"no job {job_id!r} in this process")
    return job


# -- progress display ----------------------------------------------------------------------


def _in_jupyter() -> bool:
    shell = sys.modules.get("IPython")
    try:
        ip = shell.get_ipython() if shell is not None else None
    except Exception:
        return False
    return type(ip).__name__ == "ZMQInteractiveShell"


def _wants_bar(progress_bar: bool | None) -> bool:
    # By default where someone watches: a notebook, or a terminal (not a log or a pipe).
    if progress_bar is None:
        return _in_jupyter() or bool(getattr(sys.stderr, "isatty", lambda: False)())
    return bool(progress_bar)


class _ProgressDisplay:
    """A progress bar: ipywidgets in Jupyter, tqdm in a terminal if installed, else text."""

    @staticmethod
    def create(job_id: str) -> _ProgressDisplay:
        if _in_jupyter():
            try:
                return _WidgetBar(job_id)
            except ImportError:
                pass
        try:
            return _TqdmBar(job_id)
        except ImportError:
            return _ProgressDisplay()

    def update(self, fraction: float, stage: str) -> None:
        print(f"\r{stage}: {fraction:6.1%}", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        print(file=sys.stderr, flush=True)


class _TqdmBar(_ProgressDisplay):
    def __init__(self, job_id: str) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=100, desc=f"job {job_id}", unit="%")

    def update(self, fraction: float, stage: str) -> None:
        self.bar.set_postfix_str(stage)
        self.bar.update(int(fraction * 100) - self.bar.n)

    def close(self) -> None:
        self.bar.close()


class _WidgetBar(_ProgressDisplay):
    def __init__(self, job_id: str) -> None:
        import ipywidgets
        from IPython.display import display

        self.bar = ipywidgets.FloatProgress(value=0.0, min=0.0, max=1.0, description="Job")
        self.label = ipywidgets.Label(f"{job_id}: QUEUED")
        self.job_id = job_id
        display(ipywidgets.HBox([self.bar, self.label]))

    def update(self, fraction: float, stage: str) -> None:
        self.bar.value = fraction
        self.label.value = f"{self.job_id}: {stage}"
        self.bar.bar_style = {"FAILED": "danger", "SUCCEEDED": "success"}.get(stage, "")

    def close(self) -> None:
        pass  # leave the finished bar visible in the notebook
