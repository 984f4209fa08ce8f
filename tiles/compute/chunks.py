"""Computing imagery over a large GeoContext window by window, with halos where needed.

A graph whose result is an Image or ImageCollection and whose every operation is
*pixel-local* (each output pixel depends only on the input pixels at the same place, or
within :data:`~tiles.graft.analysis.HALO_PIXELS` of it for convolutions and non-nearest
resampling) gives the same pixels whether computed at once or in windows. Such graphs are
evaluated window by window (:func:`evaluate_imagery`) so the working memory is that of one
window, whatever the size of the GeoContext.

Three rules keep windows identical to one big read:

* every window searches the catalog with the *whole* GeoContext's lon/lat bounds, so each
  window sees the same images, in the same order, with the same properties (``length``,
  ``head``, property filters and metadata merges agree across windows);
* graphs that need neighbours are evaluated on the window grown by the halo, then cropped;
  their whole-grid computation does the same (``geoctx.buffered(halo)``, cropped), so tiles
  and windows join without seams; the GeoContext's cutline is applied after cropping;
* graphs containing anything not known to be pixel-local (reductions over ``pixels`` or
  over everything, ``ndarray`` access, groupby, vector ops, value lookups, ...) are never
  split: they are computed on the whole grid (:func:`is_pixel_local` says why).

Memory bound: besides the result itself (``bands x rows x cols`` values plus a one-byte
mask per value), a chunked computation holds the working set of one window of at most
``chunk_side() ** 2`` pixels (default 1024 x 1024) grown by the halo: that is, the same as
computing a 1024 x 1024 GeoContext.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from tiles import display, settings
from tiles.engine import CollectionValue, ImageValue
from tiles.geocontext import AOI, GeoContext

#: Default side in pixels of the square windows of a chunked computation.
DEFAULT_CHUNK_SIDE = 1024

#: Builtins whose output at a pixel depends only on inputs at that pixel (or on metadata).
PIXEL_LOCAL = frozenset(
    {
        "wf.Image.load", "wf.ImageCollection.from_id", "wf.ImageCollection.from_images",
        "wf.pick_bands", "wf.pick_bands_list", "wf.rename_bands", "wf.rename_bands_positionally",
        "wf.with_bandinfo", "wf.without_bandinfo", "wf.with_properties", "wf.without_properties",
        "wf.concat_bands", "wf.concat", "wf.nbands", "wf.length", "wf.Float.cast", "wf.Int.cast",
        "wf.list", "wf.tuple", "wf.dict.create", "wf.dict.from_pairs", "wf.dict.items",
        "wf.dict.keys", "wf.dict.values", "wf.filter", "wf.sorted", "wf.reversed", "wf.get",
        "wf.contains", "wf.ifelse", "wf.range", "wf.zip", "wf.Slice.create", "wf.Ellipsis",
        "wf.ImageCollection.head", "wf.ImageCollection.tail", "wf.ImageCollection.partition",
        "wf.ImageCollection.sortby_composite", "wf.ImageCollection.map_window",
        "wf.ImageCollection.map_window_ic", "wf.ImageCollection.replace_empty_with",
        "wf.Image.replace_empty_with", "wf.map", "wf.map_bands", "wf.map_bands_imagery",
        "wf.map_imagery", "wf.mosaic", "wf.getmask", "wf.mask", "wf.where", "wf.clip_values",
        "wf.scale_values", "wf.colormap", "wf.conv2d", "wf.Kernel.load",
        "wf.add", "wf.sub", "wf.mul", "wf.div", "wf.truediv", "wf.floordiv", "wf.mod",
        "wf.divmod", "wf.pow", "wf.square", "wf.neg", "wf.pos", "wf.abs", "wf.invert",
        "wf.lshift", "wf.rshift", "wf.eq", "wf.ne", "wf.lt", "wf.le", "wf.gt", "wf.ge",
        "wf.and", "wf.or", "wf.xor", "wf.log", "wf.log2", "wf.log10", "wf.log1p", "wf.sqrt",
        "wf.exp", "wf.cos", "wf.sin", "wf.tan", "wf.arccos", "wf.arcsin", "wf.arctan",
        "wf.arctan2", "wf.debugging.sleep",
    }
)  # fmt: skip
#: Metadata-only families (dates, strings, constants): no pixels involved.
PIXEL_LOCAL_PREFIXES = ("wf.datetime.", "wf.timedelta.", "wf.constants.", "wf.Str.")
#: Reductions: pixel-local only when their axis leaves the pixel axes alone.
REDUCTIONS = frozenset(f"wf.{op}" for op in display.REDUCTIONS)
LOCAL_AXES = frozenset({"images", "bands"})


def chunk_side() -> int:
    """Window side in pixels: ``$TILES_CHUNK_SIDE``, else :data:`DEFAULT_CHUNK_SIDE`."""
    return settings.CHUNK_SIDE.get()


# -- deciding ------------------------------------------------------------------------------


def is_pixel_local(graft: dict) -> tuple[bool, str]:
    """Whether every operation in ``graft`` is pixel-local; otherwise the first that is not.

    >>> g = {"0": "sample:dem", "1": ["wf.Image.load", "0"], "2": "pixels",
    ...      "3": ["wf.mean", "1", {"axis": "2"}], "returns": "3"}
    >>> is_pixel_local(g)
    (False, "wf.mean over axis 'pixels'")
    """
    for body, scope in _scopes(graft):
        names = {k for b in scope for k in b} | {p for b in scope for p in b.get("parameters", ())}
        for expr in body.values():
            if not (isinstance(expr, list) and expr and isinstance(expr[0], str)):
                continue
            name, *args = expr
            if name in names:
                continue  # a function defined in the graft: its body is walked too
            kwargs = args.pop() if args and isinstance(args[-1], dict) else {}
            if name in REDUCTIONS or name == "wf.reduction":
                position = 2 if name == "wf.reduction" else 1
                key = kwargs.get("axis", args[position] if len(args) > position else None)
                axis = _literal(key, scope) if key is not None else None
                if not _local_axis(axis):
                    return False, f"{name} over axis {axis!r}"
            elif name.startswith("wf.numpy."):
                if not isinstance(getattr(np, name[len("wf.numpy.") :], None), np.ufunc):
                    return False, name  # numpy functions that are not element-wise
            elif name == "wf.getattr":
                attr = _literal(args[1], scope) if len(args) > 1 else None
                if attr == "ndarray":
                    return False, "ndarray access"
            elif name not in PIXEL_LOCAL and not name.startswith(PIXEL_LOCAL_PREFIXES):
                return False, name
    return True, ""


def _local_axis(axis: Any) -> bool:
    if isinstance(axis, str):
        return axis in LOCAL_AXES
    if isinstance(axis, list) and axis:
        return all(isinstance(a, str) and a in LOCAL_AXES for a in axis)
    return False


_UNKNOWN = object()


def _literal(key: Any, scope: tuple[dict, ...]) -> Any:
    """The literal bound to ``key`` in the nearest scope (quoted lists unwrapped)."""
    if not isinstance(key, str):
        return _UNKNOWN
    for body in scope:
        if key in body.get("parameters", ()):
            return _UNKNOWN
        if key in body and key not in ("returns", "parameters"):
            value = body[key]
            if isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
                return value[0]  # a quoted JSON list
            if isinstance(value, (str, int, float)) or value is None:
                return value
            return _UNKNOWN
    return _UNKNOWN


def _scopes(graft: dict) -> Iterator[tuple[dict, tuple[dict, ...]]]:
    stack: list[tuple[dict, tuple[dict, ...]]] = [(graft, (graft,))]
    while stack:
        body, scope = stack.pop()
        yield body, scope
        for value in body.values():
            if isinstance(value, dict) and "returns" in value:
                stack.append((value, (value, *scope)))


# -- windows -------------------------------------------------------------------------------


class WindowContext(AOI):
    """A window of a larger GeoContext's grid that searches the catalog like the whole.

    Its pixel grid is the window's; its ``bounds_lonlat`` (what ``from_id`` searches with)
    is the whole context's, so every window sees the same images.
    """

    @classmethod
    def create(
        cls,
        whole: GeoContext,
        row: int,
        col: int,
        rows: int,
        cols: int,
        cutline: dict | None,
    ) -> WindowContext:
        """The window at ``(row, col)`` of size ``rows x cols`` of ``whole``'s grid."""
        minx, res, _, maxy, _, _ = whole.gdal_geotrans
        x0, y0 = minx + col * res, maxy - row * res
        geotrans = (x0, res, 0.0, y0, 0.0, -res)
        grid = GeoContext.from_dict(
            {"crs": whole.crs, "gdal_geotrans": geotrans, "arr_shape": (rows, cols)}
        )
        window = object.__new__(cls)
        # Same fields as the grid-exact AOI, plus the whole context's cutline geometry.
        window._set(**{name: getattr(grid, name) for name in cls._FIELDS} | {
            "geometry": cutline,
            "all_touched": whole.all_touched,
        })  # fmt: skip
        object.__setattr__(window, "_grid", (geotrans, (rows, cols)))
        object.__setattr__(window, "_search_bounds", whole.bounds_lonlat)
        return window

    @property
    def bounds_lonlat(self) -> tuple[float, float, float, float]:
        """The whole context's lon/lat bounds (for catalog searches)."""
        return self._search_bounds


