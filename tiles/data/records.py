"""Catalog records (products, bands, images) and the date and lon/lat footprint arithmetic
every part of the data layer shares.

These are plain values: the SQLite store (:mod:`tiles.data.store`) keeps them, STAC sources
(:mod:`tiles.data.stac`) build them from items, and :mod:`tiles.data.reading` reads the pixels
they point at.

Example::

    >>> from tiles.data.records import footprint_intersects, to_utc
    >>> to_utc("2023-06-01")
    datetime.datetime(2023, 6, 1, 0, 0, tzinfo=datetime.timezone.utc)
    >>> footprint_intersects({"type": "Point", "coordinates": [179.5, 0]}, (179, -1, -179, 1))
    True
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Mapping, Sequence
from typing import Any, Union

import shapely
import shapely.geometry

from tiles.errors import NotFoundError, ParameterError

__all__ = [
    "Band",
    "DateLike",
    "ImageRecord",
    "PathLike",
    "Product",
    "bbox_geometry",
    "footprint_intersects",
    "lonlat_bounds",
    "to_utc",
]

DateLike = Union[str, dt.date, dt.datetime]
PathLike = Union[str, os.PathLike]

# --------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Band:
    """One band of a product: its stored value range and how it maps to physical values."""

    name: str
    data_range: tuple[float, float]
    physical_range: tuple[float, float] | None = None
    nodata: float | None = None
    description: str = ""
    #: Processing level -> the band of the same product that holds this band's values at that
    #: level (this band itself for its own level), e.g. ``{"toa": "red", "surface": "red_sr"}``.
    processing_levels: dict[str, str] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The band as a JSON-friendly dict (the shape ``create_product`` accepts)."""
        d: dict[str, Any] = {"name": self.name, "data_range": list(self.data_range)}
        if self.physical_range is not None:
            d["physical_range"] = list(self.physical_range)
        if self.nodata is not None:
            d["nodata"] = self.nodata
        if self.description:
            d["description"] = self.description
        if self.processing_levels:
            d["processing_levels"] = dict(self.processing_levels)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Band:
        """Validate and build a Band from a dict with ``name``, ``data_range`` and optional keys."""
        if not isinstance(d, Mapping):
            raise ParameterError(f"a band is an object with name and data_range, not {d!r:.80}")
        known = {"name", "data_range", "physical_range", "nodata", "description"}
        unknown = set(d) - known - {"processing_levels"}
        if unknown:
            raise ParameterError(f"unknown band field(s) {sorted(unknown)} in {dict(d)!r}")
        try:
            name = str(d["name"])
            data_range = _range(d["data_range"])
        except KeyError as e:
            raise ParameterError(f"band definition {dict(d)!r} lacks {e.args[0]!r}") from None
        if not name or any(c.isspace() for c in name) or ":" in name:
            raise ParameterError(f"invalid band name {name!r}: no spaces or colons allowed")
        phys = d.get("physical_range")
        nodata = d.get("nodata")
        levels = d.get("processing_levels") or {}
        if not isinstance(levels, Mapping) or not all(
            isinstance(k, str) and k and isinstance(v, str) and v for k, v in levels.items()
        ):
            raise ParameterError(
                f"processing_levels of band {name!r} must map level names to band names, "
                f"like {{'surface': '{name}_sr'}}, not {levels!r}"
            )
        return cls(
            name=name,
            data_range=data_range,
            physical_range=None if phys is None else _range(phys),
            nodata=None if nodata is None else float(nodata),
            description=str(d.get("description", "")),
            processing_levels=dict(levels),
        )


def _range(value: Any) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ParameterError(f"a range must be two numbers, not {value!r}") from None
    return (lo, hi)


