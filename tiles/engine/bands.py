"""Band-level operations: pick, rename, count, concatenate bands, edit bandinfo.

All of these are metadata-first: on a lazy value ``pick_bands`` and ``rename_bands`` only
rewrite which source bands are read and under which names, without reading pixels.

Example::

    >>> import numpy as np
    >>> from tiles.engine.imagery import ImageValue
    >>> img = ImageValue(np.ma.zeros((2, 1, 1)), {}, {"red": {}, "nir": {}})
    >>> pick_bands(img, "nir red red").band_names
    ['nir', 'red', 'red_1']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tiles.engine.align import empty_of, result_kind
from tiles.engine.imagery import (
    CollectionValue,
    ImageryError,
    ImageryTypeError,
    ImageValue,
    lazy_parts,
)
from tiles.engine.metadata import merge_properties, unique_names
from tiles.errors import NotFoundError

__all__ = [
    "concat_bands",
    "nbands",
    "pick_bands",
    "rename_bands",
    "select_bands",
    "with_bandinfo",
    "without_bandinfo",
]

Imagery = ImageValue | CollectionValue


def _check_imagery(x: Any, what: str = "argument") -> None:
    if not isinstance(x, (ImageValue, CollectionValue)):
        raise ImageryTypeError(
            f"{what} must be an Image or ImageCollection, not {type(x).__name__}"
        )


def select_bands(x: Imagery, positions: Sequence[int], bandinfo: Mapping[str, Mapping]) -> Imagery:
    """New value with the bands at ``positions`` (repeats allowed) under ``bandinfo``'s names.

    Stays lazy when ``x`` is lazy; properties are kept.
    """
    if not positions:
        return type(x).empty()
    if x.is_lazy:
        source, indices, bands = lazy_parts(x)
        picked = [bands[p] for p in positions]
        if isinstance(x, ImageValue):
            return ImageValue.lazy(source, indices[0], x.properties, bandinfo, source_bands=picked)
        return CollectionValue.lazy(source, indices, x.properties, bandinfo, source_bands=picked)
    data = x.ndarray
    if list(positions) != list(range(data.shape[-3])):
        data = data[..., list(positions), :, :]
    return type(x)(data, x.properties, bandinfo)


def _parse_bands(bands: str | Sequence[str]) -> list[str]:
    if isinstance(bands, str):
        return bands.split()
    return [str(b) for b in bands]


def pick_bands(x: Imagery, bands: str | Sequence[str], allow_missing: bool = False) -> Imagery:
    """New imagery with only ``bands`` (a space-separated string or a list), in the order given.

    Repeated names are suffixed ``_1``, ``_2`` ... (``"red red red"`` -> ``red red_1 red_2``).
    A name the imagery lacks raises :class:`~tiles.errors.NotFoundError` naming it, unless
    ``allow_missing``, which drops it; if nothing is left the result is empty. An empty input
    returns the empty. Bandinfo entries are copied; properties kept.
    """
    _check_imagery(x)
    names = _parse_bands(bands)
    if not names:
        raise ImageryError("pick_bands needs at least one band name")
    if x.is_empty:
        return x
    available = x.band_names
    missing = [n for n in names if n not in available]
    if missing and not allow_missing:
        raise NotFoundError(
            f"band(s) {', '.join(repr(m) for m in missing)} not found; available bands: "
            f"{', '.join(available)}"
        )
    names = [n for n in names if n in available]
    new_names = unique_names(names)
    bandinfo = {new: dict(x.bandinfo[old]) for new, old in zip(new_names, names, strict=True)}
    return select_bands(x, [available.index(n) for n in names], bandinfo)


def rename_bands(
    x: Imagery, names: Sequence[str] = (), mapping: Mapping[str, str] | None = None
) -> Imagery:
    """New imagery with bands renamed positionally (``names``) or by ``mapping`` old -> new.

    Exactly one way must be used. Positional names must match the number of bands. Renaming a
    band onto a name that another band keeps (or giving two bands the same name) is an error;
    a mapping naming a missing band raises :class:`~tiles.errors.NotFoundError`. Bandinfo
    entries move with their bands; properties are kept; an empty returns the empty.
    """
    _check_imagery(x)
    names = list(names or ())
    if names and mapping:
        raise ImageryError("rename_bands takes new names positionally or as a mapping, not both")
    if x.is_empty:
        return x
    old = x.band_names
    if mapping:
        missing = [k for k in mapping if k not in old]
        if missing:
            raise NotFoundError(
                f"cannot rename missing band(s) {', '.join(map(repr, missing))}; available "
                f"bands: {', '.join(old)}"
            )
        new = [str(mapping.get(n, n)) for n in old]
    elif names:
        if len(names) != len(old):
            raise ImageryError(
                f"rename_bands got {len(names)} names for {len(old)} bands {old}: {names}"
            )
        new = [str(n) for n in names]
    else:
        return x
    duplicates = sorted({n for n in new if new.count(n) > 1})
    if duplicates:
        raise ImageryError(
            f"renaming bands {old} to {new} would give duplicate band names {duplicates}"
        )
    bandinfo = {n: dict(x.bandinfo[o]) for n, o in zip(new, old, strict=True)}
    return select_bands(x, list(range(len(old))), bandinfo)


def nbands(x: Imagery) -> int:
    """Number of bands (0 for an empty)."""
    _check_imagery(x)
    return 0 if x.is_empty else len(x.bandinfo)


def concat_bands(a: Imagery, b: Imagery) -> Imagery:
    """Bands of ``b`` appended to those of ``a``.

    Names of ``b`` already used in ``a`` get the first free ``_N`` suffix (``_1`` normally).
    An Image with a collection is broadcast (its bands added to every image); two collections
    must be the same length. Either side empty gives the empty of the result kind. Properties
    are merged (Image with Image: keys equal in both; collection with Image: each image with
    the Image; two collections pairwise). Stays lazy when both sides are lazy over the same
    source and images.
    """
    _check_imagery(a, "first argument")
    _check_imagery(b, "second argument")
    kind = result_kind(a, b)
    if a.is_empty or b.is_empty:
        return empty_of(kind)
    names_b = unique_names(b.band_names, taken=a.band_names)
    bandinfo = {**{n: dict(i) for n, i in a.bandinfo.items()}}
    bandinfo.update({n: dict(b.bandinfo[o]) for n, o in zip(names_b, b.band_names, strict=True)})
    if kind == "collection":
        if isinstance(a, CollectionValue) and isinstance(b, CollectionValue):
            if len(a) != len(b):
                raise ImageryError(
                    f"concat_bands needs ImageCollections of the same length, got {len(a)} "
                    f"and {len(b)}"
                )
            properties = [
                merge_properties(pa, pb) for pa, pb in zip(a.properties, b.properties, strict=True)
            ]
        else:
            coll, img = (a, b) if isinstance(a, CollectionValue) else (b, a)
            properties = [merge_properties(p, img.properties) for p in coll.properties]
    else:
        properties = merge_properties(a.properties, b.properties)
    if a.is_lazy and b.is_lazy and type(a) is type(b):
        sa, ia, ba = lazy_parts(a)
        sb, ib, bb = lazy_parts(b)
        if sa is sb and ia == ib:
            if kind == "collection":
                return CollectionValue.lazy(sa, ia, properties, bandinfo, source_bands=ba + bb)
            return ImageValue.lazy(sa, ia[0], properties, bandinfo, source_bands=ba + bb)
    da, db = a.ndarray, b.ndarray
    if da.shape[-2:] != db.shape[-2:]:
        raise ImageryError(
            f"imagery has different pixel shapes {da.shape[-2:]} and {db.shape[-2:]}"
        )
    if kind == "collection":
        n = max(len(x) for x in (a, b) if isinstance(x, CollectionValue))
        if da.ndim == 3:
            da = np.ma.MaskedArray(np.broadcast_to(da.data, (n, *da.shape)),
                                   mask=np.broadcast_to(da.mask, (n, *da.shape)))  # fmt: skip
        if db.ndim == 3:
            db = np.ma.MaskedArray(np.broadcast_to(db.data, (n, *db.shape)),
                                   mask=np.broadcast_to(db.mask, (n, *db.shape)))  # fmt: skip
        return CollectionValue(np.ma.concatenate([da, db], axis=1), properties, bandinfo)
    return ImageValue(np.ma.concatenate([da, db], axis=0), properties, bandinfo)


def _band_check(x: Imagery, band: str) -> None:
    if band not in x.bandinfo:
        raise NotFoundError(f"band {band!r} not found; available bands: {', '.join(x.band_names)}")


def with_bandinfo(x: Imagery, band: str, **info: Any) -> Imagery:
    """New imagery with fields of ``band``'s info set (overwriting). Empty returns the empty."""
    _check_imagery(x)
    if x.is_empty:
        return x
    _band_check(x, band)
    bandinfo = {n: dict(i) for n, i in x.bandinfo.items()}
    bandinfo[band].update(info)
    return select_bands(x, list(range(len(bandinfo))), bandinfo)


def without_bandinfo(x: Imagery, band: str, *keys: str) -> Imagery:
    """New imagery with fields ``keys`` removed from ``band``'s info (missing keys: no-op)."""
    _check_imagery(x)
    if x.is_empty:
        return x
    _band_check(x, band)
    bandinfo = {n: dict(i) for n, i in x.bandinfo.items()}
    for key in keys:
        bandinfo[band].pop(key, None)
    return select_bands(x, list(range(len(bandinfo))), bandinfo)
