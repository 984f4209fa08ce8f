"""The GeoContext proxy: where and at what resolution geospatial work happens."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any as _Any

from tiles.types.arguments import argument_error, typecheck
from tiles.types.containers import Tuple
from tiles.types.core import Proxytype
from tiles.types.primitives import Any, Bool, Float, Int, Str

_FIELD_TYPES = {
    "resolution": Float,
    "crs": Str,
    "align_pixels": Bool,
    "bounds": Tuple[Float, Float, Float, Float],
    "bounds_crs": Str,
    "shape": Tuple[Int, Int],
    "arr_shape": Tuple[Int, Int],
    "gdal_geotrans": Tuple[Float, Float, Float, Float, Float, Float],
    "projected_bounds": Tuple[Float, Float, Float, Float],
    "all_touched": Bool,
}


class GeoContext(Proxytype):
    """Proxy GeoContext: the AOI, CRS and resolution to load geospatial data in.

    >>> import tiles as wf
    >>> ctx = wf.GeoContext.from_xyz_tile(1, 2, 3)
    >>> ctx.compute()["arr_shape"]
    (256, 256)
    """

    @typecheck(
        resolution=(Float, None),
        crs=(Str, None),
        align_pixels=Bool,
        bounds=(Tuple[Float, Float, Float, Float], None),
        bounds_crs=(Str, None),
        shape=(Tuple[Int, Int], None),
        all_touched=Bool,
    )
    def __init__(
        self,
        geometry=None,
        resolution=None,
        crs=None,
        align_pixels=True,
        bounds=None,
        bounds_crs="EPSG:4326",
        shape=None,
        all_touched=False,
    ):
        """A GeoContext from an area and a grid.

        Parameters
        ----------
        geometry : Geometry or GeoJSON, optional
            Clip data to it (a cutline), in lon/lat.
        resolution : Float, optional
            Pixel size in units of ``crs`` (or give ``shape``).
        crs : Str, optional
            The output CRS (EPSG code or PROJ string).
        align_pixels : Bool, default True
            Snap the bounds outward to whole multiples of ``resolution``.
        bounds : Tuple of 4 Floats, optional
            (min_x, min_y, max_x, max_y) in ``bounds_crs``.
        bounds_crs : Str, default "EPSG:4326"
            The CRS of ``bounds``.
        shape : Tuple[Int, Int], optional
            (rows, cols) to fit within, instead of a resolution.
        all_touched : Bool, default False
            Let every source pixel touching the area contribute.
        """
        fields = {
            "geometry": _geometry_arg(geometry),
            "resolution": resolution,
            "crs": crs,
            "align_pixels": align_pixels,
            "bounds": bounds,
            "bounds_crs": bounds_crs,
            "shape": shape,
            "all_touched": all_touched,
        }
        obj = GeoContext._from_apply(
            "wf.GeoContext.create", **{k: v for k, v in fields.items() if v is not None}
        )
        self.graft, self.params = obj.graft, obj.params

    @classmethod
    def from_scenes(cls, ctx: _Any) -> GeoContext:
        """The proxy of a concrete GeoContext (``wf.scenes.AOI``, ``DLTile`` or ``XYZTile``).

        Concrete GeoContexts can be given to ``compute`` as they are; this turns one into a
        value a graph can use.

        Parameters
        ----------
        ctx : AOI, DLTile or XYZTile

        Returns
        -------
        GeoContext

        Example
        -------
        >>> tile = wf.scenes.DLTile.from_latlon(10, 30, resolution=10, tilesize=512, pad=0)
        >>> wf.GeoContext.from_scenes(tile).compute()["key"]
        '512:0:10.0:36:-65:216'
        """
        from tiles.geocontext import AOI, DLTile, XYZTile

        if isinstance(ctx, DLTile):
            return cls.from_dltile_key(ctx.key, ctx.all_touched)
        if isinstance(ctx, XYZTile):
            return cls.from_xyz_tile(ctx.x, ctx.y, ctx.z, ctx.all_touched)
        if isinstance(ctx, AOI):
            return cls(
                geometry=ctx.geometry,
                resolution=ctx.resolution,
                crs=ctx.crs,
                align_pixels=ctx.align_pixels,
                bounds=ctx.bounds,
                bounds_crs=ctx.bounds_crs,
                shape=ctx.shape,
                all_touched=ctx.all_touched,
            )
        raise argument_error("GeoContext.from_scenes", "ctx", "AOI, DLTile or XYZTile", ctx)

    @classmethod
    def _promote(cls, obj: _Any) -> GeoContext:
        if isinstance(obj, cls):
            return obj
        from tiles.geocontext import GeoContext as ConcreteGeoContext

        if isinstance(obj, ConcreteGeoContext):
            return cls.from_scenes(obj)
        return super()._promote(obj)

    @classmethod
    @typecheck(key=Str, all_touched=Bool)
    def from_dltile_key(cls, key, all_touched=False) -> GeoContext:
        """The GeoContext of a DLTile.

        Parameters
        ----------
        key : Str
            ``"tilesize:pad:resolution:zone:path:row"``.
        all_touched : Bool, default False

        Returns
        -------
        GeoContext

        Example
        -------
        >>> ctx = wf.GeoContext.from_dltile_key("512:0:10.0:36:-65:216")
        >>> ctx.compute()["bounds"]
        (167200.0, 1105920.0, 172320.0, 1111040.0)
        """
        return cls._from_apply("wf.GeoContext.from_dltile_key", key, all_touched)

    @classmethod
    @typecheck(x=Int, y=Int, z=Int, all_touched=Bool)
    def from_xyz_tile(cls, x, y, z, all_touched=False) -> GeoContext:
        """The GeoContext of a web-map (XYZ, OpenStreetMap scheme) tile: 256 x 256 in EPSG:3857.

        Parameters
        ----------
        x, y, z : Int
        all_touched : Bool, default False

        Returns
        -------
        GeoContext

        Example
        -------
        >>> wf.GeoContext.from_xyz_tile(1, 2, 3).compute()["arr_shape"]
        (256, 256)
        """
        return cls._from_apply("wf.GeoContext.from_xyz_tile", x, y, z, all_touched)

    @typecheck(x=(Float, Int), y=(Float, Int))
    def coords_to_index(self, x, y) -> Tuple:
        """The (row, col) of the pixel holding the point (x, y), in this GeoContext's CRS.

        Parameters
        ----------
        x, y : Float

        Returns
        -------
        Tuple[Int, Int]

        Example
        -------
        >>> ctx = wf.GeoContext.from_dltile_key("512:0:10.0:36:-65:216")
        >>> ctx.coords_to_index(x=167220.0, y=1111000.0).compute()
        (4, 2)
        """
        return Tuple[Int, Int]._from_apply("wf.GeoContext.coords_to_index", self, x, y)

    @typecheck(row=Int, col=Int)
    def index_to_coords(self, row, col) -> Tuple:
        """The (x, y) of the upper-left corner of pixel (row, col), in this GeoContext's CRS.

        Parameters
        ----------
        row, col : Int

        Returns
        -------
        Tuple[Float, Float]

        Example
        -------
        >>> ctx = wf.GeoContext.from_dltile_key("512:0:10.0:36:-65:216")
        >>> ctx.index_to_coords(row=4, col=2).compute()
        (167220.0, 1111000.0)
        """
        return Tuple[Float, Float]._from_apply("wf.GeoContext.index_to_coords", self, row, col)

    @property
    def geometry(self):
        """The Geometry data is clipped to (like a cutline), in lon/lat."""
        from tiles.types.geometry import Geometry

        return Geometry._from_apply("wf.getattr", self, "geometry")

    def _field(self, name: str) -> _Any:
        return _FIELD_TYPES[name]._from_apply("wf.getattr", self, name)

    @property
    def resolution(self) -> Float:
        """The size of one pixel's edge, in units of ``crs``."""
        return self._field("resolution")

    @property
    def crs(self) -> Str:
        """The coordinate reference system data is projected into (EPSG code or PROJ string)."""
        return self._field("crs")

    @property
    def align_pixels(self) -> Bool:
        """Whether the bounds are snapped outward to whole multiples of ``resolution``."""
        return self._field("align_pixels")

    @property
    def bounds(self) -> Tuple:
        """(min_x, min_y, max_x, max_y) to clip data to, in ``bounds_crs``."""
        return self._field("bounds")

    @property
    def bounds_crs(self) -> Str:
        """The coordinate reference system of ``bounds``."""
        return self._field("bounds_crs")

    @property
    def shape(self) -> Tuple:
        """(rows, cols) the output must fit within, when given instead of a resolution."""
        return self._field("shape")

    @property
    def arr_shape(self) -> Tuple:
        """(rows, cols) of the arrays this GeoContext produces."""
        return self._field("arr_shape")

    @property
    def gdal_geotrans(self) -> Tuple:
        """The 6-element GDAL geotransform of the output grid."""
        return self._field("gdal_geotrans")

    @property
    def projected_bounds(self) -> Tuple:
        """The bounds of the output grid in units of ``crs``."""
        return self._field("projected_bounds")

    @property
    def all_touched(self) -> Bool:
        """Whether every source pixel touching the area contributes to the result."""
        return self._field("all_touched")


def _geometry_arg(geometry: _Any) -> _Any:
    if geometry is None or isinstance(geometry, Proxytype):
        return geometry
    mapping = getattr(geometry, "__geo_interface__", geometry)
    if not isinstance(mapping, Mapping):
        raise argument_error(
            "GeoContext", "geometry", "a Geometry, GeoJSON mapping or shapely geometry", geometry
        )
    return Any._promote(dict(mapping))
