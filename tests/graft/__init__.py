"""Tests of the graft language: parsing, hashing, interpretation and analysis."""
