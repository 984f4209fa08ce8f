"""Tests of the tiles package and its map widgets, one folder per layer (see README "Layout")."""
