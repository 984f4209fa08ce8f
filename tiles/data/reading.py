"""Pixels from catalog images, warped into a GeoContext's grid.

:class:`CatalogSource` is the engine's pixel source for catalog imagery: it reads
``(images, bands, rows, cols)`` float64 masked arrays, rescaled from each band's
``data_range`` to its ``physical_range`` (or to [0, 1] when there is none).

How a read happens, per (image, band):

* images whose lon/lat footprint misses the GeoContext are skipped without opening a file;
* the overview level is chosen so a coarse grid (a zoomed-out tile) reads an overview
  rather than full resolution (measured once per file and grid);
* open datasets (the file at that level) are kept in a bounded pool shared by the threads,
  and each thread enters a rasterio environment once, so a read neither reopens the file
  nor sets GDAL up again, and decoded blocks stay in GDAL's block cache for neighbouring
  tiles;
* rasterio/GDAL warps the band into the grid with the requested resampler, honouring
  nodata; pixels with no data come out as NaN, which becomes the mask;
* the warped band is kept in a process-wide LRU cache bounded in bytes, keyed by file,
  band, grid and resampler, so each is read once; concurrent requests for the same key
  wait for the first instead of reading again;
* reads of different images and bands run in parallel on one shared thread pool (GDAL
  releases the GIL while it decompresses and warps).

Example::

    >>> from tiles import catalog
    >>> from tiles.geocontext import AOI
    >>> recs = catalog.search("sample:s2", "2023-06-01", "2023-07-01")
    >>> aoi = AOI(bounds=(-106.0, 35.6, -105.9, 35.7), crs="EPSG:3857", resolution=120)
    >>> src = CatalogSource(recs, catalog.product("sample:s2"), aoi, resampler="bilinear")
    >>> src.read(range(len(recs)), ["red", "nir"]).shape
    (2, 2, 93, 93)
"""

from __future__ import annotations

import json
import math
import os
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import rasterio
import rasterio.features
import shapely.geometry
from rasterio.enums import Resampling
from rasterio.errors import NotGeoreferencedWarning, RasterioIOError
from rasterio.warp import reproject, transform, transform_geom

from tiles import settings
from tiles.cache import ByteLRU
from tiles.data.records import Band, ImageRecord, Product, footprint_intersects
from tiles.engine import budget
from tiles.errors import DataError, NotFoundError, ParameterError

__all__ = [
    "CatalogSource",
    "RESAMPLERS",
    "ReadPlan",
    "plan_band_read",
    "rescale",
    "read_cache_info",
    "read_cache_stats",
    "clear_read_cache",
    "set_read_cache_size",
    "gdal_read_options",
    "is_remote",
]

# rasterio emits a spurious NotGeoreferencedWarning from reproject when several threads warp
# at once (the destination array's temporary dataset is inspected before its transform is
# set); results are unaffected, so silence exactly that warning from that module.
warnings.filterwarnings("ignore", category=NotGeoreferencedWarning, module="rasterio.warp")

#: Resampler names of the API mapped to GDAL's algorithms.
RESAMPLERS: dict[str, Resampling] = {
    "near": Resampling.nearest,
    "bilinear": Resampling.bilinear,
    "cubic": Resampling.cubic,
    "cubicspline": Resampling.cubic_spline,
    "lanczos": Resampling.lanczos,
    "average": Resampling.average,
    "mode": Resampling.mode,
    "max": Resampling.max,
    "min": Resampling.min,
    "med": Resampling.med,
    "q1": Resampling.q1,
    "q3": Resampling.q3,
}


def _http_timeout_s() -> int:
    # Seconds before a remote read gives up; a stalled server then fails a tile, not hangs it.
    return settings.HTTP_TIMEOUT.get()


def is_remote(path: str) -> bool:
    """Whether ``path`` is read through GDAL's virtual file systems (a URL or ``/vsi...``)."""
    return path.startswith("/vsi") or "://" in path


def gdal_read_options(path: str) -> dict[str, Any]:
    """GDAL configuration for opening and reading ``path`` quickly.

    Remote files (``/vsi...`` or URLs) skip directory listings entirely, read a COG's header
    in one request, merge neighbouring range requests, keep a small per-file cache and give
    up after ``$TILES_HTTP_TIMEOUT`` seconds (30); local files only skip the listing but
    still probe sidecars (external ``.ovr``/``.msk``) one by one, which is cheap on a local
    disk and keeps such files working. GDAL's block cache is ``$TILES_GDAL_CACHE_MB``.

    Parameters
    ----------
    path:
        A file path, URL or ``/vsi...`` path.

    Returns
    -------
    dict
        Options for :class:`rasterio.Env`.
    """
    options = _common_options()
    if is_remote(path):
        options.update(_REMOTE_OPEN_OPTIONS)
    return options


