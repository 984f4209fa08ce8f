"""Vector products: vector files usable with ``wf.FeatureCollection.from_vector_id``.

A vector product is a row of the ``vector_products`` table in the catalog database file
(``TILES_CATALOG``) naming a file and its layer. Reading a product in a GeoContext returns
only the features intersecting it, and reads only candidate features:

* GeoPackage, Shapefile, FlatGeobuf (and the other formats of pyogrio's GDAL): read with
  pyogrio, the GeoContext's box passed to GDAL, which queries the format's spatial index.
* GeoJSON: the file is parsed once (per modification) into shapely geometries and an STRtree,
  which every query then uses; properties stay exactly as the file writes them.
* GeoParquet: read with pyarrow (optional ``geoparquet`` extra) once per modification, then
  queried like GeoJSON.

Features in other CRSs than EPSG:4326 are reprojected with :func:`rasterio.warp.transform_geom`.

    >>> from tiles.data.vector_products import create_vector_product
    >>> create_vector_product("ne:lakes", "ne_110m_lakes.geojson")  # doctest: +SKIP
    VectorProduct(id='ne:lakes', ...)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pyogrio.errors
import pyogrio.raw
import rasterio.warp
import shapely
import shapely.errors
import shapely.geometry
from rasterio.crs import CRS

from tiles import settings
from tiles.engine.vector import FeatureCollectionValue, FeatureValue, GeometryValue
from tiles.errors import DataError, NotFoundError, ParameterError
from tiles.sql_store import SQLStore, is_database_url

__all__ = [
    "FORMATS",
    "VectorProduct",
    "create_vector_product",
    "main_create_vector_product",
    "read_features",
    "remove_vector_product",
    "vector_product",
    "vector_products",
]

#: File extensions and the format (GDAL driver name, or GeoParquet) each is read as.
FORMATS = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GPKG",
    ".shp": "ESRI Shapefile",
    ".fgb": "FlatGeobuf",
    ".parquet": "GeoParquet",
    ".geoparquet": "GeoParquet",
}
WGS84 = CRS.from_epsg(4326)
Box = tuple[float, float, float, float]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS vector_products (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    path TEXT NOT NULL,
    format TEXT NOT NULL,
    layer TEXT,
    crs TEXT NOT NULL,
    feature_count INTEGER NOT NULL,
    west REAL, south REAL, east REAL, north REAL
)
"""
_COLUMNS = "id, title, path, format, layer, crs, feature_count, west, south, east, north"


@dataclasses.dataclass(frozen=True)
class VectorProduct:
    """A registered vector file: where it is, its layer and CRS, how many features, where."""

    id: str
    title: str
    path: str
    format: str
    layer: str | None
    crs: str
    feature_count: int
    bounds_lonlat: Box | None


# --------------------------------------------------------------------------------------------
# readers: each yields (key, shapely geometry in the file's CRS, properties) in file order


class _Reader:
    crs: CRS

    def query(self, box: Box | None) -> list[tuple[int, shapely.Geometry, dict]]:
        """Features whose bounding box meets ``box`` (in the file's CRS); all when None."""
        raise NotImplementedError


def _file_stamp(path: str) -> tuple[str, int, int]:
    st = os.stat(path)
    return (path, st.st_mtime_ns, st.st_size)


class _InMemoryReader(_Reader):
    """A file parsed whole into shapely geometries and an STRtree, once per modification.

    For formats without a spatial index GDAL could use (GeoJSON) or without a GDAL driver
    here (GeoParquet). Subclasses fill ``keys``, ``geometries``, ``properties`` and ``crs``.
    """

    _cache: dict[tuple, _InMemoryReader] = {}
    _lock = threading.Lock()
    keys: np.ndarray
    geometries: np.ndarray
    properties: list[dict]

    @classmethod
    def open(cls, path: str) -> _InMemoryReader:
        """The parsed file, parsed again only when it changed on disk."""
        stamp = (cls.__name__, *_file_stamp(path))
        with cls._lock:
            reader = cls._cache.get(stamp)
            if reader is None:
                reader = cls(path)
                # One parsed version per file: drop older stamps of the same path.
                for key in [k for k in cls._cache if k[:2] == stamp[:2]]:
                    del cls._cache[key]
                cls._cache[stamp] = reader
        return reader

    def query(self, box: Box | None) -> list[tuple[int, shapely.Geometry, dict]]:
        if box is None:
            index = np.arange(len(self.geometries))
        else:
            index = np.sort(self.tree.query(shapely.box(*box)))
        return [(int(self.keys[i]), self.geometries[i], self.properties[i]) for i in index]