@dataclasses.dataclass(frozen=True)
class Product:
    """A product: an id, a title and its bands in file band order."""

    id: str
    title: str
    bands: list[Band]

    def __post_init__(self) -> None:
        names = set(self.band_names)
        for band in self.bands:
            for level, target in band.processing_levels.items():
                if target not in names:
                    raise ParameterError(
                        f"band {band.name!r} of product {self.id!r} names band {target!r} for "
                        f"processing level {level!r}, but the product has no such band"
                    )
                if target != band.name and self.band(target).processing_levels:
                    raise ParameterError(
                        f"band {target!r} of product {self.id!r} holds {band.name!r} at level "
                        f"{level!r}, so it cannot have processing levels of its own"
                    )

    @property
    def processing_levels(self) -> list[str]:
        """The processing levels its bands name, sorted (empty for most products)."""
        return sorted({level for b in self.bands for level in b.processing_levels})

    @property
    def variant_names(self) -> frozenset[str]:
        """Bands that hold another band's values at some level (read only through it)."""
        return frozenset(
            target
            for b in self.bands
            for target in b.processing_levels.values()
            if target != b.name
        )

    def bands_at(self, level: str | None = None) -> list[tuple[str, Band]]:
        """(name in the Image, band whose files hold it) for ``Image.from_id(processing_level=)``.

        Without a level: every band but the variants. At a level: each band that names that
        level, read from the band it names, and the bands without levels (the same at every
        level). An unknown level is a ParameterError listing the product's levels.
        """
        variants = self.variant_names
        bases = [b for b in self.bands if b.name not in variants]
        if level is None:
            return [(b.name, b) for b in bases]
        if level not in self.processing_levels:
            known = ", ".join(self.processing_levels)
            raise ParameterError(
                f"product {self.id!r} has no processing level {level!r}; "
                + (f"its levels are {known}" if known else "it defines no processing levels")
            )
        return [
            (b.name, self.band(b.processing_levels[level]) if b.processing_levels else b)
            for b in bases
            if level in b.processing_levels or not b.processing_levels
        ]

    def band(self, name: str) -> Band:
        """The band called ``name``; NotFoundError naming the band and product otherwise."""
        for b in self.bands:
            if b.name == name:
                return b
        raise NotFoundError(
            f"band {name!r} not found in product {self.id!r} "
            f"(bands: {', '.join(b.name for b in self.bands)})"
        )

    @property
    def band_names(self) -> list[str]:
        """Band names in product order."""
        return [b.name for b in self.bands]

    def bandinfo(self, level: str | None = None) -> dict[str, dict[str, Any]]:
        """Per-band metadata as an Image's ``bandinfo`` holds it, in band order.

        The bands of :meth:`bands_at` ``level``; each entry describes the band read (its
        ``id`` names it) under the name the Image gives it.
        """
        info: dict[str, dict[str, Any]] = {}
        for name, b in self.bands_at(level):
            entry: dict[str, Any] = {
                "id": f"{self.id}:{b.name}",
                "name": name,
                "data_range": b.data_range,
            }
            if b.physical_range is not None:
                entry["physical_range"] = b.physical_range
            entry["nodata"] = b.nodata
            if b.description:
                entry["description"] = b.description
            info[name] = entry
        return info


@dataclasses.dataclass(frozen=True)
class ImageRecord:
    """One image of a product: where its pixels are, when and where it was acquired."""

    id: str
    product: str
    acquired: dt.datetime
    crs: str
    geotrans: tuple[float, float, float, float, float, float]
    shape: tuple[int, int]
    footprint: dict[str, Any]
    bounds_lonlat: tuple[float, float, float, float]
    files: dict[str, tuple[str, int]]
    properties: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: Band definitions of this image that differ from its product's (say a scale that
    #: changed between processing versions of a remote collection); usually empty.
    band_overrides: dict[str, Band] = dataclasses.field(default_factory=dict)

    def properties_dict(self) -> dict[str, Any]:
        """What an Image's ``properties`` holds: user properties plus the typed keys."""
        props = dict(self.properties)
        props.update(
            id=self.id,
            product=self.product,
            date=self.acquired,
            crs=self.crs,
            geotrans=tuple(float(v) for v in self.geotrans),
        )
        return props


# --------------------------------------------------------------------------------------
# Dates and lon/lat footprints
# --------------------------------------------------------------------------------------


def to_utc(value: DateLike) -> dt.datetime:
    """An aware UTC datetime from a datetime, date or ISO string (naive means UTC)."""
    if isinstance(value, dt.datetime):
        d = value
    elif isinstance(value, dt.date):
        d = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            d = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ParameterError(f"cannot parse date {value!r}; use ISO 8601") from None
    else:
        raise ParameterError(f"expected a date, datetime or ISO string, not {value!r}")
    if d.tzinfo is None:
        return d.replace(tzinfo=dt.timezone.utc)
    return d.astimezone(dt.timezone.utc)


def lonlat_bounds(footprint: Mapping[str, Any]) -> tuple[float, float, float, float]:
    """(w, s, e, n) of a footprint; w > e when it crosses the antimeridian."""
    geom = shapely.geometry.shape(footprint)
    w, s, e, n = geom.bounds
    parts = getattr(geom, "geoms", [geom])
    if len(parts) > 1 and w <= -179.999 and e >= 179.999:
        # Parts touch both sides of the antimeridian: report the short way round.
        east_parts = [p for p in parts if p.bounds[0] >= 0]
        west_parts = [p for p in parts if p.bounds[0] < 0]
        if east_parts and west_parts:
            w = min(p.bounds[0] for p in east_parts)
            e = max(p.bounds[2] for p in west_parts)
    return (w, s, e, n)


def bbox_geometry(bbox: Sequence[float]) -> shapely.Geometry:
    """A lon/lat box as a shapely geometry; w > e means it crosses the antimeridian."""
    w, s, e, n = (float(v) for v in bbox)
    if w > e:
        return shapely.geometry.MultiPolygon(
            [shapely.geometry.box(w, s, 180.0, n), shapely.geometry.box(-180.0, s, e, n)]
        )
    return shapely.geometry.box(w, s, e, n)


def footprint_intersects(
    footprint: Mapping[str, Any],
    bbox_lonlat: Sequence[float] | None = None,
    geometry: Mapping[str, Any] | None = None,
) -> bool:
    """Whether a lon/lat footprint meets a lon/lat box (w, s, e, n) and/or a GeoJSON geometry.

    A box with w > e is taken to cross the antimeridian.
    """
    fp = shapely.geometry.shape(footprint)
    if bbox_lonlat is not None and not fp.intersects(bbox_geometry(bbox_lonlat)):
        return False
    if geometry is not None and not fp.intersects(shapely.geometry.shape(geometry)):
        return False
    return True
