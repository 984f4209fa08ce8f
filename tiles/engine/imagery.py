"""Engine values for raster imagery: :class:`ImageValue` and :class:`CollectionValue`.

An Image is a masked array shaped ``(bands, rows, cols)``; an ImageCollection is shaped
``(images, bands, rows, cols)``. Both carry ``properties`` (a dict per image) and ``bandinfo``
(an ordered dict keyed by band name whose order *is* the band order of the array).

Values may be *lazy*: they refer to a :class:`PixelSource` plus the image indices and source band
names they still need, and read pixels only when ``ndarray`` is first asked for. Metadata-only
operations (length, properties, picking bands or images) build new lazy values over the same
source, so a read fetches only what the final value refers to.

The "Empty Image" and the empty ImageCollection have ``ndarray`` ``None``; they are produced with
:meth:`ImageValue.empty` / :meth:`CollectionValue.empty` and answer ``is_empty``.

Example::

    >>> import numpy as np
    >>> img = ImageValue(np.ma.zeros((2, 3, 3)), {"id": "a"}, {"red": {}, "nir": {}})
    >>> list(img.bandinfo), img.ndarray.shape
    (['red', 'nir'], (2, 3, 3))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from tiles.errors import WorkflowsError

__all__ = [
    "CollectionValue",
    "ImageIndexError",
    "ImageValue",
    "ImageryError",
    "ImageryTypeError",
    "PixelSource",
    "full_mask",
    "lazy_parts",
]


class ImageryError(WorkflowsError, ValueError):
    """Imagery operands are incompatible (band names, lengths, shapes) or an argument is invalid."""


class ImageryTypeError(WorkflowsError, TypeError):
    """An operation got an operand of a type or dtype it cannot work on."""


class ImageIndexError(WorkflowsError, IndexError):
    """An image index is out of range for an ImageCollection."""


@runtime_checkable
class PixelSource(Protocol):
    """Something that can read pixels of catalogued images (implemented by the catalog reader)."""

    def read(self, image_indices: Sequence[int], bands: Sequence[str]) -> np.ma.MaskedArray:
        """Return a float64 masked array shaped ``(len(image_indices), len(bands), rows, cols)``."""
        ...


def full_mask(array: Any) -> np.ma.MaskedArray:
    """Return ``array`` as a MaskedArray whose mask is a full boolean array (never ``nomask``).

    Code across the engine combines masks with ``|``; a full mask keeps that cheap and simple.
    """
    data = np.ma.getdata(array)
    mask = np.ma.getmaskarray(array)
    return np.ma.MaskedArray(data, mask=mask, copy=False)


def _copy_bandinfo(bandinfo: Mapping[str, Mapping[str, Any]] | None) -> dict[str, dict]:
    return {str(name): dict(info or {}) for name, info in (bandinfo or {}).items()}


def _read(source: PixelSource, indices: Sequence[int], bands: Sequence[str]) -> np.ma.MaskedArray:
    """Read ``indices`` x ``bands`` from ``source``, asking for each image and band only once.

    Lazy values may refer to the same image or band twice (``pick_bands("red red")``,
    ``concat(ic, ic)``); the source is spared the duplicates and they are re-expanded here.
    """
    unique_indices = list(dict.fromkeys(indices))
    unique_bands = list(dict.fromkeys(bands))
    array = full_mask(source.read(unique_indices, unique_bands))
    expected = (len(unique_indices), len(unique_bands))
    if array.ndim != 4 or array.shape[:2] != expected:
        raise ImageryError(
            f"pixel source returned shape {array.shape}, expected {expected} + (rows, cols)"
        )
    if unique_indices != list(indices):
        array = array[[unique_indices.index(i) for i in indices]]
    if unique_bands != list(bands):
        array = array[:, [unique_bands.index(b) for b in bands]]
    return array


class _PixelValue:
    """What Images and ImageCollections share: pixels read lazily from a source, or none."""

    _data: np.ma.MaskedArray | None
    _source: PixelSource | None
    bandinfo: dict[str, dict]

    @property
    def is_empty(self) -> bool:
        """True for the empty value (no pixels and nothing to read them from)."""
        return self._data is None and self._source is None

    @property
    def is_lazy(self) -> bool:
        """True while pixels have not been read from the source yet."""
        return self._data is None and self._source is not None

    @property
    def band_names(self) -> list[str]:
        """Band names in array order."""
        return list(self.bandinfo)


class ImageValue(_PixelValue):
    """One image: a ``(bands, rows, cols)`` masked array plus properties and bandinfo."""

    def __init__(
        self,
        ndarray: np.ndarray | None,
        properties: Mapping[str, Any] | None = None,
        bandinfo: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self._source: PixelSource | None = None
        self._index: int | None = None
        self._source_bands: list[str] | None = None
        if ndarray is None or np.ndim(ndarray) == 3 and np.shape(ndarray)[0] == 0:
            self._data: np.ma.MaskedArray | None = None
            self.properties: dict[str, Any] = {}
            self.bandinfo: dict[str, dict] = {}
            return
        data = full_mask(ndarray)
        if data.ndim != 3:
            raise ImageryError(
                f"an Image array must be (bands, rows, cols), got shape {data.shape}"
            )
        self.bandinfo = _copy_bandinfo(bandinfo)
        if len(self.bandinfo) != data.shape[0]:
            raise ImageryError(
                f"Image has {data.shape[0]} bands but bandinfo names {len(self.bandinfo)}: "
                f"{list(self.bandinfo)}"
            )
        self._data = data
        self.properties = dict(properties or {})

    @classmethod
    def lazy(
        cls,
        source: PixelSource,
        index: int,
        properties: Mapping[str, Any] | None,
        bandinfo: Mapping[str, Mapping[str, Any]],
        *,
        source_bands: Sequence[str] | None = None,
    ) -> ImageValue:
        """An Image whose pixels are read from ``source`` on first access to ``ndarray``.

        ``source_bands`` names the band to read for each bandinfo entry, in order; it defaults
        to the bandinfo names (it differs after renames or duplicate picks).
        """
        value = cls.__new__(cls)
        value._data = None
        value.properties = dict(properties or {})
        value.bandinfo = _copy_bandinfo(bandinfo)
        bands = list(source_bands) if source_bands is not None else list(value.bandinfo)
        if len(bands) != len(value.bandinfo):
            raise ImageryError("source_bands and bandinfo must name the same number of bands")
        if not bands:
            return cls.empty()
        value._source, value._index, value._source_bands = source, int(index), bands
        return value

    @classmethod
    def empty(cls) -> ImageValue:
        """The Empty Image: no pixels, no properties, no bands."""
        return cls(None)

    @property
    def ndarray(self) -> np.ma.MaskedArray | None:
        """The ``(bands, rows, cols)`` masked array (``None`` when empty); reads lazily once."""
        if self._data is None and self._source is not None:
            self._data = _read(self._source, [self._index], self._source_bands)[0]
        return self._data

    def __len__(self) -> int:
        """Number of bands (0 when empty)."""
        return len(self.bandinfo)

    def __repr__(self) -> str:
        if self.is_empty:
            return "ImageValue(None (Empty Image))"
        shape = "lazy" if self.is_lazy else str(self._data.shape)
        return f"ImageValue(bands={self.band_names}, shape={shape})"


class CollectionValue(_PixelValue):
    """A stack of images sharing one bandinfo: ``(images, bands, rows, cols)`` + properties list."""

    #: True for images made from a number by ``replace_empty_with``: they have no metadata at
    #: all, so the computed result lists no properties (length 0, as the API reference prints
    #: it) while operations see one image with empty properties. Never carried to derived values.
    without_metadata: bool = False

    def __init__(
        self,
        ndarray: np.ndarray | None,
        properties: Sequence[Mapping[str, Any]] | None = None,
        bandinfo: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self._source: PixelSource | None = None
        self._indices: list[int] | None = None
        self._source_bands: list[str] | None = None
        if ndarray is None or np.ndim(ndarray) == 4 and 0 in np.shape(ndarray)[:2]:
            self._data: np.ma.MaskedArray | None = None
            self.properties: list[dict[str, Any]] = []
            self.bandinfo: dict[str, dict] = {}
            return
        data = full_mask(ndarray)
        if data.ndim != 4:
            raise ImageryError(
                f"an ImageCollection array must be (images, bands, rows, cols), got {data.shape}"
            )
        self.bandinfo = _copy_bandinfo(bandinfo)
        if len(self.bandinfo) != data.shape[1]:
            raise ImageryError(
                f"ImageCollection has {data.shape[1]} bands but bandinfo names "
                f"{len(self.bandinfo)}: {list(self.bandinfo)}"
            )
        if properties is None:
            properties = [{} for _ in range(data.shape[0])]
        if len(properties) != data.shape[0]:
            raise ImageryError(
                f"ImageCollection has {data.shape[0]} images but {len(properties)} properties"
            )
        self._data = data
        self.properties = [dict(p or {}) for p in properties]

    @classmethod
    def lazy(
        cls,
        source: PixelSource,
        indices: Sequence[int],
        properties: Sequence[Mapping[str, Any]],
        bandinfo: Mapping[str, Mapping[str, Any]],
        *,
        source_bands: Sequence[str] | None = None,
    ) -> CollectionValue:
        """A collection whose pixels are read from ``source`` on first access to ``ndarray``.

        ``indices`` are the source's image indices, one per entry of ``properties``.
        ``source_bands`` is as for :meth:`ImageValue.lazy`.
        """
        if len(indices) != len(properties):
            raise ImageryError(
                f"{len(indices)} image indices but {len(properties)} properties entries"
            )
        bandinfo = _copy_bandinfo(bandinfo)
        bands = list(source_bands) if source_bands is not None else list(bandinfo)
        if len(bands) != len(bandinfo):
            raise ImageryError("source_bands and bandinfo must name the same number of bands")
        if not indices or not bands:
            return cls.empty()
        value = cls.__new__(cls)
        value._data = None
        value.properties = [dict(p or {}) for p in properties]
        value.bandinfo = bandinfo
        value._source, value._indices, value._source_bands = source, list(indices), bands
        return value

    @classmethod
    def empty(cls) -> CollectionValue:
        """The empty ImageCollection: no images, no bands."""
        return cls(None)

    @property
    def ndarray(self) -> np.ma.MaskedArray | None:
        """The ``(images, bands, rows, cols)`` masked array (``None`` when empty)."""
        if self._data is None and self._source is not None:
            self._data = _read(self._source, self._indices, self._source_bands)
        return self._data

    def __len__(self) -> int:
        """Number of images, from the properties (never reads pixels)."""
        return len(self.properties)

    def image(self, i: int) -> ImageValue:
        """The ``i``-th image (negative indices count from the end); stays lazy if this is lazy."""
        n = len(self)
        if not -n <= i < n:
            raise ImageIndexError(f"image index {i} out of range for a collection of {n}")
        i %= n
        if self.is_lazy:
            return ImageValue.lazy(
                self._source,
                self._indices[i],
                self.properties[i],
                self.bandinfo,
                source_bands=self._source_bands,
            )
        return ImageValue(self._data[i], self.properties[i], self.bandinfo)

    def __repr__(self) -> str:
        if self.is_empty:
            return "CollectionValue(empty)"
        shape = "lazy" if self.is_lazy else str(self._data.shape)
        return f"CollectionValue(len={len(self)}, bands={self.band_names}, shape={shape})"


def lazy_parts(value: ImageValue | CollectionValue) -> tuple[PixelSource, list[int], list[str]]:
    """``(source, image indices, source bands)`` of a lazy value, for metadata-only rewrites."""
    if not value.is_lazy:
        raise ImageryError("value is not lazy")
    if isinstance(value, ImageValue):
        return value._source, [value._index], list(value._source_bands)
    return value._source, list(value._indices), list(value._source_bands)


def load_together(*values: Any) -> None:
    """Read lazy values that share a source and images in one read instead of one each.

    ``(nir - red) / (nir + red)`` picks two bands of one image: reading both at once lets
    the source warp a multi-band file once. Values already read, or alone on their
    source, are left to read themselves.
    """
    groups: dict[tuple, list[ImageValue | CollectionValue]] = {}
    for value in values:
        if isinstance(value, (ImageValue, CollectionValue)) and value.is_lazy:
            source, indices, _ = lazy_parts(value)
            key = (id(source), type(value), tuple(indices))
            groups.setdefault(key, []).append(value)
    for members in groups.values():
        if len(members) < 2:
            continue
        source, indices, _ = lazy_parts(members[0])
        bands = list(dict.fromkeys(b for m in members for b in m._source_bands))
        array = _read(source, indices, bands)
        for member in members:
            picked = array[:, [bands.index(b) for b in member._source_bands]]
            member._data = picked[0] if isinstance(member, ImageValue) else picked
