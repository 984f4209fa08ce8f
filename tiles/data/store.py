"""The catalog store: products, their bands and images (files, dates, footprints) in one
SQLite file, and the queries that find them.

The store answers "which files, which bands, which dates, where" and nothing else; reading
pixels lives in :mod:`tiles.data.reading`, and what a file says about itself is read by
:mod:`tiles.data.raster_files`. Products whose images live in another catalog (remote
products, say a STAC collection) are answered by a *source kind* registered with
:func:`register_source_kind` (:mod:`tiles.data.source_kinds`); the store keeps only each such
product's ``(kind, spec)``.

Example::

    >>> from tiles.data.store import Catalog
    >>> cat = Catalog("/tmp/catalog.sqlite")
    >>> cat.create_product("naip", [
    ...     {"name": "red", "data_range": (0, 255), "nodata": 0}, ...])
    >>> cat.add_image("naip", "m_4709963_se_14_1_20090818.tif")
    >>> [r.id for r in cat.search("naip", start="2009-01-01", end="2010-01-01")]
    ['naip:m_4709963_se_14_1_20090818']
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tiles.data.raster_files import (
    date_from_name,
    date_from_tag,
    existing_file,
    lonlat_footprint,
    raster_info,
)
from tiles.data.records import (
    Band,
    DateLike,
    ImageRecord,
    PathLike,
    Product,
    footprint_intersects,
    lonlat_bounds,
    to_utc,
)
from tiles.data.source_kinds import (
    ImageSource,
    SourceKind,
    register_source_kind,
    source_kind,
    source_kinds,
)
from tiles.errors import NotFoundError, ParameterError
from tiles.sql_store import SQLStore, is_database_url

__all__ = [
    "Catalog",
    "ImageSource",
    "SourceKind",
    "register_source_kind",
    "source_kinds",
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS products (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    bands TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS images (
    id TEXT PRIMARY KEY,
    product TEXT NOT NULL REFERENCES products(id),
    acquired TEXT NOT NULL,
    crs TEXT NOT NULL,
    geotrans TEXT NOT NULL,
    rows INTEGER NOT NULL,
    cols INTEGER NOT NULL,
    footprint TEXT NOT NULL,
    west REAL NOT NULL,
    south REAL NOT NULL,
    east REAL NOT NULL,
    north REAL NOT NULL,
    files TEXT NOT NULL,
    properties TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS images_by_product_date ON images (product, acquired, id);
CREATE TABLE IF NOT EXISTS sources (
    product TEXT PRIMARY KEY REFERENCES products(id),
    kind TEXT NOT NULL,
    spec TEXT NOT NULL
);
"""

# Each product's version counts the changes to its images, so caches can key on it.
_VERSIONS = "CREATE TABLE IF NOT EXISTS product_versions (product TEXT PRIMARY KEY, version INTEGER NOT NULL)"
_BUMP = (
    "INSERT INTO product_versions (product, version) VALUES (?, 1) "
    "ON CONFLICT (product) DO UPDATE SET version = product_versions.version + 1"
)

_IMAGE_COLUMNS = (
    "id, product, acquired, crs, geotrans, rows, cols, footprint, "
    "west, south, east, north, files, properties"
)
_IMAGE_UPDATES = ", ".join(f"{c} = excluded.{c}" for c in _IMAGE_COLUMNS.split(", ")[1:])


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"property value {value!r} is not JSON serialisable")


