"""Tests of the data layer: the catalog, reading, the sample data, STAC and vector products."""
