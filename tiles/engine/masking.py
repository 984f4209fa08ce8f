"""Masks of imagery: applying a boolean mask and reading the mask back as a band.

Convention (as in numpy): **True = masked / invalid**.

Example::

    >>> import numpy as np
    >>> from tiles.engine.imagery import ImageValue
    >>> img = ImageValue(np.ma.arange(4.0).reshape(1, 2, 2), {}, {"red": {}})
    >>> big = ImageValue(img.ndarray > 1, {}, {"big": {}})
    >>> mask(img, big).ndarray.mask.ravel().tolist()
    [False, False, True, True]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tiles.engine.align import operand
from tiles.engine.imagery import CollectionValue, ImageryError, ImageryTypeError, ImageValue

__all__ = ["getmask", "mask"]

Imagery = ImageValue | CollectionValue


def _mask_bands(x: Imagery, m: Imagery, m_array: np.ndarray) -> np.ndarray:
    """``m_array`` with its band axis aligned to ``x``: a 1-band mask applies to every band."""
    if len(m.band_names) == 1:
        return m_array
    if set(m.band_names) != set(x.band_names):
        raise ImageryError(
            f"a mask must have one band or the same bands as the imagery; got mask bands "
            f"{m.band_names} for imagery bands {x.band_names}"
        )
    order = [m.band_names.index(n) for n in x.band_names]
    return m_array[..., order, :, :]


def mask(x: Imagery, m: Imagery, replace: bool = False) -> Imagery:
    """New imagery masked where ``m`` is True (non-zero).

    * ``replace=False``: ``m`` is OR-ed into the current mask; masked pixels of ``m`` count as
      False (they never mask ``x``).
    * ``replace=True``: the current mask is replaced by ``m``; masked pixels of ``m`` become
      masked.

    ``m`` is an Image or ImageCollection with one band (applied to every band) or the same bands
    as ``x`` (paired by name). An Image mask applies to every image of a collection; a
    collection mask needs a collection of the same length. An empty ``x`` stays empty; an empty
    ``m`` returns ``x`` unchanged. Data, properties and bandinfo of ``x`` are kept.
    """
    if not isinstance(x, (ImageValue, CollectionValue)):
        raise ImageryTypeError(f"can only mask an Image or ImageCollection, not {type(x).__name__}")
    if not isinstance(m, (ImageValue, CollectionValue)):
        raise ImageryTypeError(
            f"a mask must be an Image or ImageCollection, not {type(m).__name__}"
        )
    if x.is_empty or m.is_empty:
        return x
    if isinstance(x, ImageValue) and isinstance(m, CollectionValue):
        raise ImageryError("cannot mask an Image with an ImageCollection")
    if isinstance(m, CollectionValue) and len(m) != len(x):
        raise ImageryError(
            f"mask ImageCollection has length {len(m)} but the ImageCollection has {len(x)}"
        )
    om, ox = operand(m, "mask"), operand(x)
    if om.data.shape[-2:] != ox.data.shape[-2:]:
        raise ImageryError(
            f"mask shape {om.data.shape[-2:]} differs from imagery shape {ox.data.shape[-2:]}"
        )
    values = _mask_bands(x, m, om.data.astype(bool))
    m_mask = _mask_bands(x, m, om.mask)
    if replace:
        new_mask = values | m_mask
    else:
        new_mask = ox.mask | (values & ~m_mask)
    new_mask = np.broadcast_to(new_mask, ox.data.shape)
    array = np.ma.MaskedArray(ox.data, mask=np.array(new_mask, dtype=bool), copy=False)
    return type(x)(array, x.properties, x.bandinfo)


def getmask(x: Imagery) -> Imagery:
    """The mask as imagery with one unmasked bool band ``"mask"`` (bandinfo ``{"mask": {}}``).

    A pixel is True when it is masked in *any* band (for the usual single-band or uniformly
    masked imagery this is simply the mask). Properties are kept; an empty returns the empty.
    """
    if not isinstance(x, (ImageValue, CollectionValue)):
        raise ImageryTypeError(f"getmask needs an Image or ImageCollection, not {type(x).__name__}")
    if x.is_empty:
        return x
    band_axis = 0 if isinstance(x, ImageValue) else 1
    values: Any = np.ma.getmaskarray(x.ndarray).any(axis=band_axis, keepdims=True)
    array = np.ma.MaskedArray(values, mask=np.zeros(values.shape, dtype=bool))
    return type(x)(array, x.properties, {"mask": {}})
