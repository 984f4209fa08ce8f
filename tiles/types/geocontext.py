"""The GeoContext proxy: where and at what resolution geospatial work happens."""

from __future__ import annotations

from typing import Any as _Any

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
        fields = {
            "geometry": _geometry_arg(geometry),
            "resolution": resolution,
            "crs": crs,
            "align_pixels": align_pixels,
            "bounds": None if bounds is None else Tuple[Float, Float, Float, Float](bounds),
            "bounds_crs": bounds_crs,
            "shape": None if shape is None else Tuple[Int, Int](shape),
            "all_touched": all_touched,
        }
        obj = GeoContext._from_apply(
            "wf.GeoContext.create", **{k: v for k, v in fields.items() if v is not None}
        )
        self.graft, self.params = obj.graft, obj.params

    @classmethod
    def from_scenes(cls, ctx: _Any) -> GeoContext:
        """The proxy of a concrete AOI, DLTile or XYZTile."""
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
        raise TypeError(f"expected an AOI, DLTile or XYZTile, not {type(ctx).__name__}")

    @classmethod
    def _promote(cls, obj: _Any) -> GeoContext:
        if isinstance(obj, cls):
            return obj
        from tiles.geocontext import GeoContext as ConcreteGeoContext

        if isinstance(obj, ConcreteGeoContext):
            return cls.from_scenes(obj)
        return super()._promote(obj)

    @classmethod
    def from_dltile_key(cls, key, all_touched=False) -> GeoContext:
        return cls._from_apply("wf.GeoContext.from_dltile_key", key, all_touched)

    @classmethod
    def from_xyz_tile(cls, x, y, z, all_touched=False) -> GeoContext:
        return cls._from_apply("wf.GeoContext.from_xyz_tile", x, y, z, all_touched)

    def coords_to_index(self, x, y) -> Tuple:
        return Tuple[Int, Int]._from_apply("wf.GeoContext.coords_to_index", self, x, y)

    def index_to_coords(self, row, col) -> Tuple:
        return Tuple[Float, Float]._from_apply("wf.GeoContext.index_to_coords", self, row, col)

    @property
    def geometry(self):
        from tiles.types.vector import Geometry

        return Geometry._from_apply("wf.getattr", self, "geometry")

    def __getattr__(self, name: str):
        if name in _FIELD_TYPES:
            return _FIELD_TYPES[name]._from_apply("wf.getattr", self, name)
        raise AttributeError(f"GeoContext has no attribute {name!r}")


def _geometry_arg(geometry: _Any) -> _Any:
    if geometry is None or isinstance(geometry, Proxytype):
        return geometry
    mapping = getattr(geometry, "__geo_interface__", geometry)
    return Any._promote(dict(mapping))