class Catalog(SQLStore):
    """An image catalog stored in an SQLite file or a PostgreSQL database.

    Safe to share between threads: each thread gets its own SQLite connection (PostgreSQL
    connections come from the process's pool), and writes run in transactions (SQLite in
    WAL mode lets readers proceed while one writer works).

    Parameters
    ----------
    path:
        The catalog file, created (with its folder) when missing; or a ``postgresql://``
        URL.
    """

    NAME = "catalog"
    MIGRATIONS = (_SCHEMA, _VERSIONS)
    CONNECTION_PER_THREAD = True

    def __init__(self, path: PathLike) -> None:
        super().__init__(path if is_database_url(path) else Path(path).expanduser().resolve())

    # -- products ------------------------------------------------------------------------

    def create_product(
        self,
        product_id: str,
        bands: Sequence[Mapping[str, Any]],
        title: str = "",
        source: tuple[str, Mapping[str, Any]] | None = None,
    ) -> Product:
        """Define a product from band dicts in file band order.

        Each dict has ``name`` and ``data_range`` and optionally ``physical_range``,
        ``nodata`` and ``description``. Re-creating an identical product does nothing;
        redefining an existing product differently raises ParameterError. ``source`` is
        ``(kind, spec)`` for a remote product (see :func:`register_source_kind`).
        """
        if source is not None and source[0] not in source_kinds():
            raise ParameterError(f"unknown product source kind {source[0]!r}")
        source_json = None if source is None else json.dumps(dict(source[1]), sort_keys=True)
        if not product_id or any(c.isspace() for c in product_id):
            raise ParameterError(f"invalid product id {product_id!r}")
        parsed = [b if isinstance(b, Band) else Band.from_dict(b) for b in bands]
        if not parsed:
            raise ParameterError(f"product {product_id!r} needs at least one band")
        names = [b.name for b in parsed]
        if len(set(names)) != len(names):
            raise ParameterError(f"duplicate band names in product {product_id!r}: {names}")
        new = Product(id=product_id, title=title or product_id, bands=parsed)
        payload = json.dumps([b.to_dict() for b in parsed])
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT title, bands FROM products WHERE id = ?", (product_id,)
            ).fetchone()
            if row is not None:
                existing = self._product_from_row(product_id, *row)
                old_source = conn.execute(
                    "SELECT kind, spec FROM sources WHERE product = ?", (product_id,)
                ).fetchone()
                same_source = (old_source is None and source is None) or (
                    old_source is not None
                    and source is not None
                    and old_source[0] == source[0]
                    and json.loads(old_source[1]) == json.loads(source_json)
                )
                if (
                    existing.bands == new.bands
                    and (not title or existing.title == title)
                    and same_source
                ):
                    return existing
                raise ParameterError(
                    f"product {product_id!r} already exists with a different definition; "
                    f"remove it first to redefine it (wf.catalog.remove_product({product_id!r}),"
                    f" or python -m tiles catalog remove-product {product_id}), which also "
                    "removes its images"
                )
            conn.execute(
                "INSERT INTO products (id, title, bands) VALUES (?, ?, ?)",
                (product_id, new.title, payload),
            )
            if source is not None:
                conn.execute(
                    "INSERT INTO sources (product, kind, spec) VALUES (?, ?, ?)",
                    (product_id, source[0], source_json),
                )
        return new

    @staticmethod
    def _product_from_row(product_id: str, title: str, bands: str) -> Product:
        return Product(
            id=product_id, title=title, bands=[Band.from_dict(b) for b in json.loads(bands)]
        )

    def products(self) -> list[Product]:
        """All products, sorted by id."""
        with self.reading() as conn:
            rows = conn.execute("SELECT id, title, bands FROM products ORDER BY id").fetchall()
        return [self._product_from_row(*r) for r in rows]

    def product(self, product_id: str) -> Product:
        """The product ``product_id``; NotFoundError when there is none."""
        with self.reading() as conn:
            row = conn.execute(
                "SELECT id, title, bands FROM products WHERE id = ?", (product_id,)
            ).fetchone()
        if row is None:
            # Well-known remote ids (say "earth-search:sentinel-2-l2a") define themselves.
            for kind in source_kinds().values():
                if kind.resolve_product is None:
                    continue
                resolved = kind.resolve_product(self, product_id)
                if resolved is not None:
                    return resolved
            raise NotFoundError(f"product {product_id!r} not found in catalog {self.target}")
        return self._product_from_row(*row)

    def product_source(self, product_id: str) -> tuple[str, dict[str, Any]] | None:
        """``(kind, spec)`` of a remote product, None for a product of catalogued files."""
        with self.reading() as conn:
            row = conn.execute(
                "SELECT kind, spec FROM sources WHERE product = ?", (product_id,)
            ).fetchone()
        return None if row is None else (row[0], json.loads(row[1]))

    def _remote(self, product: Product) -> ImageSource | None:
        """The open source of a remote product, None for a product of catalogued files."""
        found = self.product_source(product.id)
        if found is None:
            return None
        kind, spec = found
        return source_kind(kind).open_source(product, spec)

    def remove_product(self, product_id: str) -> None:
        """Remove a product and all its images from the catalog (files are left alone)."""
        with self.transaction() as conn:
            if (
                conn.execute("SELECT 1 FROM products WHERE id = ?", (product_id,)).fetchone()
                is None
            ):
                raise NotFoundError(f"product {product_id!r} not found in catalog {self.target}")
            conn.execute("DELETE FROM images WHERE product = ?", (product_id,))
            conn.execute("DELETE FROM sources WHERE product = ?", (product_id,))
            conn.execute("DELETE FROM products WHERE id = ?", (product_id,))
            conn.execute(_BUMP, (product_id,))

    # -- images --------------------------------------------------------------------------

    def add_image(
        self,
        product_id: str,
        path: PathLike | Mapping[str, PathLike | tuple[PathLike, int]],
        image_id: str | None = None,
        acquired: DateLike | None = None,
        properties: Mapping[str, Any] | None = None,
    ) -> ImageRecord:
        """Register an image of ``product_id`` and return its record.

        ``path`` is one raster holding all the product's bands in order, or a mapping
        ``{band_name: path}`` (or ``{band_name: (path, band_index)}``) for products stored one
        file per band. Geometry is read from the file(s); ``acquired`` defaults to the
        file's TIFFTAG_DATETIME or a date in its name. ``image_id`` defaults to the file
        stem (or the folder name for per-band files) and is prefixed with the product id.
        Adding an id that exists replaces that image.
        """
        prod = self.product(product_id)
        files = self._resolve_files(prod, path)
        # The finest-resolution file defines the image's grid (per-band products such as
        # Sentinel-2 mix 10, 20 and 60 m files).
        infos = {p: raster_info(p) for p in {f for f, _ in files.values()}}
        for band_name, (fpath, bidx) in files.items():
            if bidx > infos[fpath]["count"]:
                raise ParameterError(
                    f"band {band_name!r} of product {product_id!r} maps to band {bidx} of "
                    f"{fpath}, which has only {infos[fpath]['count']} band(s)"
                )
        grid_path = min(infos, key=lambda p: (abs(infos[p]["transform"].a), p))
        info = infos[grid_path]

        if acquired is None:
            acquired_dt = self._default_acquired(infos, files)
        else:
            acquired_dt = to_utc(acquired)

        if image_id is None:
            if isinstance(path, Mapping):
                folders = {Path(f).parent for f, _ in files.values()}
                name = folders.pop().name if len(folders) == 1 else Path(grid_path).stem
            else:
                name = Path(grid_path).stem
            image_id = f"{product_id}:{name}"
        elif not image_id.startswith(product_id + ":"):
            image_id = f"{product_id}:{image_id}"

        footprint = lonlat_footprint(info["crs"], info["bounds"])
        bounds_ll = lonlat_bounds(footprint)
        t = info["transform"]
        record = ImageRecord(
            id=image_id,
            product=product_id,
            acquired=acquired_dt,
            crs=info["crs_string"],
            geotrans=(t.c, t.a, t.b, t.f, t.d, t.e),
            shape=(info["height"], info["width"]),
            footprint=footprint,
            bounds_lonlat=bounds_ll,
            files=files,
            properties=dict(properties or {}),
        )
        with self.transaction() as conn:
            conn.execute(
                f"INSERT INTO images ({_IMAGE_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE "
                f"SET {_IMAGE_UPDATES}",
                (
                    record.id,
                    record.product,
                    record.acquired.isoformat(),
                    record.crs,
                    json.dumps(record.geotrans),
                    record.shape[0],
                    record.shape[1],
                    json.dumps(record.footprint),
                    *record.bounds_lonlat,
                    json.dumps({k: list(v) for k, v in record.files.items()}),
                    json.dumps(record.properties, default=_json_default),
                ),
            )
            conn.execute(_BUMP, (record.product,))
        # Round-trip through storage so the returned record equals what readers will get.
        return self.image(record.id)

    @staticmethod
    def _resolve_files(
        prod: Product, path: PathLike | Mapping[str, PathLike | tuple[PathLike, int]]
    ) -> dict[str, tuple[str, int]]:
        if isinstance(path, Mapping):
            files: dict[str, tuple[str, int]] = {}
            for band_name, value in path.items():
                prod.band(band_name)  # NotFoundError for an unknown band
                if isinstance(value, (tuple, list)):
                    fpath, bidx = value
                else:
                    fpath, bidx = value, 1
                files[band_name] = (existing_file(fpath), int(bidx))
            # A band holding another at some processing level is optional: an image without
            # it has no data at that level.
            optional = prod.variant_names
            missing = [n for n in prod.band_names if n not in files and n not in optional]
            if missing:
                raise ParameterError(f"no file given for band(s) {missing} of product {prod.id!r}")
            return {n: files[n] for n in prod.band_names if n in files}
        fpath = existing_file(path)
        count = raster_info(fpath)["count"]
        bases = [b for b in prod.bands if b.name not in prod.variant_names]
        if prod.variant_names and count == len(bases):
            return {b.name: (fpath, i + 1) for i, b in enumerate(bases)}
        if count != len(prod.bands):
            raise ParameterError(
                f"{fpath} has {count} band(s) but product {prod.id!r} has "
                f"{len(prod.bands)} ({', '.join(prod.band_names)}); for one file per band "
                "give each band's file (--band-file NAME=PATH once per band on the command "
                "line, or a mapping {band: path} in Python)"
            )
        return {b.name: (fpath, i + 1) for i, b in enumerate(prod.bands)}

    @staticmethod
    def _default_acquired(infos: Mapping[str, Any], files: Mapping[str, tuple[str, int]]):
        for p in sorted(infos):
            d = date_from_tag(infos[p]["datetime_tag"])
            if d is not None:
                return d
        for p in sorted(infos):
            for name in (Path(p).name, Path(p).parent.name):
                d = date_from_name(name)
                if d is not None:
                    return d
        raise ParameterError(
            f"cannot tell when {', '.join(sorted(infos))} was acquired (no TIFFTAG_DATETIME "
            "and no date in the file name); give the date (acquired=... in Python, "
            "--acquired on the command line)"
        )

    def _record_from_row(self, row: Sequence[Any]) -> ImageRecord:
        (iid, prod, acquired, crs, geotrans, rows, cols, footprint, w, s, e, n, files, props) = row
        return ImageRecord(
            id=iid,
            product=prod,
            acquired=dt.datetime.fromisoformat(acquired),
            crs=crs,
            geotrans=tuple(float(v) for v in json.loads(geotrans)),  # type: ignore[arg-type]
            shape=(int(rows), int(cols)),
            footprint=json.loads(footprint),
            bounds_lonlat=(w, s, e, n),
            files={k: (v[0], int(v[1])) for k, v in json.loads(files).items()},
            properties=json.loads(props),
        )

    def images(self, product_id: str) -> list[ImageRecord]:
        """All images of a product, sorted by acquisition date (at most 10000 if remote)."""
        remote = self._remote(self.product(product_id))
        if remote is not None:
            return remote.search(None, None, None, 10000)
        with self.reading() as conn:
            rows = conn.execute(
                f"SELECT {_IMAGE_COLUMNS} FROM images WHERE product = ? ORDER BY acquired, id",
                (product_id,),
            ).fetchall()
        return [self._record_from_row(r) for r in rows]

    def image(self, image_id: str) -> ImageRecord:
        """The image ``image_id`` ("product:name"); NotFoundError when there is none."""
        with self.reading() as conn:
            row = conn.execute(
                f"SELECT {_IMAGE_COLUMNS} FROM images WHERE id = ?", (image_id,)
            ).fetchone()
            if row is not None:
                return self._record_from_row(row)
            remote_products = [r[0] for r in conn.execute("SELECT product FROM sources")]
        # An image of a remote product: "<product id>:<name in the remote catalog>".
        for pid in sorted(remote_products, key=len, reverse=True):
            if image_id.startswith(pid + ":"):
                remote = self._remote(self.product(pid))
                return remote.image(image_id[len(pid) + 1 :])
        raise NotFoundError(f"image {image_id!r} not found in catalog {self.target}")

    def remove_image(self, image_id: str) -> None:
        """Remove one image from the catalog (its files are left alone)."""
        with self.transaction() as conn:
            row = conn.execute("DELETE FROM images WHERE id = ? RETURNING product", (image_id,))
            product = row.fetchone()
            if product is None:
                raise NotFoundError(f"image {image_id!r} not found in catalog {self.target}")
            conn.execute(_BUMP, (product[0],))

    def data_version(
        self, product_ids: Iterable[str] = (), image_ids: Iterable[str] = (), everything=False
    ) -> int:
        """A number that grows whenever images of these products or of the products of these
        images are added, replaced or removed (of any product when ``everything``).

        Parameters
        ----------
        product_ids, image_ids:
            What a computation reads.
        everything:
            Count every product (for computations whose sources are not known).

        Returns
        -------
        int
            The sum of the products' change counts (0 before any change).
        """
        # An image id is "<product id>:<name>", and product ids may hold ":" themselves.
        names = set(product_ids)
        for image_id in image_ids:
            parts = image_id.split(":")
            names.update(":".join(parts[:i]) for i in range(1, len(parts)))
        sql = "SELECT COALESCE(SUM(version), 0) FROM product_versions"
        if not everything:
            if not names:
                return 0
            sql += f" WHERE product IN ({', '.join('?' for _ in names)})"
        with self.reading() as conn:
            return int(conn.execute(sql, () if everything else sorted(names)).fetchone()[0])

    def search(
        self,
        product_id: str,
        start: DateLike | None = None,
        end: DateLike | None = None,
        bbox_lonlat: Sequence[float] | None = None,
        limit: int | None = 10000,
    ) -> list[ImageRecord]:
        """Images of a product acquired in [start, end) whose footprint meets a lon/lat box.

        Results are sorted by date ascending. ``bbox_lonlat`` is (w, s, e, n); w > e means
        the box crosses the antimeridian. Remote products ask their catalog.
        """
        remote = self._remote(self.product(product_id))
        if remote is not None:
            return remote.search(start, end, bbox_lonlat, limit)
        clauses = ["product = ?"]
        args: list[Any] = [product_id]
        # Dates are stored as UTC ISO strings of one fixed format, so they sort as text.
        if start is not None:
            clauses.append("acquired >= ?")
            args.append(to_utc(start).isoformat())
        if end is not None:
            clauses.append("acquired < ?")
            args.append(to_utc(end).isoformat())
        if bbox_lonlat is not None:
            # Latitude prefilter in SQL; longitude (antimeridian aware) in shapely below.
            clauses.append("north >= ? AND south <= ?")
            args.extend([float(bbox_lonlat[1]), float(bbox_lonlat[3])])
        sql = (
            f"SELECT {_IMAGE_COLUMNS} FROM images WHERE {' AND '.join(clauses)} "
            "ORDER BY acquired, id"
        )
        out: list[ImageRecord] = []
        with self.reading() as conn:
            for row in conn.execute(sql, args):
                rec = self._record_from_row(row)
                if bbox_lonlat is not None and not footprint_intersects(rec.footprint, bbox_lonlat):
                    continue
                out.append(rec)
                if limit is not None and len(out) >= limit:
                    break
        return out
