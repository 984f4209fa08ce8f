"""The MaskedArray proxy: the pixel array of an Image or ImageCollection."""

from __future__ import annotations

from tiles.types.core import Proxytype


class MaskedArray(Proxytype):
    """A lazy NumPy masked array, such as an Image's ``ndarray``.

    It computes to a ``numpy.ma.MaskedArray`` (None for an empty Image): (bands, rows, cols)
    for an Image, (images, bands, rows, cols) for an ImageCollection, masked where data is
    missing.

    Example
    -------
    >>> import tiles as wf
    >>> img = wf.Image.from_id("sample:dem:santa_fe")
    >>> type(img.ndarray).__name__
    'MaskedArray'
    """

    def __init__(self) -> None:
        """Not for direct use: a MaskedArray comes from ``img.ndarray``."""
        raise TypeError("a MaskedArray comes from imagery: use img.ndarray")