class _GeoJSONReader(_InMemoryReader):
    """A parsed GeoJSON file: geometries, properties and an STRtree over the geometries."""

    def __init__(self, path: str) -> None:
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, json.JSONDecodeError) as e:
            raise DataError(f"cannot read GeoJSON {path}: {e}") from None
        features = data.get("features") if isinstance(data, dict) else None
        if isinstance(data, dict) and data.get("type") == "Feature":
            features = [data]
        if not isinstance(features, list):
            raise DataError(f"{path} is not a GeoJSON FeatureCollection or Feature")
        # GeoJSON (RFC 7946) is always lon/lat; features without geometry cannot be located.
        located = [f for f in features if isinstance(f, dict) and f.get("geometry")]
        try:
            self.geometries = np.array(
                [shapely.geometry.shape(f["geometry"]) for f in located], dtype=object
            )
        except (ValueError, TypeError, AttributeError, shapely.errors.GEOSException) as e:
            raise DataError(f"invalid geometry in {path}: {e}") from None
        self.properties = [dict(f.get("properties") or {}) for f in located]
        self.keys = np.arange(len(located))
        self.tree = shapely.STRtree(self.geometries)
        self.crs = WGS84


def _plain(value: Any) -> Any:
    """A field value as a JSON-like Python value (numpy scalars and dates unwrapped)."""
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else str(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, bytes):
        return value.hex()
    return value


class _OGRReader(_Reader):
    """One layer of any vector format GDAL reads (GeoPackage, Shapefile, FlatGeobuf, ...).

    Reads go through pyogrio with the query box passed to GDAL, which uses the format's
    spatial index (a GeoPackage's R*Tree, a FlatGeobuf's packed R-tree, a Shapefile's .qix)
    where there is one.
    """

    def __init__(self, path: str, layer: str | None) -> None:
        self.path = path
        try:
            layers = [str(name) for name, _ in pyogrio.list_layers(path)]
        except pyogrio.errors.DataSourceError as e:
            raise DataError(f"cannot read vector file {path}: {e}") from None
        if layer is None:
            if len(layers) != 1:
                raise ParameterError(
                    f"{path} has {len(layers)} layers ({', '.join(layers)}); choose one with layer="
                )
            layer = layers[0]
        elif layer not in layers:
            raise NotFoundError(f"layer {layer!r} not in {path} (layers: {', '.join(layers)})")
        self.layer = layer
        info = pyogrio.read_info(path, layer=layer)
        # A layer without a defined CRS is taken as lon/lat, as GeoJSON and GeoPackage assume.
        self.crs = CRS.from_user_input(info["crs"]) if info.get("crs") else WGS84

    _cache: dict[tuple, _OGRReader] = {}
    _lock = threading.Lock()

    @classmethod
    def open(cls, path: str, layer: str | None) -> _OGRReader:
        """The reader of ``path``'s ``layer``, its layer list and CRS looked up once per file
        modification (each lookup opens the file again)."""
        key = (*_file_stamp(path), layer)
        with cls._lock:
            reader = cls._cache.get(key)
        if reader is None:
            reader = cls(path, layer)
            with cls._lock:
                for old in [k for k in cls._cache if k[0] == path and k[3] == layer]:
                    del cls._cache[old]
                cls._cache[key] = reader
        return reader

    def query(self, box: Box | None) -> list[tuple[int, shapely.Geometry, dict]]:
        try:
            meta, fids, wkbs, columns = pyogrio.raw.read(
                self.path, layer=self.layer, bbox=box, return_fids=True
            )
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as e:
            raise DataError(f"cannot read {self.path} layer {self.layer!r}: {e}") from None
        names = [str(n) for n in meta["fields"]]
        out = []
        for i, wkb in enumerate(wkbs):
            if wkb is None:
                continue  # a feature without geometry cannot be located
            properties = {
                name: _plain(column[i]) for name, column in zip(names, columns, strict=True)
            }
            out.append((int(fids[i]), shapely.from_wkb(wkb), properties))
        return out


