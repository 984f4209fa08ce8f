"""The tile service: layer store, caches, work queue and logs, wired together without HTTP.

Handlers parse requests and call :class:`TileService`; the service decides what to
compute, where results are cached, and what runs on the worker pool.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import threading
import time
from collections.abc import Hashable
from typing import Any

from rasterio.crs import CRS
from rasterio.warp import transform as transform_points

from tiles import settings
from tiles.cache import ByteLRU
from tiles.compute import distributed
from tiles.data.reading import read_cache_stats
from tiles.display import DisplayOptions
from tiles.engine import legend, render
from tiles.geocontext import XYZTile
from tiles.server import logs, pipeline
from tiles.server.heap import HeapTrimmer
from tiles.server.layers import Layer, LayerStore
from tiles.server.looplag import LoopLag
from tiles.server.query import TileQuery
from tiles.server.shared_cache import SharedCache, decode_tile_data, encode_tile_data
from tiles.server.workqueue import WorkQueue

_MB = 1024 * 1024


@dataclasses.dataclass(frozen=True)
class BandFacts:
    """The bands a layer's tiles show, found from one pixel.

    Attributes
    ----------
    bands : list of str
        Their names.
    ranges : list of (float, float) or None
        Each band's declared value range, None where it declares none.
    """

    bands: list[str]
    ranges: list[tuple[float, float] | None]


#: How long a layer's source footprint (for TileJSON bounds) is reused before asking the
#: catalog again; images added to the catalog show up after at most this long.
FOOTPRINT_TTL_SECONDS = 60.0
#: How long the catalog version of a layer's sources is reused before asking again: tiles
#: of images added to the catalog are computed anew after at most this long.
DATA_VERSION_TTL_SECONDS = 2.0
MAX_ZOOM = 22
#: Threads doing the blocking work the event loop must never wait on: SQLite stores, the
#: catalog (a remote one included), files and large request bodies. They mostly wait.
IO_WORKERS = 8
#: How much lower than the event loop's the tile computation threads' priority is (nice).
COMPUTE_NICENESS = 5


class TileService:
    """Compute and render tiles for registered layers, with caching and de-duplication."""

    def __init__(
        self,
        layers: LayerStore,
        workers: int | None = None,
        max_pending: int | None = None,
        array_cache_bytes: int | None = None,
        png_cache_bytes: int | None = None,
        tile_timeout: float | None = None,
        shared: SharedCache | None = None,
    ) -> None:
        self.layers = layers
        #: The tile cache shared with other processes (Redis or a folder), None without
        #: ``TILES_CACHE``.
        self.shared = shared
        if shared is None and settings.CACHE.get():
            self.shared = SharedCache.from_url(settings.CACHE.get())
        self._data_versions: dict[str, tuple[float, int]] = {}
        #: Seconds a request waits for its computation before answering 504; the work goes
        #: on and its result is cached for the next request.
        self.tile_timeout = (
            tile_timeout if tile_timeout is not None else settings.TILE_TIMEOUT.get()
        )
        # Tile computation runs a little below the event loop's priority, so that on busy
        # cores the loop gets its turn soon and /health, cache hits and new requests answer.
        self.queue = WorkQueue(workers, max_pending, budgeted=True, niceness=COMPUTE_NICENESS)
        self.io = WorkQueue(IO_WORKERS, 32 * IO_WORKERS, name="io")
        self.arrays: ByteLRU[pipeline.TileData] = ByteLRU(
            array_cache_bytes if array_cache_bytes is not None else settings.ARRAY_CACHE.get(),
            sizeof=lambda d: d.nbytes,
        )
        self.pngs: ByteLRU[bytes] = ByteLRU(
            png_cache_bytes if png_cache_bytes is not None else settings.PNG_CACHE.get(),
            sizeof=len,
        )
        self.logbook = logs.LogBook()
        self.computed = 0  # tile computations actually run (not cache hits or joins)
        self._count_lock = threading.Lock()
        self._footprints: dict[str, tuple[float, Any]] = {}
        #: Band names and declared ranges of layers (with their arguments), found once for
        #: TileJSON legends.
        self.band_facts: ByteLRU[BandFacts | None] = ByteLRU(
            256 * 1024, sizeof=lambda facts: 64 + len(repr(facts))
        )
        #: How late the event loop runs callbacks; started by whoever runs the loop.
        self.loop_lag = LoopLag()
        #: Returns freed heap memory to the system; started by ``serve`` (not in a notebook).
        self.heap = HeapTrimmer()
        logs.install_capture()

    # -- keys ------------------------------------------------------------------------------

    def layer_for_tiles(self, layer_id: str) -> tuple[Layer, int]:
        """The layer and the catalog version of what it reads (asks the layer store and the
        catalog: runs on the I/O pool)."""
        layer = self.layers.get(layer_id)
        return layer, self.data_version(layer)

    @staticmethod
    def compute_key(layer: Layer, data_version: int, q: TileQuery, tile: XYZTile) -> tuple:
        """Identity of a tile's pixels: what is computed (and the catalog version of the
        products it reads, from :meth:`data_version`), never how it is shown."""
        return (
            layer.graft_hash,
            data_version,
            q.arguments_key,
            tile.z,
            tile.x,
            tile.y,
            q.display.reduction,
            q.bands,
            q.image_date,
        )

    @staticmethod
    def png_key(compute_key: tuple, q: TileQuery) -> tuple:
        """Identity of an encoded tile: its pixels and its look."""
        return (*compute_key, q.render_key)

    # -- work run on the pool --------------------------------------------------------------

    def compute_job(
        self, layer: Layer, q: TileQuery, tile: XYZTile, key: Hashable
    ) -> pipeline.TileData:
        """Compute one tile's pixels and cache them (runs on a worker thread)."""

        def compute() -> pipeline.TileData:
            with self._count_lock:
                self.computed += 1
            with logs.capturing(
                self.logbook, layer.id, q.session_id, layer.log_level, (tile.z, tile.x, tile.y)
            ):
                return pipeline.compute_tile(
                    layer.graft, q.arguments, tile, q.display.reduction, q.bands, q.image_date
                )

        if self.shared is None:
            data = compute()
        else:  # another process may have it, or be computing it
            data = self.shared.get_or_compute(
                "array", key, compute, encode_tile_data, decode_tile_data
            )
        self.arrays.put(key, data)
        return data

    def render_job(
        self, layer: Layer, q: TileQuery, tile: XYZTile, data: pipeline.TileData, key: Hashable
    ) -> bytes:
        """Render and encode one tile and cache the PNG (runs on a worker thread).

        Bands without scales are stretched by their declared ranges, the same in every
        tile; the checkerboard shows only inside the sources' footprint.
        """
        look = q.display
        inside = self.inside_footprint(layer, tile) if look.checkerboard else None
        with logs.capturing(self.logbook, layer.id, q.session_id, layer.log_level):
            png = render.render_png(
                data.array,
                look.scales,
                look.colormap,
                look.checkerboard,
                ranges=data.ranges,
                inside=inside,
            )
        self.pngs.put(key, png)
        if self.shared is not None:
            self.shared.put("png", key, png)
        return png

    def shared_png(self, key: Hashable) -> bytes | None:
        """The PNG another process rendered and left in the shared cache, else None (blocks on
        the shared store: run it off the IOLoop)."""
        png = None if self.shared is None else self.shared.get("png", key)
        if png is not None:
            self.pngs.put(key, png)
        return png

    def data_version(self, layer: Layer) -> int:
        """The catalog version of what the layer reads, looked up at most every
        :data:`DATA_VERSION_TTL_SECONDS`; images added, replaced or removed change it."""
        now = time.monotonic()
        cached = self._data_versions.get(layer.graft_hash)
        if cached is not None and now - cached[0] < DATA_VERSION_TTL_SECONDS:
            return cached[1]
        version = pipeline.data_version(pipeline.graft_facts(layer.graft))
        self._data_versions[layer.graft_hash] = (now, version)
        return version

    def inside_footprint(self, layer: Layer, tile: XYZTile) -> Any:
        """The pixels of ``tile`` inside the layer's sources' footprint.

        Parameters
        ----------
        layer : Layer
            The layer.
        tile : XYZTile
            The tile.

        Returns
        -------
        numpy.ndarray or None
            (rows, cols) booleans; None when the footprint is not known.
        """
        shape = self.footprint(layer)
        if shape is None or shape.is_empty:
            return None
        return pipeline.footprint_mask(shape, tile)

    def value_job(self, layer: Layer, q: TileQuery, x: float, y: float) -> dict[str, Any]:
        """Pixel values under an EPSG:3857 point (runs on a worker thread)."""
        with logs.capturing(self.logbook, layer.id, q.session_id, layer.log_level):
            return pipeline.value_at(
                layer.graft, q.arguments, x, y, q.display.reduction, q.bands, q.image_date
            )

    def band_facts_job(self, layer: Layer, q: TileQuery, key: Hashable) -> BandFacts | None:
        """Names and declared ranges of the bands the layer's tiles show, from one pixel.

        Runs on a worker thread; the answer is cached under ``key``. None when the sources'
        footprint is unknown or the layer computes an empty image there.
        """
        shape = self.footprint(layer)
        facts = None
        if shape is not None and not shape.is_empty:
            point = shape.representative_point()
            (x,), (y,) = transform_points("EPSG:4326", "EPSG:3857", [point.x], [point.y])
            with logs.capturing(self.logbook, layer.id, q.session_id, layer.log_level):
                data, _ = pipeline.point_data(
                    layer.graft, q.arguments, x, y, q.display.reduction, q.bands, q.image_date
                )
            if data.bandnames:
                facts = BandFacts(list(data.bandnames), list(data.ranges))
        self.band_facts.put(key, facts)
        return facts

    @staticmethod
    def legend_png(display: DisplayOptions, label: str | None) -> bytes:
        """The colorbar legend of a 1-band colormapped look (runs on a worker thread)."""
        pair = display.scales[0] if display.scales else None
        scale = None if pair is None or None in pair else (float(pair[0]), float(pair[1]))
        return legend.colorbar_legend_png(display.colormap, scale, label)

    # -- cheap answers on the IOLoop -------------------------------------------------------

    @staticmethod
    @functools.lru_cache(maxsize=1)
    def transparent_png() -> bytes:
        """The encoded tile outside every source: transparent (computed once per process)."""
        return render.render_png(None, checkerboard=False)

    @staticmethod
    @functools.lru_cache(maxsize=32)
    def colorbar_png(name: str) -> bytes:
        """A 256x12 legend strip of a colormap."""
        return render.encode_png(render.colorbar(name))

    @staticmethod
    def tile_has_no_data(layer: Layer, tile: XYZTile) -> bool:
        """True when the catalog shows no source of the layer under the tile."""
        facts = pipeline.graft_facts(layer.graft)
        return pipeline.sources_intersect(facts, tile.bounds_lonlat) is False

    def footprint(self, layer: Layer) -> Any:
        """The layer's sources' lon/lat footprint (shapely), or None when unknown."""
        now = time.monotonic()
        cached = self._footprints.get(layer.graft_hash)
        if cached is not None and now - cached[0] < FOOTPRINT_TTL_SECONDS:
            return cached[1]
        facts = pipeline.graft_facts(layer.graft)
        shape = pipeline.footprint_lonlat(facts)
        self._footprints[layer.graft_hash] = (now, shape)
        return shape

    @staticmethod
    def legend(
        display: DisplayOptions, facts: BandFacts | None, colorbar_url: str | None
    ) -> dict[str, Any]:
        """The ``legend`` member of TileJSON (its fields are documented in README).

        Parameters
        ----------
        display:
            The look tiles are drawn with.
        facts:
            Names and declared ranges of the bands tiles show, None when unknown.
        colorbar_url:
            Where the colorbar PNG of this look is served.

        Returns
        -------
        dict
            ``colormap``, ``scales`` (the stretch tiles use, per band), ``bands`` and
            ``colorbar`` (None without a colormap).
        """
        scales = display.json_scales
        if facts is not None:
            per_band = render.scales_per_band(display.scales, len(facts.bands), facts.ranges)
            scales = [list(p) if p != (None, None) else None for p in per_band]
        return {
            "colormap": display.colormap,
            "scales": scales,
            "bands": facts.bands if facts is not None else None,
            "colorbar": colorbar_url if display.colormap else None,
        }

    def tilejson(
        self, layer: Layer, tile_url: str, legend: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """TileJSON 3.0.0 for a layer, with bounds from its sources when known."""
        shape = self.footprint(layer)
        bounds = [-180.0, -85.0511287798066, 180.0, 85.0511287798066]
        if shape is not None and not shape.is_empty:
            w, s, e, n = shape.bounds
            bounds = [
                max(w, -180.0),
                max(s, -85.0511287798066),
                min(e, 180.0),
                min(n, 85.0511287798066),
            ]
        maxzoom = self._maxzoom(layer)
        center_zoom = max(0, min(maxzoom, _zoom_for_span(bounds[2] - bounds[0])))
        return {
            "tilejson": "3.0.0",
            "name": layer.name or layer.id,
            "scheme": "xyz",
            "tiles": [tile_url],
            "minzoom": 0,
            "maxzoom": maxzoom,
            "bounds": bounds,
            "center": [(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2, center_zoom],
            **({"legend": legend} if legend is not None else {}),
        }

    def _maxzoom(self, layer: Layer) -> int:
        """The zoom whose pixels are just finer than the finest source's, else MAX_ZOOM."""
        from tiles.data import catalog
        from tiles.errors import DataError, NotFoundError

        facts = pipeline.graft_facts(layer.graft)
        if not facts.sources_known:
            return MAX_ZOOM
        resolutions = []
        try:
            records = [catalog.image(i) for i in facts.image_ids]
            for product_id in facts.product_ids:
                if pipeline.is_remote_product(product_id):
                    return MAX_ZOOM  # a remote catalog is not searched worldwide
                records.extend(catalog.search(product_id, limit=20))
        except (NotFoundError, DataError):
            return MAX_ZOOM
        for record in records:
            res = abs(record.geotrans[1])
            if CRS.from_user_input(record.crs).is_geographic:
                res *= 111_320.0  # metres per degree at the equator
            resolutions.append(res)
        if not resolutions:
            return MAX_ZOOM
        finest = min(resolutions)
        zoom = math.ceil(math.log2(2 * math.pi * 6378137.0 / 256 / finest))
        return int(max(0, min(MAX_ZOOM, zoom)))

    def stats(self) -> dict[str, Any]:
        """Counters for /health."""
        return {
            "process": os.getpid(),
            "loop_lag": self.loop_lag.stats(),
            "heap_trim": self.heap.stats(),
            "layers": self.layers.known(),  # /health never waits on the store
            "computed": self.computed,
            "queue": self.queue.stats(),
            "io": self.io.stats(),
            "array_cache": self.arrays.stats(),
            "png_cache": self.pngs.stats(),
            "logs": self.logbook.stats(),
            "read_cache": read_cache_stats(),
            "shared_cache": None if self.shared is None else self.shared.stats(),
            "backends": self.backends(),
        }

    def backends(self) -> dict[str, Any]:
        """Where this process keeps its state (passwords left out), for /health.

        Nothing is opened: /health must answer while a store is locked or away.
        """
        from tiles.data.default_catalog import default_catalog_path
        from tiles.sql_store import describe_target

        return {
            "layers": self.layers.target,
            "catalog": describe_target(default_catalog_path()),
            "cache": None if self.shared is None else self.shared.stats()["backend"],
            "dask": distributed.describe(),
        }

    def close(self) -> None:
        """Stop the pools, the loop probe and close the layer store."""
        self.loop_lag.stop()
        self.heap.stop()
        self.queue.shutdown(wait=False)
        self.io.shutdown(wait=False)
        self.layers.close()


def _zoom_for_span(degrees: float) -> int:
    if degrees <= 0:
        return MAX_ZOOM
    return int(math.floor(math.log2(360.0 / degrees)))
