"""Shared inputs of the map tests: a sample NDVI composite and the tile over it, and headless
Chromium (Debian's build, launched for a closed network) for the browser tests.
"""

from __future__ import annotations

import shutil

import pytest

import tiles as wf

#: A zoom-10 tile (z, x, y) over Santa Fe, inside the sample scenes.
TILE = (10, 210, 403)


def ndvi_image() -> wf.Image:
    """The median NDVI of the sample Sentinel-2 scenes through 2023."""
    s2 = wf.ImageCollection.from_id("sample:s2", "2023-01-01", "2024-01-01")
    red, nir = s2.unpack_bands("red nir")
    return ((nir - red) / (nir + red)).median(axis="images")


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: Headless, no sandbox (tests run as root), and no background traffic to outside hosts.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
