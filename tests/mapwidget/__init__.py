"""Tests of the map widgets, the notebooks and the browser pages."""
