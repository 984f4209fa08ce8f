"""Tests of the API reference's examples, run through the public API."""