def is_split(geoctx: GeoContext) -> bool:
    """Whether ``geoctx``'s grid spans more than one window."""
    rows, cols = geoctx.arr_shape
    return max(rows, cols) > chunk_side()


def windows(shape: tuple[int, int], side: int) -> Iterator[tuple[int, int, int, int]]:
    """``(row, col, rows, cols)`` of square windows covering ``shape`` row by row."""
    rows, cols = shape
    for r in range(0, rows, side):
        for c in range(0, cols, side):
            yield r, c, min(side, rows - r), min(side, cols - c)


# -- evaluating ----------------------------------------------------------------------------


class _Inconsistent(Exception):
    """Windows disagree on metadata: the graph cannot be split after all."""


def evaluate_imagery(
    graft: dict,
    geoctx: GeoContext,
    arguments: Mapping[str, Any],
    *,
    halo: int = 0,
    side: int | None = None,
    progress: Any = None,
) -> Any:
    """Evaluate a pixel-local imagery graph window by window (one window when it fits).

    ``halo`` pixels are added around every window (and around the whole grid when it is
    one window) and cropped afterwards. ``progress(done, total)`` is called after each
    window. Falls back to one evaluation on the whole grid if windows disagree on metadata.
    """
    from tiles.compute.evaluation import evaluate

    side = side or chunk_side()
    rows, cols = geoctx.arr_shape
    cutline = geoctx.cutline
    search = geoctx.buffered(halo) if halo else geoctx
    parts = list(windows((rows, cols), side))
    if len(parts) == 1 and not halo:
        return evaluate(graft, geoctx, arguments)
    out = _Assembly(rows, cols)
    try:
        for i, (r, c, h, w) in enumerate(parts, start=1):
            value = evaluate_window((r, c, h, w), graft, search, arguments, halo, cutline)
            out.add(value, r, c, halo)
            if progress is not None:
                progress(i, len(parts))
    except _Inconsistent:
        return (
            _crop(evaluate(graft, search, arguments), halo, geoctx)
            if halo
            else evaluate(graft, geoctx, arguments)
        )
    value = out.value()
    return _apply_cutline(value, geoctx) if halo and cutline is not None else value


