"""Tests of the root modules (display options, errors, settings)."""
