"""Geometry and GeometryCollection proxies: GeoJSON geometries (lon/lat), buffered or burnt
into an Image.

    >>> import tiles as wf
    >>> geom = wf.Geometry(type="Point", coordinates=[1, 2])
    >>> geom.compute()
    GeometryResult(type=Point, coordinates=[1, 2])
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any as _Any

from tiles.types.arguments import promote, typecheck
from tiles.types.containers import List
from tiles.types.geojson import GeoJSONError, check_geometry
from tiles.types.primitives import NUMBER, Any, Str
from tiles.types.vector_base import (
    SIMPLE_TYPES,
    CollectionMethods,
    VectorProxy,
    geojson_literal,
    is_literal,
    mapping_of,
    nested_list,
)

__all__ = ["Geometry", "GeometryCollection"]


class Geometry(VectorProxy):
    """Proxy GeoJSON Geometry: a ``type`` and ``coordinates`` (lon/lat).

    Example
    -------
    >>> wf.Geometry(type="Point", coordinates=[1, 2]).buffer(1).compute().type
    'Polygon'
    """

    _geojson_types = SIMPLE_TYPES

    def __init__(self, type: _Any, coordinates: _Any) -> None:  # noqa: A002 - GeoJSON name
        """A Geometry from its GeoJSON parts.

        Parameters
        ----------
        type : Str
            ``"Point"``, ``"LineString"``, ``"Polygon"``, ``"MultiPoint"``,
            ``"MultiLineString"`` or ``"MultiPolygon"``.
        coordinates : list
            Nested lists of lon/lat numbers (proxies allowed), checked now when plain.
        """
        if isinstance(type, str) and is_literal(coordinates):
            if type == "GeometryCollection":
                raise GeoJSONError(
                    "use GeometryCollection(geometries=...) for a GeometryCollection"
                )
            check_geometry({"type": type, "coordinates": coordinates})
            coordinates = geojson_literal(coordinates, f"{type} coordinates")
        elif isinstance(coordinates, (list, tuple)):
            coordinates = nested_list(coordinates)
        type = promote(type, Str, "Geometry", "type")  # noqa: A001 - GeoJSON name
        obj = Geometry._from_apply("wf.Geometry.create", type=type, coordinates=coordinates)
        self.graft, self.params = obj.graft, obj.params

    @classmethod
    def _from_checked(cls, geojson: dict) -> Geometry:
        return cls(geojson["type"], geojson["coordinates"])

    @classmethod
    def from_geo_interface(cls, obj: _Any) -> Geometry:
        """Construct from anything with ``__geo_interface__`` (shapely geometries, Features...).

        Parameters
        ----------
        obj : object
            With ``__geo_interface__`` (or a GeoJSON mapping); a Feature gives its geometry.

        Returns
        -------
        Geometry

        Example
        -------
        >>> import shapely.geometry
        >>> geom = wf.Geometry.from_geo_interface(shapely.geometry.box(0, 0, 1, 1))
        """
        mapping = mapping_of(obj, "Geometry.from_geo_interface")
        if mapping.get("type") == "Feature":
            mapping = mapping.get("geometry") or {}
        return cls.from_geojson(mapping)

    @property
    def type(self) -> Str:
        """The GeoJSON type, e.g. ``"Polygon"``."""
        return Str._from_apply("wf.getattr", self, "type")

    @property
    def coordinates(self) -> List:
        """The GeoJSON coordinates (nested lists of numbers)."""
        return List[Any]._from_apply("wf.getattr", self, "coordinates")

    @typecheck(distance=NUMBER)
    def buffer(self, distance: _Any) -> Geometry:
        """The area within ``distance`` of this geometry.

        Parameters
        ----------
        distance : Int or Float
            In decimal degrees.

        Returns
        -------
        Geometry

        Example
        -------
        >>> disk = wf.Geometry(type="Point", coordinates=[1, 2]).buffer(0.5)
        """
        return Geometry._from_apply("wf.buffer", self, distance)

    @typecheck(value=NUMBER)
    def rasterize(self, value: _Any = 1) -> _Any:
        """Burn this geometry into the GeoContext's grid (its CRS, resolution, all_touched).

        Parameters
        ----------
        value : Int or Float, default 1
            The value of covered pixels; the others are masked (and 0).

        Returns
        -------
        Image
            One band ``features``; empty properties and bandinfo.

        Example
        -------
        >>> geom = wf.Geometry(type="Point", coordinates=[1, 2])
        >>> geom.rasterize(value=0.5).mean().compute(
        ...     wf.scenes.AOI(bounds=(0.95, 1.95, 1.15, 2.15), crs="EPSG:4326", resolution=0.1))
        0.5
        """
        from tiles.types.imagery import Image

        return Image._from_apply("wf.rasterize", self, value)


class GeometryCollection(CollectionMethods, VectorProxy):
    """Proxy GeoJSON GeometryCollection constructed from a sequence of Geometries.

    Example
    -------
    >>> gc = wf.GeometryCollection([wf.Geometry("Point", [0, 0]), wf.Geometry("Point", [1, 1])])
    >>> gc.length().compute()
    2
    """

    _geojson_types = ("GeometryCollection",)
    _item_type = Geometry
    _items_field = "geometries"
    _create = "wf.GeometryCollection.create"

    def __init__(self, geometries: _Any, type: str = "GeometryCollection") -> None:  # noqa: A002
        """A GeometryCollection of Geometries.

        Parameters
        ----------
        geometries : list of Geometry or GeoJSON geometries, or List[Geometry]
        type : str, default "GeometryCollection"
            Only ``"GeometryCollection"``.
        """
        if type != "GeometryCollection":
            raise GeoJSONError(
                f"a GeometryCollection's type must be 'GeometryCollection', not {type!r}"
            )
        if isinstance(geometries, List):
            items: _Any = List[Geometry]._promote(geometries)
        elif is_literal(geometries) and all(isinstance(g, Mapping) for g in geometries):
            check_geometry({"type": "GeometryCollection", "geometries": list(geometries)})
            items = geojson_literal(list(geometries), "GeometryCollection geometries")
        else:
            items = List[Geometry]([Geometry._promote(g) for g in geometries])
        obj = GeometryCollection._from_apply(self._create, geometries=items)
        self.graft, self.params = obj.graft, obj.params

    @classmethod
    def _from_checked(cls, geojson: dict) -> GeometryCollection:
        return cls(geojson["geometries"])

    @property
    def type(self) -> Str:
        """Always ``"GeometryCollection"``."""
        return Str._from_apply("wf.getattr", self, "type")

    @property
    def geometries(self) -> List:
        """The geometries, as a ``List[Geometry]``."""
        return List[Geometry]._from_apply("wf.getattr", self, "geometries")

    @typecheck(distance=NUMBER)
    def buffer(self, distance: _Any) -> Geometry:
        """The area within ``distance`` of any of the geometries.

        Parameters
        ----------
        distance : Int or Float
            In decimal degrees.

        Returns
        -------
        Geometry
        """
        return Geometry._from_apply("wf.buffer", self, distance)

    @typecheck(value=NUMBER)
    def rasterize(self, value: _Any = 1) -> _Any:
        """Burn the geometries into the GeoContext's grid.

        Parameters
        ----------
        value : Int or Float, default 1
            The value of pixels covered by any geometry (once, however they overlap); the
            others are masked (and 0).

        Returns
        -------
        Image
            One band ``features``; empty properties and bandinfo.
        """
        from tiles.types.imagery import Image

        return Image._from_apply("wf.rasterize", self, value)
