"""Sums of float64 values that do not depend on their order: exact, mergeable, correctly rounded.

A pixel reduction (``sum``, ``mean``, ``std`` over ``"pixels"``) adds millions of values;
ordinary floating-point addition rounds at each step, so the result depends on the order
and on how the pixels were split into windows or blocks. :class:`ExactSum` keeps the sum
exactly, as an integer multiple of the smallest float64 step (2**-1074), so partial sums
of any split merge into the same total, and :meth:`ExactSum.mean` rounds only once. A
reduction computed at once, window by window, or block by block on a Dask cluster therefore
gives the same float, bit for bit.

Example
-------
>>> total = ExactSum.of(np.array([1e16, 1.0, -1e16]))
>>> float(sum([1e16, 1.0, -1e16])), total.value()
(0.0, 1.0)
"""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import numpy as np

_MANTISSA_BITS = 53
_SMALLEST_EXPONENT = -1074
_SPLIT = 26  # mantissas are summed in two halves whose partial sums stay exact in float64
_MAX_BATCH = 1 << 26  # values per batch, so each half's sum stays below 2**53


@dataclasses.dataclass
class ExactSum:
    """The exact sum and count of finite float64 values.

    ``total`` is the sum in units of 2**-1074 (a Python integer, so it never overflows).
    """

    total: int = 0
    count: int = 0

    @classmethod
    def of(cls, values: np.ndarray) -> ExactSum:
        """The exact sum of ``values`` (any shape; converted to float64).

        Parameters
        ----------
        values:
            Finite numbers.

        Returns
        -------
        ExactSum
        """
        out = cls()
        flat = np.asarray(values, dtype=np.float64).ravel()
        for start in range(0, flat.size, _MAX_BATCH):
            out.add(flat[start : start + _MAX_BATCH])
        return out

    def add(self, values: np.ndarray) -> None:
        """Add at most 2**26 finite float64 values exactly."""
        if values.size == 0:
            return
        fraction, exponent = np.frexp(values)
        mantissa = np.ldexp(fraction, _MANTISSA_BITS).astype(np.int64)  # exact: 53 bits
        exponent = exponent.astype(np.int64) - _MANTISSA_BITS - _SMALLEST_EXPONENT
        high, low = mantissa >> _SPLIT, mantissa & ((1 << _SPLIT) - 1)
        shifts, index = np.unique(exponent, return_inverse=True)
        # Float sums of integers below 2**53 are exact.
        highs = np.bincount(index, weights=high, minlength=len(shifts))
        lows = np.bincount(index, weights=low, minlength=len(shifts))
        for shift, h, lo in zip(shifts.tolist(), highs.tolist(), lows.tolist(), strict=True):
            units = (int(h) << _SPLIT) + int(lo)
            # Subnormals have shift < 0; their mantissas are multiples of 2**-shift.
            self.total += units << shift if shift >= 0 else units >> -shift
        self.count += int(values.size)

    def merge(self, other: ExactSum) -> ExactSum:
        """This sum plus ``other`` (also exact)."""
        return ExactSum(self.total + other.total, self.count + other.count)

    def value(self) -> float:
        """The sum, rounded once to the nearest float64."""
        return float(Fraction(self.total, 1 << -_SMALLEST_EXPONENT))

    def mean(self) -> float:
        """The mean, rounded once to the nearest float64 (NaN for no values)."""
        if self.count == 0:
            return math.nan
        return float(Fraction(self.total, self.count << -_SMALLEST_EXPONENT))


def std(values: ExactSum, squares: ExactSum) -> float:
    """The population standard deviation from the exact sums of the values and of their
    squares (each square rounded as numpy rounds it): the variance is computed exactly from
    the two sums and rounded once, so any split of the values gives the same float.

    Parameters
    ----------
    values, squares:
        :class:`ExactSum` of the values and of ``values * values``.

    Returns
    -------
    float
        NaN for no values.
    """
    if values.count == 0:
        return math.nan
    unit = 1 << -_SMALLEST_EXPONENT
    mean = Fraction(values.total, unit * values.count)
    variance = Fraction(squares.total, unit * squares.count) - mean * mean
    return math.sqrt(max(0.0, float(variance)))


def exact_reduce(op: str, values: np.ndarray) -> float:
    """``sum``, ``mean`` or ``std`` (population) of finite values, independent of order.

    Parameters
    ----------
    op:
        ``"sum"``, ``"mean"`` or ``"std"``.
    values:
        The unmasked values.

    Returns
    -------
    float
        NaN for ``mean``/``std`` of no values; numpy's answer when a value is NaN or infinite.
    """
    values = np.asarray(values, dtype=np.float64)
    if not np.isfinite(values).all():
        return float(getattr(np, op)(values))
    total = ExactSum.of(values)
    if op == "sum":
        return total.value()
    if op == "mean":
        return total.mean()
    return std(total, ExactSum.of(values * values))
