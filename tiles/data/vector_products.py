"""Vector products: GeoJSON, GeoPackage and Shapefile files usable with
``wf.FeatureCollection.from_vector_id``.

A vector product is a row of the ``vector_products`` table in the catalog database file
(``TILES_CATALOG``) naming a file and its layer. Reading a product in a
GeoContext returns only the features intersecting it, and reads only candidate features:

* GeoPackage: the layer's R*Tree spatial index (``rtree_<table>_<column>``) is queried with
  sqlite3, and only matching rows are fetched; their geometry blobs are decoded with shapely.
* Shapefile: `pyshp <https://pypi.org/project/pyshp/>`_ compares each record's stored bounding
  box and parses only the shapes inside it (optional dependency).
* GeoJSON: the file is parsed once (per modification) into shapely geometries and an STRtree,
  which every query then uses.

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
import sqlite3
import sys
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import rasterio.warp
import shapely
import shapely.errors
import shapely.geometry
from rasterio.crs import CRS

from tiles import settings
from tiles.engine.vector import FeatureCollectionValue, FeatureValue, GeometryValue
from tiles.errors import DataError, NotFoundError, ParameterError

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

FORMATS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG", ".shp": "ESRI Shapefile"}
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


class _GeoJSONReader(_Reader):
    """A parsed GeoJSON file: geometries, properties and an STRtree over the geometries."""

    _cache: dict[tuple, _GeoJSONReader] = {}
    _lock = threading.Lock()

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
        self.tree = shapely.STRtree(self.geometries)
        self.crs = WGS84

    @classmethod
    def open(cls, path: str) -> _GeoJSONReader:
        stamp = _file_stamp(path)
        with cls._lock:
            reader = cls._cache.get(stamp)
            if reader is None:
                reader = cls(path)
                # One parsed version per file: drop older stamps of the same path.
                for key in [k for k in cls._cache if k[0] == path]:
                    del cls._cache[key]
                cls._cache[stamp] = reader
        return reader

    def query(self, box: Box | None) -> list[tuple[int, shapely.Geometry, dict]]:
        if box is None:
            index = np.arange(len(self.geometries))
        else:
            index = np.sort(self.tree.query(shapely.box(*box)))
        return [(int(i), self.geometries[i], self.properties[i]) for i in index]


# GeoPackage geometry blob header: envelope size in bytes by the flags' envelope indicator.
_GPKG_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def _gpkg_wkb(blob: bytes) -> bytes | None:
    """The WKB inside a GeoPackage geometry blob (None for an empty geometry)."""
    if blob is None or len(blob) < 8 or blob[:2] != b"GP":
        raise DataError("not a GeoPackage geometry blob")
    flags = blob[3]
    if flags & 0b10000:  # the empty-geometry flag
        return None
    envelope = _GPKG_ENVELOPE_BYTES.get((flags >> 1) & 0b111)
    if envelope is None:
        raise DataError(f"invalid GeoPackage envelope indicator in flags {flags:#x}")
    return blob[8 + envelope :]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class _GeoPackageReader(_Reader):
    """One feature table of a GeoPackage, queried through its R*Tree index when it has one."""

    def __init__(self, path: str, layer: str | None) -> None:
        self.path = path
        try:
            conn = self._connect()
            tables = [
                r[0]
                for r in conn.execute(
                    "SELECT table_name FROM gpkg_contents WHERE data_type = 'features' "
                    "ORDER BY table_name"
                )
            ]
        except sqlite3.DatabaseError as e:
            raise DataError(f"{path} is not a GeoPackage: {e}") from None
        if layer is None:
            if len(tables) != 1:
                raise ParameterError(
                    f"{path} has {len(tables)} feature layers ({', '.join(tables)}); "
                    "choose one with layer="
                )
            layer = tables[0]
        elif layer not in tables:
            raise NotFoundError(f"layer {layer!r} not in {path} (layers: {', '.join(tables)})")
        self.layer = layer
        column, srs_id = conn.execute(
            "SELECT column_name, srs_id FROM gpkg_geometry_columns WHERE table_name = ?",
            (layer,),
        ).fetchone()
        self.geometry_column = column
        self.crs = self._srs(conn, srs_id)
        info = conn.execute(f"PRAGMA table_info({_quote(layer)})").fetchall()
        self.pk = next((r[1] for r in info if r[5]), None)
        self.columns = [r[1] for r in info if r[1] not in (column, self.pk)]
        rtree = f"rtree_{layer}_{column}"
        found = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (rtree,)
        ).fetchone()
        self.rtree = rtree if found and self.pk else None
        conn.close()

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(Path(self.path).as_uri() + "?mode=ro", uri=True)

    @staticmethod
    def _srs(conn: sqlite3.Connection, srs_id: int) -> CRS:
        row = conn.execute(
            "SELECT organization, organization_coordsys_id, definition "
            "FROM gpkg_spatial_ref_sys WHERE srs_id = ?",
            (srs_id,),
        ).fetchone()
        if row is None or srs_id in (0, -1):
            return WGS84  # undefined systems: GeoPackage's convention is geographic
        organization, code, definition = row
        if str(organization).upper() == "EPSG":
            return CRS.from_epsg(int(code))
        return CRS.from_wkt(definition)

    def query(self, box: Box | None) -> list[tuple[int, shapely.Geometry, dict]]:
        table, geom = _quote(self.layer), _quote(self.geometry_column)
        columns = ", ".join(_quote(c) for c in self.columns)
        select = f"SELECT t.rowid, t.{geom}{', ' if columns else ''}{columns} FROM {table} t"
        if box is not None and self.rtree is not None:
            sql = (
                f"{select} JOIN {_quote(self.rtree)} r ON t.{_quote(self.pk)} = r.id "
                "WHERE r.maxx >= ? AND r.minx <= ? AND r.maxy >= ? AND r.miny <= ? "
                "ORDER BY t.rowid"
            )
            args: tuple = (box[0], box[2], box[1], box[3])
        else:
            sql, args = f"{select} ORDER BY t.rowid", ()
        conn = self._connect()
        try:
            rows = conn.execute(sql, args).fetchall()
        finally:
            conn.close()
        rows = [r for r in rows if r[1] is not None]
        wkbs = [_gpkg_wkb(r[1]) for r in rows]
        keep = [i for i, w in enumerate(wkbs) if w is not None]
        geoms = shapely.from_wkb([wkbs[i] for i in keep])
        out = [
            (int(rows[i][0]), g, dict(zip(self.columns, rows[i][2:], strict=True)))
            for i, g in zip(keep, geoms, strict=True)
        ]
        if box is not None and self.rtree is None:
            hits = shapely.intersects([g for _, g, _ in out], shapely.box(*box))
            out = [o for o, hit in zip(out, hits, strict=True) if hit]
        return out


class _ShapefileReader(_Reader):
    """A Shapefile read with pyshp; the .prj (if any) gives its CRS."""

    def __init__(self, path: str) -> None:
        try:
            import shapefile  # pyshp
        except ImportError:
            raise DataError(
                "reading Shapefiles needs the pyshp package (pip install pyshp)"
            ) from None
        self._shapefile = shapefile
        self.path = path
        prj = Path(path).with_suffix(".prj")
        self.crs = CRS.from_wkt(prj.read_text()) if prj.is_file() else WGS84
        cpg = Path(path).with_suffix(".cpg")
        self.encoding = cpg.read_text().strip() if cpg.is_file() else "utf-8"

    def query(self, box: Box | None) -> list[tuple[int, shapely.Geometry, dict]]:
        out = []
        try:
            with self._shapefile.Reader(self.path, encoding=self.encoding) as reader:
                records = reader.iterShapeRecords(bbox=box) if box else reader.iterShapeRecords()
                for record in records:
                    if record.shape.shapeType == self._shapefile.NULL:
                        continue
                    geom = shapely.geometry.shape(record.shape.__geo_interface__)
                    out.append((record.record.oid, geom, record.record.as_dict()))
        except self._shapefile.ShapefileException as e:
            raise DataError(f"cannot read Shapefile {self.path}: {e}") from None
        return out


def _reader(path: str, fmt: str, layer: str | None) -> _Reader:
    if not Path(path).is_file():
        raise DataError(f"vector file not found: {path}")
    if fmt == "GeoJSON":
        return _GeoJSONReader.open(path)
    if fmt == "GPKG":
        return _GeoPackageReader(path, layer)
    return _ShapefileReader(path)


# --------------------------------------------------------------------------------------------
# the product table


def _connect(catalog_path: str | os.PathLike | None) -> sqlite3.Connection:
    path = Path(catalog_path or settings.CATALOG.get()).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=30.0)
    conn.execute(_SCHEMA)
    return conn


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
    """Register the vector file ``path`` (GeoJSON, GeoPackage or Shapefile) as ``product_id``.

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
    conn = _connect(catalog_path)
    try:
        with conn:
            conn.execute(
                f"INSERT OR REPLACE INTO vector_products ({_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*row, *(bounds or (None,) * 4)),
            )
    finally:
        conn.close()
    return VectorProduct(*row, bounds_lonlat=bounds)  # type: ignore[arg-type]