#: Options read when a remote file is opened: no directory listing or sidecar probes at all,
#: a COG's header and tile index in one request, a small cache per open file. (Local files
#: have the operating system's page cache.)
_REMOTE_OPEN_OPTIONS: dict[str, Any] = {
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "VSI_CACHE": True,
    "VSI_CACHE_SIZE": 8 * 2**20,
    "GDAL_INGESTED_BYTES_AT_OPEN": 65536,
}


def _common_options() -> dict[str, Any]:
    # Options read while reading (HTTP ones at each request) are the same for every file, so
    # one environment per read thread holds them; only the sidecar probing differs at open.
    timeout = _http_timeout_s()
    return {
        "GDAL_DISABLE_READDIR_ON_OPEN": "TRUE",
        "GDAL_CACHEMAX": max(1, settings.GDAL_CACHE.get() // 2**20),
        # A read spanning several compressed blocks decodes them on all cores at once.
        "GDAL_NUM_THREADS": "ALL_CPUS",
        "GDAL_HTTP_MULTIRANGE": "YES",
        "GDAL_HTTP_MERGE_CONSECUTIVE_RANGES": "YES",
        "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".tif,.tiff,.TIF,.TIFF,.jp2,.vrt",
        "GDAL_HTTP_TIMEOUT": timeout,
        "GDAL_HTTP_CONNECTTIMEOUT": min(10, timeout),
        "GDAL_HTTP_MAX_RETRY": 2,  # transient 429/5xx answers
        "GDAL_HTTP_RETRY_DELAY": 0.5,
    }


# --------------------------------------------------------------------------------------
# The read cache
# --------------------------------------------------------------------------------------


_CACHE: ByteLRU[np.ndarray] = ByteLRU(settings.READ_CACHE.get(), sizeof=lambda a: a.nbytes)


def read_cache_info() -> dict[str, int]:
    """Items, bytes, byte budget, hits and misses of the process-wide read cache."""
    stats = _CACHE.stats()
    return {"items": stats.pop("entries"), **stats}


def read_cache_stats() -> dict[str, int]:
    """The read cache's figures as every :class:`~tiles.cache.ByteLRU` gives them (``/health``)."""
    return _CACHE.stats()


def clear_read_cache() -> None:
    """Empty the read cache (and reset its counters)."""
    _CACHE.clear()


def set_read_cache_size(megabytes: float) -> None:
    """Change the read cache budget (default ``$TILES_READ_CACHE_MB`` or 128 MiB)."""
    _CACHE.resize(int(megabytes * 2**20))


# --------------------------------------------------------------------------------------
# The shared thread pool
# --------------------------------------------------------------------------------------

_POOL_PREFIX = "tiles-read"
_POOL = ThreadPoolExecutor(
    max_workers=settings.READ_THREADS.get(),
    thread_name_prefix=_POOL_PREFIX,
)


def _run_all(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run zero-argument callables on the shared pool and return their results in order."""
    if len(calls) <= 1 or threading.current_thread().name.startswith(_POOL_PREFIX):
        # Inside a pool worker, waiting on the same pool could deadlock: run inline.
        return [c() for c in calls]
    futures = [_POOL.submit(c) for c in calls]
    return [f.result() for f in futures]


# --------------------------------------------------------------------------------------
# Open datasets, shared by the threads in a bounded pool
# --------------------------------------------------------------------------------------

#: Open datasets kept while no read uses them (a file at one overview level is one dataset),
#: for all threads together. Reopening costs a header parse and drops the file's decoded
#: blocks from GDAL's block cache; an open dataset of a pixel-interleaved file holds one
#: decoded block (2 MB for 512 px, 4 bands of uint16), so the bound also bounds that memory.
IDLE_DATASETS = 16


class _ThreadEnv(threading.local):
    """A thread's rasterio environment, entered once for the thread's life."""

    env: rasterio.Env | None = None


_thread = _ThreadEnv()


def _enter_thread_env() -> None:
    if _thread.env is None:
        _thread.env = rasterio.Env(**_common_options())
        _thread.env.__enter__()


class _DatasetPool:
    """Open datasets by (path, stamp, overview level): a read takes one, uses it alone and
    gives it back; at most :data:`IDLE_DATASETS` wait between reads, the least recently used
    are closed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: OrderedDict[tuple, list[Any]] = OrderedDict()
        self._count = 0

    @contextmanager
    def use(self, path: str, stamp: tuple[int, int], overview_level: int | None) -> Iterator[Any]:
        key = (path, stamp, overview_level)
        with self._lock:
            waiting = self._idle.get(key)
            src = waiting.pop() if waiting else None
            if waiting is not None and not waiting:
                del self._idle[key]
            if src is not None:
                self._count -= 1
        if src is None:
            src = _open(path, overview_level)
        try:
            yield src
        except BaseException:
            src.close()  # the file may have changed under it: open it anew next time
            raise
        closing = []
        with self._lock:
            self._idle.setdefault(key, []).append(src)
            self._idle.move_to_end(key)
            self._count += 1
            while self._count > IDLE_DATASETS:
                old_key, old = next(iter(self._idle.items()))
                closing.append(old.pop(0))
                if not old:
                    del self._idle[old_key]
                self._count -= 1
        for old in closing:
            old.close()


def _open(path: str, overview_level: int | None) -> Any:
    _enter_thread_env()
    kwargs = {} if overview_level is None else {"overview_level": overview_level}
    if is_remote(path):
        with rasterio.Env(**_REMOTE_OPEN_OPTIONS):
            return rasterio.open(path, **kwargs)
    return rasterio.open(path, **kwargs)


_DATASETS = _DatasetPool()


# --------------------------------------------------------------------------------------
# Planning and warping one band
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _FileInfo:
    crs: Any
    transform: Any
    width: int
    height: int
    dtypes: tuple[str, ...]
    nodatavals: tuple[float | None, ...]
    overviews: tuple[tuple[int, ...], ...]


_info_lock = threading.Lock()
_info_cache: OrderedDict[tuple[str, int, int], _FileInfo] = OrderedDict()


def _file_info(path: str) -> tuple[_FileInfo, tuple[int, int]]:
    """Header facts of a raster, cached by (path, mtime, size); DataError when unreadable.

    Remote files are taken as immutable (as the assets of STAC catalogs are): cached by path.
    """
    if is_remote(path):
        stamp = (0, 0)
    else:
        try:
            st = os.stat(path)
        except OSError:
            raise DataError(f"raster file not found: {path}") from None
        stamp = (st.st_mtime_ns, st.st_size)
    key = (path, *stamp)
    with _info_lock:
        info = _info_cache.get(key)
    if info is None:
        try:
            with rasterio.Env(**gdal_read_options(path)), rasterio.open(path) as src:
                info = _FileInfo(
                    crs=src.crs,
                    transform=src.transform,
                    width=src.width,
                    height=src.height,
                    dtypes=tuple(src.dtypes),
                    nodatavals=tuple(src.nodatavals),
                    overviews=tuple(tuple(src.overviews(i)) for i in src.indexes),
                )
        except RasterioIOError as e:
            raise DataError(f"cannot read raster {path}: {e}") from e
        with _info_lock:
            _info_cache[key] = info
            while len(_info_cache) > 4096:
                _info_cache.popitem(last=False)
    return info, stamp


@dataclass(frozen=True)
class ReadPlan:
    """How one band of one file is read for a grid: which overview level (None = full res)."""

    path: str
    bidx: int
    overview_level: int | None
    overview_factor: int
    work_dtype: str


_sizes_lock = threading.Lock()
# Both remember the footprint they were computed for as text: thousands of entries holding
# GeoJSON dicts of coordinate lists were most of the objects a full garbage collection
# scans, with every thread (the server's event loop included) stopped meanwhile.
_sizes: OrderedDict[tuple, tuple[str | None, float | None]] = OrderedDict()
_shapes: OrderedDict[str, tuple[str, Any]] = OrderedDict()


def _footprint_text(footprint: dict | None) -> str | None:
    """``footprint`` as canonical text, for the caches above to compare."""
    return None if footprint is None else json.dumps(footprint, sort_keys=True)


def _footprint_shape(path: str, footprint: dict) -> Any:
    """``footprint`` as a shapely geometry, parsed once per file while it stays the same."""
    text = _footprint_text(footprint)
    with _sizes_lock:
        cached = _shapes.get(path)
    if cached is not None and cached[0] == text:
        return cached[1]
    shape = shapely.geometry.shape(footprint)
    with _sizes_lock:
        _shapes[path] = (text, shape)
        while len(_shapes) > 4096:
            _shapes.popitem(last=False)
    return shape


def _grid_pixel_size_in(
    geoctx: Any, crs: Any, footprint: dict | None, path: str = "", stamp: tuple = ()
) -> float | None:
    """Size of one output pixel measured in ``crs`` units, where grid and image meet.

    Remembered per file and grid, so the bands of a file and repeated reads measure once.
    """
    key = (path, stamp, str(crs), geoctx.cache_key)
    text = _footprint_text(footprint)
    with _sizes_lock:
        cached = _sizes.get(key)
    if cached is not None and cached[0] == text:
        return cached[1]
    size = _measure_pixel_size(geoctx, crs, footprint, path)
    with _sizes_lock:
        _sizes[key] = (text, size)
        while len(_sizes) > 4096:
            _sizes.popitem(last=False)
    return size


def _measure_pixel_size(geoctx: Any, crs: Any, footprint: dict | None, path: str) -> float | None:
    rows, cols = geoctx.arr_shape
    t = geoctx.transform
    # Measure at the middle of the part of the grid the image covers, since pixel size in a
    # different CRS varies across a large grid (think of a zoom-0 Web Mercator tile).
    col, row = cols / 2, rows / 2
    if footprint is not None:
        w, s, e, n = geoctx.bounds_lonlat
        fp = _footprint_shape(path, footprint)
        if w <= e:
            part = fp.intersection(shapely.geometry.box(w, s, e, n))
            if not part.is_empty:
                p = part.representative_point()
                xs, ys = transform("EPSG:4326", geoctx.rasterio_crs, [p.x], [p.y])
                c, r = ~t @ (xs[0], ys[0])
                if math.isfinite(c) and math.isfinite(r):
                    col, row = c, r
    pts = [t @ (col, row), t @ (col + 1, row), t @ (col, row + 1)]
    try:
        xs, ys = transform(geoctx.rasterio_crs, crs, [p[0] for p in pts], [p[1] for p in pts])
    except Exception:  # a point outside the CRS's domain: read full resolution then
        return None
    dx = math.hypot(xs[1] - xs[0], ys[1] - ys[0])
    dy = math.hypot(xs[2] - xs[0], ys[2] - ys[0])
    size = min(dx, dy)
    return size if math.isfinite(size) and size > 0 else None


def plan_band_read(path: str, bidx: int, geoctx: Any, footprint: dict | None = None) -> ReadPlan:
    """Decide how to read band ``bidx`` of ``path`` into ``geoctx``'s grid.

    Picks the coarsest internal overview whose pixels are still no larger than the
    output pixels (as ``gdalwarp`` does), so zoomed-out grids read little data.
    """
    info, stamp = _file_info(path)
    if not 1 <= bidx <= len(info.dtypes):
        raise DataError(f"{path} has no band {bidx} (it has {len(info.dtypes)})")
    dtype = np.dtype(info.dtypes[bidx - 1])
    # float32 keeps interpolated values of 8/16-bit data exactly enough; wider types need 64.
    work = "float32" if dtype.itemsize <= 2 or dtype == np.float32 else "float64"
    level, factor = None, 1
    factors = info.overviews[bidx - 1]
    if factors:
        dst = _grid_pixel_size_in(geoctx, info.crs, footprint, path, stamp)
        src_res = math.sqrt(abs(info.transform.a * info.transform.e))
        if dst is not None:
            ratio = dst / src_res
            for i, f in enumerate(factors):
                if f <= ratio * (1 + 1e-9):
                    level, factor = i, f
    return ReadPlan(path, bidx, level, factor, work)


def _warp_bands(
    plans: Sequence[ReadPlan],
    stamp: tuple[int, int],
    nodata: float | None,
    geoctx: Any,
    resampling: Resampling,
) -> np.ndarray:
    """Warp bands of one file (one overview level) into the grid in one pass.

    One warp computes the pixel mapping once for all the bands, so the bands of a
    multi-band file cost little more than one. A float ``(bands, rows, cols)`` array, NaN
    where there is no data.
    """
    first = plans[0]
    rows, cols = geoctx.arr_shape
    out = np.full((len(plans), rows, cols), np.nan, dtype=first.work_dtype)
    bidxs = [plan.bidx for plan in plans]
    try:
        with _DATASETS.use(first.path, stamp, first.overview_level) as src:
            reproject(
                rasterio.band(src, bidxs),
                out,
                src_nodata=nodata,
                dst_transform=geoctx.transform,
                dst_crs=geoctx.rasterio_crs,
                dst_nodata=np.nan,
                resampling=resampling,
                init_dest_nodata=True,
                num_threads=1,
            )
    except RasterioIOError as e:
        raise DataError(f"cannot read bands {bidxs} of {first.path}: {e}") from e
    out.setflags(write=False)  # shared through the cache
    return out


def value_range(info: Mapping[str, Any]) -> tuple[float, float] | None:
    """The range a band's pixel values are declared to span, from its bandinfo entry.

    Values read from the catalog are rescaled (see :func:`rescale`), so they span the
    band's ``physical_range``, or [0, 1] for a band that declares only a ``data_range``.

    Parameters
    ----------
    info : mapping
        One band's bandinfo (``physical_range``, ``data_range``, ...).

    Returns
    -------
    (float, float) or None
        ``(min, max)`` with min < max, or None when the band declares no usable range.

    Examples
    --------
    >>> value_range({"data_range": (0, 10000), "physical_range": (0, 1)})
    (0.0, 1.0)
    >>> value_range({"data_range": (0, 255)})
    (0.0, 1.0)
    >>> value_range({}) is None
    True
    """
    declared = info.get("physical_range")
    if declared is None and info.get("data_range") is not None:
        declared = (0.0, 1.0)
    try:
        lo, hi = (float(v) for v in declared)
    except (TypeError, ValueError):
        return None
    return (lo, hi) if np.isfinite(lo) and np.isfinite(hi) and lo < hi else None


def rescale(values: np.ndarray, band: Band, out: np.ndarray | None = None) -> np.ndarray:
    """Map stored values linearly from ``data_range`` to ``physical_range`` (or [0, 1]).

    Parameters
    ----------
    values:
        Stored values (any numeric type).
    band:
        The band whose ranges apply.
    out:
        A float64 array of ``values``' shape to write into (saves a copy), or None.

    Returns
    -------
    numpy.ndarray
        float64 values, ``out`` when given.
    """
    lo, hi = band.data_range
    plo, phi = band.physical_range if band.physical_range is not None else (0.0, 1.0)
    if out is None:
        out = np.empty(values.shape, dtype=np.float64)
    if hi == lo:
        out[...] = plo
        return out
    scale = (phi - plo) / (hi - lo)
    np.subtract(values, lo, out=out, dtype=np.float64)
    out *= scale
    out += plo
    return out


# --------------------------------------------------------------------------------------
# The pixel source
# --------------------------------------------------------------------------------------


class CatalogSource:
    """Pixels of catalog images of one product, on one GeoContext grid.

    ``read(image_indices, bands)`` gives a float64 masked array ``(images, bands, rows,
    cols)``, masked where there is no data, outside an image, or outside the GeoContext's
    cutline geometry.
    """

    def __init__(
        self,
        records: Sequence[ImageRecord],
        product: Product,
        geoctx: Any,
        resampler: str | None = "near",
    ) -> None:
        resampler = resampler or "near"
        if resampler not in RESAMPLERS:
            raise ParameterError(f"unknown resampler {resampler!r}; one of {', '.join(RESAMPLERS)}")
        self.records = list(records)
        self.product = product
        self.geoctx = geoctx
        self.resampler = resampler
        self._resampling = RESAMPLERS[resampler]
        self._cutline = getattr(geoctx, "cutline", getattr(geoctx, "geometry", None))
        self._outside: np.ndarray | None = None
        self._outside_lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.records)

    def __repr__(self) -> str:
        return (
            f"CatalogSource({len(self.records)} images of {self.product.id!r}, "
            f"resampler={self.resampler!r})"
        )

    @property
    def band_names(self) -> list[str]:
        """The product's band names in order."""
        return self.product.band_names

    def bandinfo(self) -> dict[str, dict[str, Any]]:
        """The product's bandinfo (ordered by band)."""
        return self.product.bandinfo()

    def properties(self, index: int) -> dict[str, Any]:
        """The properties of image ``index`` as an Image holds them."""
        return self.records[index].properties_dict()

    def touches(self, index: int) -> bool:
        """Whether image ``index``'s footprint meets the grid (and its cutline), per catalog."""
        return footprint_intersects(
            self.records[index].footprint, self.geoctx.bounds_lonlat, self._cutline
        )

    def _outside_cutline(self) -> np.ndarray | None:
        """Pixels outside the cutline geometry (True = outside), computed once."""
        if self._cutline is None:
            return None
        with self._outside_lock:
            if self._outside is None:
                geom = transform_geom("EPSG:4326", self.geoctx.rasterio_crs, self._cutline)
                self._outside = rasterio.features.geometry_mask(
                    [geom],
                    out_shape=tuple(self.geoctx.arr_shape),
                    transform=self.geoctx.transform,
                    all_touched=bool(getattr(self.geoctx, "all_touched", False)),
                )
            return self._outside

    def _file_of(self, rec: ImageRecord, band: Band) -> tuple[str, int]:
        try:
            return rec.files[band.name]
        except KeyError:
            raise NotFoundError(
                f"band {band.name!r} of product {self.product.id!r} has no file in image {rec.id!r}"
            ) from None

    def _file_reader(self, rec: ImageRecord, bands: list[Band]) -> Callable[[], list[np.ndarray]]:
        """Read ``bands`` of ``rec``, all stored in one file: cached bands, the rest in one warp."""
        geoctx, resampling = self.geoctx, self._resampling

        def read() -> list[np.ndarray]:
            _enter_thread_env()
            path = self._file_of(rec, bands[0])[0]
            info, stamp = _file_info(path)
            plans, keys = [], []
            for band in bands:
                plan = plan_band_read(path, self._file_of(rec, band)[1], geoctx, rec.footprint)
                plans.append(plan)
                keys.append(
                    (path, plan.bidx, stamp, band.nodata, geoctx.cache_key, self.resampler, plan)
                )
            found = [_CACHE.get(key) for key in keys]
            # Missing bands that can share one warp: same overview level, working type, nodata.
            batches: dict[tuple, list[int]] = {}
            for i, array in enumerate(found):
                if array is None:
                    band, plan = bands[i], plans[i]
                    nodata = (
                        band.nodata if band.nodata is not None else info.nodatavals[plan.bidx - 1]
                    )
                    batches.setdefault((plan.overview_level, plan.work_dtype, nodata), []).append(i)
            for (_, _, nodata), members in batches.items():
                batch = [plans[i] for i in members]
                warped = _warp_bands(batch, stamp, nodata, geoctx, resampling)
                for i, array in zip(members, warped, strict=True):
                    _CACHE.put(keys[i], array)
                    found[i] = array
            return found

        return read

    def read(self, image_indices: Sequence[int], bands: Sequence[str]) -> np.ma.MaskedArray:
        """Read ``bands`` of the images at ``image_indices``: float64 ``(n, b, rows, cols)``."""
        indices = list(image_indices)
        band_objs = [self.product.band(b) for b in bands]
        rows, cols = self.geoctx.arr_shape
        # What the read will hold (float64 data and a mask) must fit the request's budget.
        limits = budget.current()
        what = f"reading {len(band_objs)} band(s) of {len(indices)} image(s)"
        limits.check_pixels((rows, cols), what)
        limits.check_bytes(len(indices) * len(band_objs) * rows * cols * 9, what)
        data = np.zeros((len(indices), len(band_objs), rows, cols), dtype=np.float64)
        mask = np.ones(data.shape, dtype=bool)

        # One read task per (image, file): bands stored together are warped together.
        slots: list[tuple[int, list[tuple[int, Band]]]] = []
        calls: list[Callable[[], list[np.ndarray]]] = []
        for i, index in enumerate(indices):
            rec = self.records[index]
            if not self.touches(index):
                continue  # stays fully masked, and no file is opened
            by_file: dict[str, list[tuple[int, Band]]] = {}
            for j, band in enumerate(band_objs):
                # An image may scale a band its own way (a remote collection's versions).
                band = rec.band_overrides.get(band.name, band)
                by_file.setdefault(self._file_of(rec, band)[0], []).append((j, band))
            for members in by_file.values():
                slots.append((i, members))
                calls.append(self._file_reader(rec, [band for _, band in members]))

        outside = self._outside_cutline()
        for (i, members), arrays in zip(slots, _run_all(calls), strict=True):
            for (j, band), warped in zip(members, arrays, strict=True):
                invalid = np.isnan(warped, out=mask[i, j])
                if outside is not None:
                    invalid |= outside
                rescale(warped, band, out=data[i, j])
                data[i, j][invalid] = 0.0
        return np.ma.MaskedArray(data, mask=mask, fill_value=0.0)
