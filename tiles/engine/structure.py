"""Collection structure: building, concatenating, selecting images and editing properties.

Selections (:func:`select_images` and the ``head``/``tail``/``partition``/``getitem`` built on
it, which also back ``filter`` and ``sorted``) are metadata-only: on a lazy collection they give
a lazy collection over the same source with fewer image indices, so no pixels are read.

Example::

    >>> import numpy as np
    >>> from tiles.engine.imagery import CollectionValue
    >>> ic = CollectionValue(np.ma.zeros((3, 1, 2, 2)), [{"i": 0}, {"i": 1}, {"i": 2}], {"red": {}})
    >>> [p["i"] for p in tail(ic, 2).properties]
    [1, 2]
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import numpy as np

from tiles.engine.imagery import (
    CollectionValue,
    ImageIndexError,
    ImageryError,
    ImageryTypeError,
    ImageValue,
    lazy_parts,
)
from tiles.engine.metadata import intersect_bandinfo

__all__ = [
    "concat",
    "from_images",
    "getitem",
    "group_indices",
    "head",
    "partition",
    "select_images",
    "tail",
    "window_indices",
    "with_properties",
    "without_properties",
]

Imagery = ImageValue | CollectionValue


def _check_collection(ic: Any, what: str = "argument") -> None:
    if not isinstance(ic, CollectionValue):
        raise ImageryTypeError(f"{what} must be an ImageCollection, not {type(ic).__name__}")


def select_images(ic: CollectionValue, indices: Sequence[int]) -> CollectionValue:
    """The images of ``ic`` at ``indices`` (any order, repeats and negative indices allowed).

    Stays lazy when ``ic`` is lazy. No indices gives the empty collection; an index out of range
    raises :class:`~tiles.engine.imagery.ImageIndexError`.
    """
    _check_collection(ic)
    n = len(ic)
    picked: list[int] = []
    for i in indices:
        i = int(i)
        if not -n <= i < n:
            raise ImageIndexError(f"image index {i} out of range for a collection of {n}")
        picked.append(i % n)
    if not picked:
        return CollectionValue.empty()
    properties = [ic.properties[i] for i in picked]
    if picked == list(range(n)):
        return ic
    if ic.is_lazy:
        source, src_indices, bands = lazy_parts(ic)
        return CollectionValue.lazy(
            source, [src_indices[i] for i in picked], properties, ic.bandinfo, source_bands=bands
        )
    return CollectionValue(ic.ndarray[picked], properties, ic.bandinfo)


def head(ic: CollectionValue, n: int) -> CollectionValue:
    """The first ``n`` images (all of them when ``n`` exceeds the length; none for n <= 0)."""
    _check_collection(ic)
    return select_images(ic, range(min(max(int(n), 0), len(ic))))


def tail(ic: CollectionValue, n: int) -> CollectionValue:
    """The last ``n`` images (all of them when ``n`` exceeds the length; none for n <= 0)."""
    _check_collection(ic)
    length = len(ic)
    return select_images(ic, range(length - min(max(int(n), 0), length), length))


def partition(ic: CollectionValue, i: int) -> tuple[CollectionValue, CollectionValue]:
    """``(images before index i, images from i on)``; every ``i`` is valid (slice semantics)."""
    _check_collection(ic)
    indices = list(range(len(ic)))
    return select_images(ic, indices[:i]), select_images(ic, indices[i:])


def getitem(ic: CollectionValue, index: int | slice) -> Imagery:
    """``ic[index]``: an Image for an int, a collection for a slice (both stay lazy).

    Indexing an empty collection with an int gives the empty Image; an int out of range of a
    non-empty collection raises :class:`~tiles.engine.imagery.ImageIndexError`.
    """
    _check_collection(ic)
    if isinstance(index, slice):
        return select_images(ic, list(range(len(ic)))[index])
    if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
        raise ImageryTypeError(f"image index must be an int or slice, not {type(index).__name__}")
    if ic.is_empty:
        return ImageValue.empty()
    return ic.image(int(index))


def _as_collection(x: Imagery) -> CollectionValue:
    if isinstance(x, CollectionValue):
        return x
    if x.is_empty:
        return CollectionValue.empty()
    if x.is_lazy:
        source, indices, bands = lazy_parts(x)
        return CollectionValue.lazy(source, indices, [x.properties], x.bandinfo, source_bands=bands)
    return CollectionValue(x.ndarray[np.newaxis], [x.properties], x.bandinfo)


def _join(parts: list[CollectionValue], what: str) -> CollectionValue:
    """Stack non-empty collections whose band names match as sets (aligned to the first's order)."""
    parts = [p for p in parts if not p.is_empty]
    if not parts:
        return CollectionValue.empty()
    names = parts[0].band_names
    aligned: list[CollectionValue] = []
    for part in parts:
        if set(part.band_names) != set(names) or len(part.band_names) != len(names):
            raise ImageryError(
                f"{what} needs imagery with identical band names; got {names} and {part.band_names}"
            )
        if part.band_names != names:
            from tiles.engine.bands import pick_bands

            part = pick_bands(part, names)
        aligned.append(part)
    properties = [p for part in aligned for p in part.properties]
    bandinfo = intersect_bandinfo([part.bandinfo for part in aligned])
    if len(aligned) == 1:
        only = aligned[0]
        if only.is_lazy:
            source, indices, bands = lazy_parts(only)
            return CollectionValue.lazy(source, indices, properties, bandinfo, source_bands=bands)
        return CollectionValue(only.ndarray, properties, bandinfo)
    if all(p.is_lazy for p in aligned):
        lazies = [lazy_parts(p) for p in aligned]
        source, _, bands = lazies[0]
        if all(s is source and b == bands for s, _, b in lazies):
            indices = [i for _, idx, _ in lazies for i in idx]
            return CollectionValue.lazy(source, indices, properties, bandinfo, source_bands=bands)
    arrays = [p.ndarray for p in aligned]
    shapes = {a.shape[-2:] for a in arrays}
    if len(shapes) > 1:
        raise ImageryError(f"{what} needs imagery of one pixel shape; got {sorted(shapes)}")
    return CollectionValue(np.ma.concatenate(arrays, axis=0), properties, bandinfo)


def from_images(images: Iterable[ImageValue]) -> CollectionValue:
    """An ImageCollection from Images (``wf.ImageCollection([...])``).

    Empty Images are dropped; no non-empty Image gives the empty collection. Bands are aligned
    by name (every Image needs the same band names; order follows the first). Properties are
    kept per image; bandinfo is intersected (per band, fields equal in all images).
    Stays lazy when all Images are lazy over one source and bands.
    """
    images = list(images)
    for img in images:
        if not isinstance(img, ImageValue):
            raise ImageryTypeError(
                f"an ImageCollection is built from Images, not {type(img).__name__}"
            )
    return _join([_as_collection(img) for img in images], "ImageCollection")


def concat(*values: Imagery) -> CollectionValue:
    """One ImageCollection of the images of all ``values`` (Images and ImageCollections).

    Empties are skipped; all empty gives the empty collection. All imagery needs identical band
    names (aligned by name to the first's order). Properties are concatenated; bandinfo is
    intersected per band and field. Stays lazy when every part is lazy over one source.
    """
    parts: list[CollectionValue] = []
    for value in values:
        if not isinstance(value, (ImageValue, CollectionValue)):
            raise ImageryTypeError(
                f"concat takes Images and ImageCollections, not {type(value).__name__}"
            )
        parts.append(_as_collection(value))
    return _join(parts, "concat")


def _rebuild(x: Imagery, properties: Any) -> Imagery:
    """``x`` with new properties, keeping pixels (and laziness) as they are."""
    if x.is_lazy:
        source, indices, bands = lazy_parts(x)
        if isinstance(x, ImageValue):
            return ImageValue.lazy(source, indices[0], properties, x.bandinfo, source_bands=bands)
        return CollectionValue.lazy(source, indices, properties, x.bandinfo, source_bands=bands)
    return type(x)(x.ndarray, properties, x.bandinfo)


def with_properties(x: Imagery, **properties: Any) -> Imagery:
    """New imagery with ``properties`` set (overwriting); on a collection, on every image."""
    if not isinstance(x, (ImageValue, CollectionValue)):
        raise ImageryTypeError(f"with_properties needs imagery, not {type(x).__name__}")
    if x.is_empty:
        return x
    if isinstance(x, ImageValue):
        return _rebuild(x, {**x.properties, **properties})
    return _rebuild(x, [{**p, **properties} for p in x.properties])


def without_properties(x: Imagery, *keys: str) -> Imagery:
    """New imagery without the property ``keys`` (missing keys are ignored)."""
    if not isinstance(x, (ImageValue, CollectionValue)):
        raise ImageryTypeError(f"without_properties needs imagery, not {type(x).__name__}")
    if x.is_empty:
        return x
    drop = set(keys)
    if isinstance(x, ImageValue):
        return _rebuild(x, {k: v for k, v in x.properties.items() if k not in drop})
    return _rebuild(x, [{k: v for k, v in p.items() if k not in drop} for p in x.properties])


def _hashable(key: Any) -> Hashable:
    if isinstance(key, list):
        return tuple(_hashable(k) for k in key)
    if isinstance(key, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in key.items()))
    return key


