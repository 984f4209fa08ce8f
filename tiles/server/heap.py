"""Hands the memory a server process has freed back to the system now and then.

glibc's allocator keeps freed memory in its arenas for reuse. A tile server frees many
megabyte-sized arrays on many threads, and what it keeps then grows with the number of
distinct tiles served long after the byte-bounded caches are full. ``malloc_trim`` returns
free pages of every arena to the system; run every few seconds on a thread of its own, it
costs a few milliseconds of CPU per call and keeps the process's resident memory level.
Elsewhere than glibc (no ``malloc_trim``) the trimmer does nothing.

Example::

    >>> trimmer = HeapTrimmer(interval=10.0)
    >>> trimmer.start(); trimmer.stop()
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
import time
from typing import Any

#: Seconds between two trims.
TRIM_SECONDS = 10.0


def _malloc_trim() -> Any:
    """glibc's ``malloc_trim``, or None where the C library has none."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


class HeapTrimmer:
    """Calls ``malloc_trim(0)`` every ``interval`` seconds on a daemon thread.

    Parameters
    ----------
    interval:
        Seconds between trims.
    """

    def __init__(self, interval: float = TRIM_SECONDS) -> None:
        self.interval = interval
        self._trim = _malloc_trim()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.trims = 0
        self.cpu_seconds = 0.0

    @property
    def available(self) -> bool:
        """Whether this C library can trim its heap."""
        return self._trim is not None

    def trim(self) -> None:
        """Trim once now (ctypes lets go of the GIL while glibc works)."""
        if self._trim is None:
            return
        start = time.thread_time()
        self._trim(0)
        self.cpu_seconds += time.thread_time() - start
        self.trims += 1

    def start(self) -> None:
        """Start trimming in the background (does nothing without ``malloc_trim``)."""
        if self._trim is None or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="heap-trim", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.trim()

    def stop(self) -> None:
        """Stop trimming."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def stats(self) -> dict[str, Any]:
        """For ``/health``: whether it trims, how often it did and the CPU it took.

        Returns
        -------
        dict
        """
        return {
            "available": self.available,
            "trims": self.trims,
            "cpu_ms": round(self.cpu_seconds * 1000, 1),
        }
