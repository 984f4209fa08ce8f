"""Concrete GeoContexts to compute on: ``from tiles import scenes; scenes.AOI(...)``."""

from tiles.geocontext import AOI, DLTile, GeoContext, XYZTile

__all__ = ["AOI", "DLTile", "GeoContext", "XYZTile"]