def vector_product(product_id: str, catalog_path: str | os.PathLike | None = None) -> VectorProduct:
    """The registered vector product ``product_id``; NotFoundError when there is none."""
    conn = _connect(catalog_path)
    try:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM vector_products WHERE id = ?", (product_id,)
        ).fetchone()
    finally:
        conn.close()
    if row is None:
        raise NotFoundError(
            f"vector product {product_id!r} not found; register it with "
            "tiles.data.vector_products.create_vector_product"
        )
    return _product_from_row(row)


def vector_products(catalog_path: str | os.PathLike | None = None) -> list[VectorProduct]:
    """All registered vector products, sorted by id."""
    conn = _connect(catalog_path)
    try:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM vector_products ORDER BY id").fetchall()
    finally:
        conn.close()
    return [_product_from_row(r) for r in rows]


def remove_vector_product(product_id: str, catalog_path: str | os.PathLike | None = None) -> None:
    """Forget vector product ``product_id`` (its file is left alone)."""
    conn = _connect(catalog_path)
    try:
        with conn:
            deleted = conn.execute("DELETE FROM vector_products WHERE id = ?", (product_id,))
    finally:
        conn.close()
    if deleted.rowcount == 0:
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
        description="Register a GeoJSON, GeoPackage or Shapefile as a vector product.",
    )
    parser.add_argument("product_id")
    parser.add_argument("path")
    parser.add_argument("--title", default="")
    parser.add_argument("--layer", default=None, help="GeoPackage table (if several)")
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
