"""Tests of the engine: values, operations, reductions, rendering, vector rasterisation."""
