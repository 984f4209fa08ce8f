"""Tests of the tile server over real HTTP on 127.0.0.1."""