def evaluate_window(
    window: tuple[int, int, int, int],
    graft: dict,
    search: GeoContext,
    arguments: Mapping[str, Any],
    halo: int,
    cutline: dict | None,
) -> Any:
    """Evaluate ``graft`` over one window of ``search``, ``halo`` pixels wider on every side.

    Parameters
    ----------
    window:
        ``(row, col, rows, cols)`` of the window in ``search`` (without the halo).
    graft, arguments:
        What to evaluate, with which parameter values.
    search:
        The grid the windows divide (the request's, widened by the halo).
    halo:
        Pixels added on every side (the caller crops them).
    cutline:
        The request's cutline; ignored with a halo (applied after assembling instead).

    Returns
    -------
    Any
        The engine value of the window.
    """
    from tiles.compute.evaluation import evaluate

    r, c, h, w = window
    ctx = WindowContext.create(search, r, c, h + 2 * halo, w + 2 * halo, None if halo else cutline)
    return evaluate(graft, ctx, arguments)


def _crop(value: Any, halo: int, geoctx: GeoContext) -> Any:
    if isinstance(value, (ImageValue, CollectionValue)) and not value.is_empty:
        array = value.ndarray[..., halo:-halo, halo:-halo]
        value = type(value)(array, value.properties, value.bandinfo)
        return _apply_cutline(value, geoctx) if geoctx.cutline is not None else value
    return value


