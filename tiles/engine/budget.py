"""The cost budget of one request: how much evaluating it may build, and for how long.

One :class:`Budget` is active while a request is evaluated (a tile, a ``/value`` point, a
job, a graft-valued parameter inside them; :func:`using` makes it active, :func:`current`
finds it) and every builtin is checked against it (see :mod:`tiles.builtins.registry`):
before it runs, that the request was not cancelled (its client went away) and has time
left; after, that what it returned is within the element, byte and integer limits. Work
whose cost can be far beyond its inputs checks before paying it: ranges, repetition,
padding, joins, format widths and powers (in the builtins), reading pixels (in the data
layer) and convolutions (here, in the engine); waits such as ``wf.debugging.sleep`` end as
soon as the request is cancelled or out of time.

Limits come from :mod:`tiles.settings` (``TILES_MAX_ELEMENTS``, ``TILES_MAX_VALUE_MB``,
``TILES_MAX_PIXELS``, ``TILES_MAX_OPERATIONS``, ``TILES_MAX_SECONDS``).

Example
-------
>>> budget = Budget(Limits(elements=10, bytes=1000, pixels=100, operations=100, seconds=5))
>>> budget.check_elements(11, "range")
Traceback (most recent call last):
...
tiles.errors.ResourceLimitError: range would have 11 items; the limit is 10 (TILES_MAX_ELEMENTS)
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from tiles import settings
from tiles.engine.imagery import CollectionValue, ImageValue
from tiles.errors import ResourceLimitError, WorkCancelledError

#: Bits an integer result may have (``2 ** 4096`` is far beyond any float).
MAX_INT_BITS = 4096


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one request may cost.

    Parameters
    ----------
    elements:
        Items of one list, tuple or dict, or characters of one string.
    bytes:
        Bytes of one value (an array of pixels, with its mask).
    pixels:
        Pixels (rows x cols) of a raster grid a request reads or creates.
    operations:
        Element operations one builtin may do (a convolution's kernel size times the
        elements of its image).
    seconds:
        Time the whole request may compute.
    """

    elements: int
    bytes: int
    pixels: int
    operations: int
    seconds: float

    @classmethod
    def from_settings(cls) -> Limits:
        """The limits the settings give now.

        Returns
        -------
        Limits
        """
        return cls(
            elements=settings.MAX_ELEMENTS.get(),
            bytes=settings.MAX_VALUE_BYTES.get(),
            pixels=settings.MAX_PIXELS.get(),
            operations=settings.MAX_OPERATIONS.get(),
            seconds=settings.MAX_SECONDS.get(),
        )