class _GeoParquetReader(_InMemoryReader):
    """A GeoParquet file read with pyarrow: its primary WKB geometry column and the others.

    The file is read once per modification and queried through an STRtree, as GeoJSON is
    (the GDAL in pyogrio's wheels has no Parquet driver).
    """

    def __init__(self, path: str) -> None:
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise DataError(
                "reading GeoParquet needs pyarrow (pip install 'tiles-workflows[geoparquet]')"
            ) from None
        try:
            table = pq.read_table(path)
        except (OSError, ValueError) as e:
            raise DataError(f"cannot read GeoParquet {path}: {e}") from None
        geo = json.loads((table.schema.metadata or {}).get(b"geo", b"null") or "null")
        if not isinstance(geo, dict) or "primary_column" not in geo:
            raise DataError(f"{path} is a Parquet file without GeoParquet 'geo' metadata")
        column = geo["primary_column"]
        spec = geo.get("columns", {}).get(column, {})
        if spec.get("encoding", "WKB").upper() != "WKB":
            raise DataError(f"{path}: geometry encoding {spec.get('encoding')!r} is not WKB")
        # GeoParquet's default CRS is OGC:CRS84 (lon/lat); otherwise PROJJSON.
        crs = spec.get("crs")
        self.crs = WGS84 if crs is None else CRS.from_user_input(json.dumps(crs))
        wkbs = table.column(column).to_pylist()
        rows = table.drop_columns([column]).to_pylist()
        keep = [i for i, w in enumerate(wkbs) if w is not None]
        self.keys = np.array(keep, dtype=np.int64)
        self.geometries = shapely.from_wkb([wkbs[i] for i in keep])
        self.properties = [{k: _plain(v) for k, v in rows[i].items()} for i in keep]
        self.tree = shapely.STRtree(self.geometries)


def _reader(path: str, fmt: str, layer: str | None) -> _Reader:
    if not Path(path).is_file():
        raise DataError(f"vector file not found: {path}")
    if fmt == "GeoJSON":
        return _GeoJSONReader.open(path)
    if fmt == "GeoParquet":
        return _GeoParquetReader.open(path)
    return _OGRReader.open(path, layer)


# --------------------------------------------------------------------------------------------
# the product table


class VectorProductTable(SQLStore):
    """The ``vector_products`` table of a catalog database (SQLite file or PostgreSQL).

    Parameters
    ----------
    target:
        The catalog file or ``postgresql://`` URL.
    """

    NAME = "vector_products"
    MIGRATIONS = (_SCHEMA,)


_tables: dict[Any, VectorProductTable] = {}
_tables_lock = threading.Lock()


def _table(catalog_path: str | os.PathLike | None) -> VectorProductTable:
    target = catalog_path or settings.CATALOG.get()
    if not is_database_url(target):
        target = Path(target).expanduser().resolve()
    with _tables_lock:
        table = _tables.get(target)
        if table is None:
            table = _tables[target] = VectorProductTable(target)
        return table


def _product_from_row(row: Sequence[Any]) -> VectorProduct:
    *head, west, south, east, north = row
    bounds = None if west is None else (west, south, east, north)
    return VectorProduct(*head, bounds_lonlat=bounds)


def _to_lonlat(geoms: Sequence[shapely.Geometry], crs: CRS) -> list[shapely.Geometry]:
    if crs == WGS84 or not len(geoms):
        return list(geoms)
    mapped = rasterio.warp.transform_geom(crs, WGS84, [shapely.geometry.mapping(g) for g in geoms])
    return [shapely.geometry.shape(m) for m in mapped]


def create_vector_product(
    product_id: str,
    path: str | os.PathLike,
    title: str = "",
    layer: str | None = None,
    catalog_path: str | os.PathLike | None = None,
) -> VectorProduct:
    """Register the vector file ``path`` (GeoJSON, GeoPackage, Shapefile, FlatGeobuf or
    GeoParquet) as ``product_id``.

    The file is read once to check it and to record its feature count and lon/lat bounds; it
    stays where it is. ``layer`` picks a GeoPackage table (needed when it has several).
    Re-registering an id replaces it. The table lives in the catalog database
    (``catalog_path``, default ``TILES_CATALOG``).
    """
    if not product_id or any(c.isspace() for c in product_id):
        raise ParameterError(f"invalid vector product id {product_id!r}")
    resolved = Path(path).expanduser().resolve()
    fmt = FORMATS.get(resolved.suffix.lower())
    if fmt is None:
        raise ParameterError(
            f"unsupported vector file {resolved.name!r}; expected one of "
            f"{', '.join(sorted(FORMATS))}"
        )
    reader = _reader(str(resolved), fmt, layer)
    layer = getattr(reader, "layer", None)
    geoms = [g for _, g, _ in reader.query(None)]
    lonlat = _to_lonlat(geoms, reader.crs)
    bounds = tuple(float(v) for v in shapely.total_bounds(lonlat)) if lonlat else None
    crs = reader.crs.to_string()
    row = (product_id, title or product_id, str(resolved), fmt, layer, crs, len(geoms))
    updates = ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS.split(", ")[1:])
    with _table(catalog_path).transaction() as conn:
        conn.execute(
            f"INSERT INTO vector_products ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            f"ON CONFLICT (id) DO UPDATE SET {updates}",
            (*row, *(bounds or (None,) * 4)),
        )
    return VectorProduct(*row, bounds_lonlat=bounds)  # type: ignore[arg-type]


