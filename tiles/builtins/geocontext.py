"""Builtins that construct and query GeoContexts."""

from __future__ import annotations

from typing import Any

from tiles.builtins.core import register_attributes
from tiles.builtins.registry import builtin
from tiles.engine.vector import as_geometry
from tiles.geocontext import AOI, DLTile, GeoContext, XYZTile


def _field(ctx: GeoContext, name: str) -> Any:
    """A GeoContext field; its geometry as a vector value so vector methods apply."""
    value = getattr(ctx, name)
    return as_geometry(value) if name == "geometry" and value is not None else value


register_attributes(
    GeoContext,
    frozenset(GeoContext._FIELDS) | {"arr_shape", "gdal_geotrans", "projected_bounds"},
    _field,
)


@builtin("wf.GeoContext.create")
def create(**fields: Any) -> AOI:
    """``wf.GeoContext.create``: an AOI from its fields (lists become tuples)."""
    for name in ("bounds", "shape"):
        if isinstance(fields.get(name), list):
            fields[name] = tuple(fields[name])
    return AOI(**fields)


@builtin("wf.GeoContext.from_dltile_key")
def from_dltile_key(key: str, all_touched: bool = False) -> DLTile:
    """``wf.GeoContext.from_dltile_key``: the DLTile of a key."""
    return DLTile.from_key(key, all_touched=bool(all_touched))


@builtin("wf.GeoContext.from_xyz_tile")
def from_xyz_tile(x: int, y: int, z: int, all_touched: bool = False) -> XYZTile:
    """``wf.GeoContext.from_xyz_tile``: the Web Mercator XYZ tile ``(x, y, z)``."""
    return XYZTile(x, y, z, all_touched=bool(all_touched))


builtin("wf.GeoContext.coords_to_index")(lambda ctx, x, y: tuple(ctx.coords_to_index(x, y)))
builtin("wf.GeoContext.index_to_coords")(lambda ctx, r, c: tuple(ctx.index_to_coords(r, c)))
