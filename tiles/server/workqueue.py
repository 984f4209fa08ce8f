"""One bounded pool of worker threads with in-flight de-duplication and cancellation.

Tile computation is CPU- and IO-bound numpy/GDAL work that mostly releases the GIL, so a
thread pool of two threads per core (``$TILES_TILE_WORKERS``) keeps every core busy, one
thread's Python work overlapping another's reads, while the Tornado IOLoop stays free to
answer. Three rules keep a map responsive under load:

* identical work submitted while it is queued or running joins the existing job,
  so a burst of identical tile requests computes once;
* queued work that nobody waits for any more (the browser panned away and closed
  the connection) is dropped before it starts;
* when too much work is queued, new work is refused at once (the server answers
  503 with Retry-After) instead of queueing without bound.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import os
import sys
import threading
from collections.abc import Callable, Hashable
from typing import Any

from tiles import settings
from tiles.engine import budget
from tiles.errors import UnavailableError


class QueueFull(UnavailableError):
    """Raised by :meth:`WorkQueue.submit` when ``max_pending`` jobs are already waiting."""


@dataclasses.dataclass
class _Job:
    waiters: int = 1
    started: bool = False
    future: concurrent.futures.Future | None = None
    #: Set when every waiter left a running job: its budget stops it at the next step.
    cancelled: threading.Event = dataclasses.field(default_factory=threading.Event)


def _lower_priority(niceness: int) -> None:
    """Raise the calling thread's nice value by ``niceness`` (Linux: nice is per thread, and
    threads it starts, such as the read pool's, inherit it)."""
    if niceness > 0 and sys.platform.startswith("linux"):
        tid = threading.get_native_id()
        try:
            os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + niceness)
        except OSError:  # not permitted here: run at the usual priority
            pass


class WorkQueue:
    """A ThreadPoolExecutor of ``workers`` threads with de-duplication by key.

    ``max_pending`` bounds jobs submitted but not yet started. With ``budgeted`` every job
    runs within a cost budget of its own (:mod:`tiles.engine.budget`), cancelled when the
    last waiter of a running job leaves, so abandoned work stops at its next step.
    """

    def __init__(
        self,
        workers: int | None = None,
        max_pending: int | None = None,
        name: str = "compute",
        budgeted: bool = False,
        niceness: int = 0,
    ) -> None:
        self.workers = int(workers or settings.TILE_WORKERS.get())
        self.max_pending = int(max_pending if max_pending is not None else 64 * self.workers)
        self.name = name
        self.budgeted = budgeted
        self._pool = concurrent.futures.ThreadPoolExecutor(
            self.workers,
            thread_name_prefix=f"tiles-{name}",
            initializer=_lower_priority,
            initargs=(niceness,),
        )
        # Re-entrant: Future.cancel() runs done-callbacks synchronously, and they lock too.
        self._lock = threading.RLock()
        self._jobs: dict[Hashable, _Job] = {}
        self._pending = 0
        self.counts = {
            "submitted": 0,
            "deduplicated": 0,
            "dropped": 0,
            "cancelled": 0,
            "rejected": 0,
        }

    def submit(
        self, key: Hashable, fn: Callable[..., Any], *args: Any, always: bool = False
    ) -> concurrent.futures.Future:
        """Run ``fn(*args)`` on the pool, or join the queued/running job with the same key.

        ``always=True`` admits the job even when the queue is full: for short follow-up
        work (encoding a computed tile) that would otherwise waste the work before it.
        Every caller that gets a future from here and stops waiting for it before it
        finishes should call :meth:`release` so abandoned work can be dropped.
        """
        with self._lock:
            job = self._jobs.get(key)
            stopping = job is not None and job.cancelled.is_set()
            if (
                job is not None
                and job.future is not None
                and not job.future.cancelled()
                and not stopping
            ):
                job.waiters += 1
                self.counts["deduplicated"] += 1
                return job.future
            if self._pending >= self.max_pending and not always:
                self.counts["rejected"] += 1
                raise QueueFull(
                    f"server busy: {self._pending} {self.name} tasks already queued; retry shortly"
                )
            job = _Job()
            self._pending += 1
            self.counts["submitted"] += 1
            future = self._pool.submit(self._run, job, fn, args)
            job.future = future
            self._jobs[key] = job
        future.add_done_callback(lambda f: self._finished(key, job))
        return future

    def _run(self, job: _Job, fn: Callable[..., Any], args: tuple) -> Any:
        with self._lock:
            job.started = True
            self._pending -= 1
        if not self.budgeted:
            return fn(*args)
        with budget.using(budget.Budget(cancelled=job.cancelled)):
            return fn(*args)

    def _finished(self, key: Hashable, job: _Job) -> None:
        with self._lock:
            if self._jobs.get(key) is job:
                del self._jobs[key]
            if not job.started:
                # Cancelled before a worker picked it up: it no longer counts as pending.
                job.started = True
                self._pending -= 1

    def release(self, key: Hashable, future: concurrent.futures.Future) -> bool:
        """One waiter of ``future`` gave up; drop or stop the job if nobody else wants it.

        An unstarted job is dropped; a running one is cancelled through its budget (it
        stops at its next step). Returns True when the job was dropped or cancelled.
        """
        with self._lock:
            job = self._jobs.get(key)
            if job is None or job.future is not future:
                return False
            job.waiters -= 1
            if job.waiters > 0:
                return False
            if job.started:
                if self.budgeted and not future.done():
                    job.cancelled.set()
                    self.counts["cancelled"] += 1
                    return True
                return False
            if future.cancel():
                self.counts["dropped"] += 1
                return True
            return False

    @property
    def pending(self) -> int:
        """Jobs submitted and not yet started."""
        return self._pending

    def stats(self) -> dict[str, Any]:
        """Counts for /health and tests."""
        with self._lock:
            running = sum(1 for j in self._jobs.values() if j.started)
            return {
                "workers": self.workers,
                "max_pending": self.max_pending,
                "pending": self._pending,
                "running": running,
                **self.counts,
            }

    def shutdown(self, wait: bool = False) -> None:
        """Stop accepting work; queued jobs are cancelled."""
        self._pool.shutdown(wait=wait, cancel_futures=True)
