"""Tests of GeoContexts: AOI, DLTile and XYZTile maths."""