def vector_product(product_id: str, catalog_path: str | os.PathLike | None = None) -> VectorProduct:
    """The registered vector product ``product_id``; NotFoundError when there is none."""
    with _table(catalog_path).reading() as conn:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM vector_products WHERE id = ?", (product_id,)
        ).fetchone()
    if row is None:
        raise NotFoundError(
            f"vector product {product_id!r} not found; register it with "
            "tiles.data.vector_products.create_vector_product"
        )
    return _product_from_row(row)


def vector_products(catalog_path: str | os.PathLike | None = None) -> list[VectorProduct]:
    """All registered vector products, sorted by id."""
    with _table(catalog_path).reading() as conn:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM vector_products ORDER BY id").fetchall()
    return [_product_from_row(r) for r in rows]


def remove_vector_product(product_id: str, catalog_path: str | os.PathLike | None = None) -> None:
    """Forget vector product ``product_id`` (its file is left alone)."""
    with _table(catalog_path).transaction() as conn:
        deleted = conn.execute("DELETE FROM vector_products WHERE id = ?", (product_id,)).rowcount
    if deleted == 0:
        raise NotFoundError(f"vector product {product_id!r} not found")


# --------------------------------------------------------------------------------------------
# reading in a GeoContext


def _query_boxes(geoctx: Any) -> list[Box]:
    """The GeoContext's lon/lat box, split in two where it crosses the antimeridian."""
    west, south, east, north = geoctx.bounds_lonlat
    if west > east:
        return [(west, south, 180.0, north), (-180.0, south, east, north)]
    return [(west, south, east, north)]


def _native_box(box: Box, crs: CRS) -> Box:
    if crs == WGS84:
        return box
    out = rasterio.warp.transform_bounds(WGS84, crs, *box, densify_pts=21)
    return tuple(float(v) for v in out)  # type: ignore[return-value]


def _area(geoctx: Any, boxes: Iterable[Box]) -> shapely.Geometry:
    """The lon/lat area of the GeoContext: its box(es), cut to its cutline when it has one."""
    area = shapely.union_all([shapely.box(*b) for b in boxes])
    cutline = getattr(geoctx, "cutline", None)
    if cutline is not None:
        area = shapely.intersection(area, shapely.geometry.shape(cutline))
    return area


def read_features(product_id: str, geoctx: Any) -> FeatureCollectionValue:
    """The features of ``product_id`` that intersect ``geoctx``, in file order."""
    product = vector_product(product_id)
    reader = _reader(product.path, product.format, product.layer)
    boxes = _query_boxes(geoctx)
    found: dict[int, tuple[shapely.Geometry, dict]] = {}
    for box in boxes:
        for key, geom, props in reader.query(_native_box(box, reader.crs)):
            found.setdefault(key, (geom, props))
    keys = sorted(found)
    lonlat = np.array(_to_lonlat([found[k][0] for k in keys], reader.crs), dtype=object)
    hits = shapely.intersects(lonlat, _area(geoctx, boxes)) if len(keys) else []
    return FeatureCollectionValue(
        [
            FeatureValue(GeometryValue.from_shapely(geom), found[key][1])
            for key, geom, hit in zip(keys, lonlat, hits, strict=True)
            if hit
        ]
    )


# --------------------------------------------------------------------------------------------
# command line


def main_create_vector_product(argv: Sequence[str] | None = None) -> int:
    """``create-vector-product PRODUCT_ID PATH [--title T] [--layer L]``; returns an exit code."""
    parser = argparse.ArgumentParser(
        prog="create-vector-product",
        description="Register a vector file (GeoJSON, GeoPackage, Shapefile, FlatGeobuf, "
        "GeoParquet) as a vector product.",
    )
    parser.add_argument("product_id")
    parser.add_argument("path")
    parser.add_argument("--title", default="")
    parser.add_argument("--layer", default=None, help="the layer to read (if several)")
    args = parser.parse_args(argv)
    try:
        product = create_vector_product(args.product_id, args.path, args.title, args.layer)
    except (DataError, NotFoundError, ParameterError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(
        f"{product.id}: {product.feature_count} features ({product.format}, {product.crs}) "
        f"from {product.path}"
    )
    return 0
