"""From a layer and a tile to pixels: evaluate, reduce, crop, pick bands.

These functions run on worker threads and know nothing about HTTP. Their output,
:class:`TileData`, is what the array cache holds, so changing only how a tile looks
(scales, colormap, checkerboard) re-renders it without recomputing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import rasterio.features
import shapely
import shapely.geometry
from rasterio.transform import from_bounds
from rasterio.warp import transform as transform_points
from rasterio.warp import transform_geom

from tiles import settings
from tiles.data.reading import value_range
from tiles.errors import DataError, NotFoundError, ParameterError, WorkflowsError
from tiles.geocontext import AOI, GeoContext, XYZTile
from tiles.graft.analysis import GraftFacts, analyse

#: Web-mercator resolution at zoom 18 (about 0.6 m): fine enough that one pixel sits in
#: one source pixel of any catalogued imagery, for value lookups of computed sources.
_FALLBACK_RESOLUTION = 2 * np.pi * 6378137.0 / 2**18 / 256


@dataclasses.dataclass(frozen=True)
class TileData:
    """Pixels of one tile after reduction: ``array`` is None for an empty image."""

    array: np.ma.MaskedArray | None
    bandnames: tuple[str, ...] = ()
    #: Each band's declared value range (None where it has none): the default stretch.
    ranges: tuple[tuple[float, float] | None, ...] = ()

    @property
    def nbytes(self) -> int:
        """Bytes held (data plus mask), for the byte-bounded cache."""
        if self.array is None:
            return 64
        mask = np.ma.getmask(self.array)
        return int(self.array.data.nbytes + (0 if mask is np.ma.nomask else mask.nbytes)) + 64


@functools.lru_cache(maxsize=1024)
def _facts_cached(graft_json: str) -> GraftFacts:
    import json

    return analyse(json.loads(graft_json))


def graft_facts(graft: dict) -> GraftFacts:
    """:func:`tiles.graft.analysis.analyse`, cached per graft."""
    import json

    return _facts_cached(json.dumps(graft, sort_keys=True))


def sources_intersect(facts: GraftFacts, bbox_lonlat: Sequence[float]) -> bool | None:
    """Whether any source of the graph has data in a lon/lat box, from catalog footprints.

    Returns None when that cannot be known cheaply (sources computed or unknown to the
    catalog, or the graph may create pixels outside its sources), meaning "compute it".
    """
    if not facts.footprint_bounded:
        return None
    from tiles.data import catalog

    try:
        for image_id in facts.image_ids:
            record = catalog.image(image_id)
            if catalog.footprint_intersects(record.footprint, bbox_lonlat):
                return True
        for product_id in facts.product_ids:
            # Dates are ignored: a superset of the real sources can only keep a tile, never
            # wrongly blank it.
            if catalog.search(product_id, bbox_lonlat=bbox_lonlat, limit=1):
                return True
    except (NotFoundError, DataError):
        return None  # let evaluation report the unknown id or unreachable catalog properly
    return False


def data_version(facts: GraftFacts) -> int:
    """The catalog version of the products a graph reads (of all products when its sources
    are not known); -1 when the catalog cannot say."""
    from tiles.data import catalog

    try:
        return catalog.default_catalog().data_version(
            facts.product_ids, facts.image_ids, everything=not facts.sources_known
        )
    except DataError:
        return -1


def max_images_per_request() -> int:
    """Most images one collection may load for a tile or value (``$TILES_MAX_IMAGES``, 200).

    A tile of a collection holds every image's pixels at once: 200 four-band images of
    256 x 256 float64 pixels are 420 MB, so requests beyond this are refused, not queued.
    """
    return settings.MAX_IMAGES.get()


def evaluate_value(graft: dict, geoctx: GeoContext, arguments: Mapping[str, Any]) -> Any:
    """Evaluate a layer graft in ``geoctx`` with parameter values ``arguments``.

    Arguments that are still grafts (such as an image chosen from another layer) are
    evaluated here, in the same GeoContext.
    """
    from tiles.compute.evaluation import evaluate
    from tiles.server.query import decode_parameter

    values = {
        name: decode_parameter(name, value, geoctx)
        if isinstance(value, dict) and "returns" in value
        else value
        for name, value in arguments.items()
    }
    return evaluate(graft, geoctx=geoctx, arguments=values, max_images=max_images_per_request())


def images_of_day(value: Any, day: str) -> Any:
    """Of a collection, the images whose ``date`` property falls on ``day``.

    Parameters
    ----------
    value : engine value
        An evaluated layer; anything but a collection is returned as it is.
    day : str
        ``YYYY-MM-DD``, UTC.

    Returns
    -------
    engine value
        The collection of that day's images (lazy collections stay lazy, so only they are
        read), possibly empty.
    """
    from tiles.engine import CollectionValue, select_images

    if not isinstance(value, CollectionValue):
        return value
    picked = [i for i, props in enumerate(value.properties) if _day(props.get("date")) == day]
    return select_images(value, picked)


def _day(date: Any) -> str | None:
    """The UTC day (ISO) of a ``date`` property (a datetime, date or ISO text)."""
    if isinstance(date, str):
        try:
            date = dt.datetime.fromisoformat(date.replace("Z", "+00:00"))
        except ValueError:
            return None
    if isinstance(date, dt.datetime):
        if date.tzinfo is not None:
            date = date.astimezone(dt.timezone.utc)
        return date.date().isoformat()
    if isinstance(date, dt.date):
        return date.isoformat()
    return None


def to_tile_data(
    value: Any,
    reduction: str,
    halo: int = 0,
    bands: Sequence[str] = (),
    image_date: str | None = None,
) -> TileData:
    """The pixels a tile shows of an evaluated layer.

    Parameters
    ----------
    value : engine value
        An ImageValue or CollectionValue.
    reduction : str
        How a collection becomes one image.
    halo : int
        Pixels computed around the tile, cropped here.
    bands : sequence of str
        Bands to keep, in order (all when empty).
    image_date : str, optional
        Keep only a collection's images of this day first (see :func:`images_of_day`).

    Returns
    -------
    TileData
        The pixels, band names and declared value ranges (no array for an empty image).
    """
    from tiles.engine import CollectionValue, ImageValue, reduce

    if image_date is not None:
        value = images_of_day(value, image_date)
    if isinstance(value, CollectionValue):
        value = ImageValue.empty() if value.is_empty else reduce(value, reduction, axis="images")
    if not isinstance(value, ImageValue):
        raise WorkflowsError(
            f"a layer must compute an Image or ImageCollection, not {type(value).__name__}"
        )
    if value.is_empty:
        return TileData(None)
    array = value.ndarray
    names = tuple(value.band_names)
    if array is None:
        return TileData(None)
    if halo:
        array = array[:, halo:-halo, halo:-halo]
    if bands:
        missing = [b for b in bands if b not in names]
        if missing:
            raise ParameterError(
                f"band {missing[0]!r} not in this layer's bands ({', '.join(names)})"
            )
        array = array[[names.index(b) for b in bands]]
        names = tuple(bands)
    ranges = tuple(value_range(value.bandinfo.get(name, {})) for name in names)
    return TileData(_compact(np.ma.asarray(array)), names, ranges)


def _compact(array: np.ma.MaskedArray) -> np.ma.MaskedArray:
    """``array``, copied when it views a larger buffer (a cropped halo), so the array cache's
    byte count is the memory it really keeps."""
    data, mask = np.ma.getdata(array), np.ma.getmask(array)
    views_more = any(
        part is not np.ma.nomask and part.base is not None and part.base.nbytes > part.nbytes
        for part in (data, mask)
    )
    return array.copy() if views_more else array


def compute_tile(
    graft: dict,
    arguments: Mapping[str, Any],
    tile: XYZTile,
    reduction: str,
    bands: Sequence[str] = (),
    image_date: str | None = None,
) -> TileData:
    """Compute the pixels of one map tile.

    Graphs whose pixels depend on neighbours (convolutions, non-nearest resampling)
    are computed on a buffered tile and cropped, so adjacent tiles join seamlessly.
    """
    facts = graft_facts(graft)
    halo = facts.halo
    ctx = tile.buffered(halo) if halo else tile
    value = evaluate_value(graft, ctx, arguments)
    return to_tile_data(value, reduction, halo, bands, image_date)


def _native_grid(facts: GraftFacts, x: float, y: float) -> tuple[str, float] | None:
    """(crs, resolution) of the first catalogued source with data at a 3857 point."""
    from tiles.data import catalog

    (lon,), (lat,) = transform_points("EPSG:3857", "EPSG:4326", [x], [y])
    point = (lon, lat, lon, lat)
    try:
        records = [catalog.image(i) for i in facts.image_ids]
        for product_id in facts.product_ids:
            records.extend(catalog.search(product_id, bbox_lonlat=point, limit=1))
    except (NotFoundError, DataError):
        return None
    for record in records:
        if catalog.footprint_intersects(record.footprint, point):
            return record.crs, abs(record.geotrans[1])
    return None


def point_context(facts: GraftFacts, x: float, y: float) -> tuple[AOI, int]:
    """A small AOI around EPSG:3857 point (x, y) at its source's native resolution.

    Returns the AOI and the row/col index of the pixel holding the point. The AOI is
    one pixel plus the graph's halo on each side, on the source's own grid when the
    source is known from the catalog (so values are the stored pixels, unresampled).
    """
    native = _native_grid(facts, x, y) if facts.sources_known else None
    if native is not None:
        crs, res = native
        (px,), (py,) = transform_points("EPSG:3857", crs, [x], [y])
    else:
        crs, res, px, py = "EPSG:3857", _FALLBACK_RESOLUTION, x, y
    # Snap to the resolution grid, as catalogued rasters' origins are whole pixels. The AOI
    # is given by its shape, not its resolution, so rounding can never make it empty.
    left = np.floor(px / res) * res
    top = np.floor(py / res) * res + res
    halo = facts.halo
    side = 1 + 2 * halo
    with warnings.catch_warnings():
        # A point near (0, 0) metres looks like degrees to the AOI's sanity check; it is not.
        warnings.simplefilter("ignore", UserWarning)
        aoi = AOI(
            bounds=(
                left - halo * res,
                top - res - halo * res,
                left + res + halo * res,
                top + halo * res,
            ),
            bounds_crs=crs,
            crs=crs,
            shape=(side, side),
            align_pixels=False,
        )
    return aoi, halo


def point_data(
    graft: dict,
    arguments: Mapping[str, Any],
    x: float,
    y: float,
    reduction: str,
    bands: Sequence[str] = (),
    image_date: str | None = None,
) -> tuple[TileData, int]:
    """The layer computed around an EPSG:3857 point, at its source's native resolution.

    Parameters
    ----------
    graft, arguments :
        The layer's graft and parameter values.
    x, y : float
        The point in EPSG:3857 metres.
    reduction, bands, image_date :
        As :func:`to_tile_data` takes them.

    Returns
    -------
    (TileData, int)
        The pixels around the point (with band names and ranges), and the row and column
        of the point's pixel in them.
    """
    facts = graft_facts(graft)
    aoi, index = point_context(facts, x, y)
    value = evaluate_value(graft, aoi, arguments)
    return to_tile_data(value, reduction, 0, bands, image_date), index


def value_at(
    graft: dict,
    arguments: Mapping[str, Any],
    x: float,
    y: float,
    reduction: str,
    bands: Sequence[str] = (),
    image_date: str | None = None,
) -> dict[str, float | None]:
    """Band values of the layer at EPSG:3857 point (x, y); masked bands give None."""
    data, index = point_data(graft, arguments, x, y, reduction, bands, image_date)
    if data.array is None:
        return {}
    pixel = data.array[:, index, index]
    return {
        name: (None if np.ma.is_masked(pixel[i]) else float(pixel[i]))
        for i, name in enumerate(data.bandnames)
    }


def collection_dates(
    graft: dict, arguments: Mapping[str, Any], bounds_lonlat: Sequence[float]
) -> list[str]:
    """The days of a collection layer's images within lon/lat bounds.

    Parameters
    ----------
    graft, arguments :
        The layer's graft and parameter values.
    bounds_lonlat : sequence of float
        ``(west, south, east, north)``, usually the sources' footprint.

    Returns
    -------
    list of str
        Sorted ``YYYY-MM-DD`` days (UTC); empty for an Image layer. The layer is evaluated
        on a coarse grid, so a lazy collection reads no pixels for it.
    """
    from tiles.engine import CollectionValue

    aoi = AOI(bounds=tuple(bounds_lonlat), bounds_crs="EPSG:4326", crs="EPSG:3857", shape=(64, 64))
    value = evaluate_value(graft, aoi, arguments)
    if not isinstance(value, CollectionValue):
        return []
    return sorted({day for p in value.properties if (day := _day(p.get("date"))) is not None})


def view_scales(
    graft: dict,
    arguments: Mapping[str, Any],
    bounds_lonlat: Sequence[float],
    pixels: int,
    reduction: str,
    bands: Sequence[str] = (),
    image_date: str | None = None,
) -> list:
    """Scales stretching the 2nd to 98th percentile of each band over lon/lat bounds.

    Parameters
    ----------
    graft, arguments :
        The layer's graft and parameter values.
    bounds_lonlat : sequence of float
        ``(west, south, east, north)`` of the view.
    pixels : int
        Pixels on the longer side of the one computation over the bounds.
    reduction, bands, image_date :
        As :func:`to_tile_data` takes them.

    Returns
    -------
    list of [min, max]
        One pair per band (at most 3; ``[None, None]`` for a band with no data).

    Raises
    ------
    ValueError
        When the view holds no data at all.
    """
    from tiles.engine.render import percentile_scales

    aoi = AOI(
        bounds=tuple(bounds_lonlat),
        bounds_crs="EPSG:4326",
        crs="EPSG:3857",
        shape=(pixels, pixels),
        align_pixels=False,
    )
    value = evaluate_value(graft, aoi, arguments)
    scales = percentile_scales(to_tile_data(value, reduction, 0, bands, image_date).array)
    if all(pair == [None, None] for pair in scales):
        raise ValueError("the view holds no data for this layer (every pixel is masked)")
    return scales


def footprint_mask(footprint: shapely.Geometry, tile: XYZTile) -> np.ndarray:
    """The pixels of ``tile`` a lon/lat footprint touches.

    Parameters
    ----------
    footprint : shapely geometry
        Lon/lat degrees.
    tile : XYZTile
        The tile.

    Returns
    -------
    numpy.ndarray
        (rows, cols) booleans, True where the footprint touches the pixel.
    """
    geometry = transform_geom("EPSG:4326", "EPSG:3857", shapely.geometry.mapping(footprint))
    rows = cols = tile.tilesize
    west, south, east, north = tile.projected_bounds
    return rasterio.features.geometry_mask(
        [geometry],
        out_shape=(rows, cols),
        transform=from_bounds(west, south, east, north, cols, rows),
        all_touched=True,
        invert=True,
    )


def is_remote_product(product_id: str) -> bool:
    """Whether a product's images come from a remote catalog (searched per area, not listed)."""
    from tiles.data import catalog

    return catalog.default_catalog().product_source(product_id) is not None


def footprint_lonlat(facts: GraftFacts) -> shapely.Geometry | None:
    """Union of the sources' lon/lat footprints when all sources are catalogued, else None."""
    if not facts.sources_known or not (facts.image_ids or facts.product_ids):
        return None
    from tiles.data import catalog

    shapes = []
    try:
        for image_id in facts.image_ids:
            shapes.append(shapely.geometry.shape(catalog.image(image_id).footprint))
        for product_id in facts.product_ids:
            if is_remote_product(product_id):
                return None  # a remote catalog is not searched worldwide for an extent
            shapes.extend(shapely.geometry.shape(r.footprint) for r in catalog.search(product_id))
    except (NotFoundError, DataError):
        return None
    if not shapes:
        return None
    return shapely.union_all(shapes)