class Budget:
    """The limits of one request, its deadline, and whether it was cancelled.

    Parameters
    ----------
    limits:
        What the request may cost (default: :meth:`Limits.from_settings`).
    cancelled:
        Set when nobody waits for the result any more; the work stops at the next check.
    clock:
        Seconds from a fixed origin (``time.monotonic``); tests may pass their own.
    seconds_left:
        Time left to the request when it continues here after computing elsewhere (another
        process's clock is not this one's, so its deadline travels as seconds left);
        default ``limits.seconds``.
    """

    def __init__(
        self,
        limits: Limits | None = None,
        cancelled: threading.Event | None = None,
        clock: Callable[[], float] = time.monotonic,
        seconds_left: float | None = None,
    ) -> None:
        self.limits = limits if limits is not None else Limits.from_settings()
        self.cancelled = cancelled if cancelled is not None else threading.Event()
        self.clock = clock
        left = self.limits.seconds if seconds_left is None else seconds_left
        self.deadline = clock() + left

    def remaining(self) -> float:
        """Seconds of computing left (negative once the deadline passed)."""
        return self.deadline - self.clock()

    def checkpoint(self, what: str) -> None:
        """Stop here if the request was cancelled or is out of time.

        Raises
        ------
        WorkCancelledError
            Nobody waits for the result any more.
        ResourceLimitError
            The request computed longer than ``limits.seconds``.
        """
        if self.cancelled.is_set():
            raise WorkCancelledError(f"{what}: stopped, nobody waits for this result any more")
        if self.remaining() < 0:
            raise ResourceLimitError(
                f"{what}: the request computed longer than {self.limits.seconds:g} s, "
                "the most one request may (TILES_MAX_SECONDS)"
            )

    def sleep(self, seconds: float, what: str) -> None:
        """Wait ``seconds``, but no longer than the request may and not once it is cancelled."""
        self.cancelled.wait(max(0.0, min(seconds, self.remaining())))
        self.checkpoint(what)

    def check_elements(self, n: int, what: str) -> None:
        """Refuse building a sequence or string of ``n`` items."""
        if n > self.limits.elements:
            raise ResourceLimitError(
                f"{what} would have {n:,} items; the limit is {self.limits.elements:,} "
                "(TILES_MAX_ELEMENTS)"
            )

    def check_bytes(self, n: int, what: str) -> None:
        """Refuse holding a value of ``n`` bytes."""
        if n > self.limits.bytes:
            raise ResourceLimitError(
                f"{what} would take {n / 2**20:,.0f} MB; the limit is "
                f"{self.limits.bytes / 2**20:,.0f} MB (TILES_MAX_VALUE_MB)"
            )

    def check_pixels(self, shape: tuple[int, ...], what: str) -> None:
        """Refuse a raster grid of more than ``limits.pixels`` pixels (rows, cols)."""
        rows, cols = (int(n) for n in shape[-2:])
        if rows * cols > self.limits.pixels:
            raise ResourceLimitError(
                f"{what} covers {rows:,} x {cols:,} pixels; the limit is "
                f"{self.limits.pixels:,} (TILES_MAX_PIXELS): use a coarser resolution or a "
                "smaller area"
            )

    def check_operations(self, n: int, what: str) -> None:
        """Refuse a builtin call that would do ``n`` element operations."""
        if n > self.limits.operations:
            raise ResourceLimitError(
                f"{what} would do {n:,} element operations; the limit is "
                f"{self.limits.operations:,} (TILES_MAX_OPERATIONS)"
            )

    def check_int(self, value: int, what: str) -> None:
        """Refuse integers of more than :data:`MAX_INT_BITS` bits."""
        if value.bit_length() > MAX_INT_BITS:
            raise ResourceLimitError(f"{what} gives an integer of more than {MAX_INT_BITS} bits")

    def check_value(self, value: Any, what: str) -> None:
        """Refuse a builtin's result that is over a limit (pixels not read yet are free)."""
        if isinstance(value, (str, bytes, list, tuple, Mapping, set)):
            self.check_elements(len(value), what)
        elif isinstance(value, int) and not isinstance(value, bool):
            self.check_int(value, what)
        elif isinstance(value, (ImageValue, CollectionValue)):
            if not value.is_lazy and not value.is_empty:
                array = value.ndarray
                self.check_bytes(array.data.nbytes + array.mask.nbytes, what)


_active: contextvars.ContextVar[Budget | None] = contextvars.ContextVar(
    "tiles_budget", default=None
)


def active() -> Budget | None:
    """The budget of the evaluation running in this thread, None outside any.

    Returns
    -------
    Budget or None
    """
    return _active.get()


def current() -> Budget:
    """The active budget, or a fresh one from the settings outside any evaluation.

    Returns
    -------
    Budget
    """
    return _active.get() or Budget()


@contextlib.contextmanager
def using(budget: Budget) -> Iterator[Budget]:
    """Make ``budget`` the active one for this thread while the block runs.

    Example
    -------
    >>> with using(Budget()) as budget:
    ...     current() is budget
    True
    """
    token = _active.set(budget)
    try:
        yield budget
    finally:
        _active.reset(token)