def group_indices(keys: Sequence[Any]) -> dict[Any, list[int]]:
    """Image indices grouped by key (``keys[i]`` is image ``i``'s key), in ascending key order.

    Lists in keys become tuples so they can be dict keys. Keys that cannot be compared with
    each other keep their first-seen order. No keys gives an empty dict.
    """
    groups: dict[Any, list[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(_hashable(key), []).append(i)
    try:
        return dict(sorted(groups.items(), key=lambda item: item[0]))
    except TypeError:
        return groups


def window_indices(n: int, back: int = 0, fwd: int = 0) -> list[tuple[list[int], int, list[int]]]:
    """Sliding windows over ``n`` images for ``map_window``: ``(back indices, index, fwd indices)``.

    Windows exist only where the full window fits, i.e. for indices ``back .. n-1-fwd``. A
    window longer than the collection (``back + 1 + fwd > n``) is an error unless ``n`` is 0
    (an empty collection gives no windows). Negative ``back``/``fwd`` are errors.
    """
    if back < 0 or fwd < 0:
        raise ImageryError(f"map_window back and fwd must be >= 0, got back={back}, fwd={fwd}")
    if n == 0:
        return []
    if back + 1 + fwd > n:
        raise ImageryError(
            f"map_window window of length {back + 1 + fwd} (back={back}, fwd={fwd}) is longer "
            f"than the ImageCollection ({n} images)"
        )
    return [
        (list(range(i - back, i)), i, list(range(i + 1, i + 1 + fwd))) for i in range(back, n - fwd)
    ]