def _apply_cutline(value: Any, geoctx: GeoContext) -> Any:
    """Mask pixels outside ``geoctx``'s cutline (after a halo computation dropped it)."""
    import rasterio.features
    from rasterio.warp import transform_geom

    if not isinstance(value, (ImageValue, CollectionValue)) or value.is_empty:
        return value
    geom = transform_geom("EPSG:4326", geoctx.rasterio_crs, geoctx.cutline)
    outside = rasterio.features.geometry_mask(
        [geom], out_shape=tuple(geoctx.arr_shape), transform=geoctx.transform,
        all_touched=bool(geoctx.all_touched),
    )  # fmt: skip
    array = value.ndarray
    masked = np.ma.MaskedArray(np.ma.getdata(array), mask=np.ma.getmaskarray(array) | outside)
    return type(value)(masked, value.properties, value.bandinfo)


class _Assembly:
    """Collects window results into whole-grid arrays, checking their metadata agree."""

    def __init__(self, rows: int, cols: int) -> None:
        self.shape = (rows, cols)
        self.kind: type | None = None
        self.empty: bool | None = None
        self.data: np.ndarray | None = None
        self.mask: np.ndarray | None = None
        self.properties: Any = None
        self.bandinfo: dict | None = None
        self.without_metadata = False

    def add(self, value: Any, row: int, col: int, halo: int) -> None:
        if not isinstance(value, (ImageValue, CollectionValue)):
            raise _Inconsistent()
        if self.kind is None:
            self.kind, self.empty = type(value), value.is_empty
            self.properties, self.bandinfo = value.properties, value.bandinfo
            self.without_metadata = getattr(value, "without_metadata", False)
        if type(value) is not self.kind or value.is_empty != self.empty:
            raise _Inconsistent()
        if self.empty:
            return
        if list(value.bandinfo) != list(self.bandinfo) or len(value.properties) != len(
            self.properties
        ):
            raise _Inconsistent()
        array = value.ndarray
        if halo:
            array = array[..., halo:-halo, halo:-halo]
        data, mask = np.ma.getdata(array), np.ma.getmaskarray(array)
        if self.data is None:
            full = (*data.shape[:-2], *self.shape)
            self.data = np.zeros(full, dtype=data.dtype)
            self.mask = np.ones(full, dtype=bool)
        elif data.dtype != self.data.dtype:
            self.data = self.data.astype(np.result_type(self.data.dtype, data.dtype))
        h, w = data.shape[-2:]
        self.data[..., row : row + h, col : col + w] = data
        self.mask[..., row : row + h, col : col + w] = mask

    def value(self) -> Any:
        if self.empty:
            return self.kind.empty()
        array = np.ma.MaskedArray(self.data, mask=self.mask)
        value = self.kind(array, self.properties, self.bandinfo)
        if self.without_metadata:
            value.without_metadata = True
        return value
