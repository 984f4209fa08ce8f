"""Tests of the proxy types: the grafts they build, promotion and build-time errors."""
