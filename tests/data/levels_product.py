"""A catalog product with two processing levels, built from the sample's files for tests.

``levels:s2`` has bands ``red`` and ``nir`` at level ``"toa"`` (the sample's own files) and
``"surface"`` (bands ``red_sr`` and ``nir_sr``: new files, the stored values less 300). Only
the image ``levels:s2:with_surface`` has surface files; ``levels:s2:toa_only`` has none.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio

from tiles.data import catalog

PRODUCT = "levels:s2"
WITH_SURFACE = f"{PRODUCT}:with_surface"
TOA_ONLY = f"{PRODUCT}:toa_only"
#: The sample images the two are made of.
SOURCES = {WITH_SURFACE: "sample:s2:20230614_z13", TOA_ONLY: "sample:s2:20230115_z12"}
SURFACE_OFFSET = 300  # stored units taken off the top-of-atmosphere values

BANDS = [
    {
        "name": "red",
        "data_range": (0, 10000),
        "physical_range": (0, 1),
        "nodata": 0,
        "processing_levels": {"toa": "red", "surface": "red_sr"},
    },
    {
        "name": "nir",
        "data_range": (0, 10000),
        "physical_range": (0, 1),
        "nodata": 0,
        "processing_levels": {"toa": "nir", "surface": "nir_sr"},
    },
    {"name": "red_sr", "data_range": (0, 10000), "physical_range": (0, 1), "nodata": 0},
    {"name": "nir_sr", "data_range": (0, 10000), "physical_range": (0, 1), "nodata": 0},
]


def _surface_file(toa_path: str, folder: Path, name: str) -> str:
    """The stored values less :data:`SURFACE_OFFSET` (at least 1, nodata kept) as a GeoTIFF."""
    with rasterio.open(toa_path) as src:
        profile = src.profile
        data = src.read(1)
    nodata = data == 0
    surface = np.maximum(data.astype(np.int32) - SURFACE_OFFSET, 1).astype(data.dtype)
    surface[nodata] = 0
    profile.update(driver="GTiff", compress="deflate")
    path = folder / f"{name}.tif"
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(surface, 1)
    return str(path)


def create_levels_product(folder: Path) -> None:
    """Define ``levels:s2`` and its two images in the current catalog (files in ``folder``)."""
    folder.mkdir(parents=True, exist_ok=True)
    catalog.create_product(PRODUCT, BANDS, title="Two processing levels (tests)")
    for image_id, source_id in SOURCES.items():
        source = catalog.image(source_id)
        files = {band: source.files[band][0] for band in ("red", "nir")}
        if image_id == WITH_SURFACE:
            for band in ("red", "nir"):
                files[f"{band}_sr"] = _surface_file(files[band], folder, f"{band}_sr")
        catalog.add_image(
            PRODUCT,
            files,
            image_id=image_id.split(":")[-1],
            acquired=source.acquired,
            properties={"cloud_fraction": source.properties.get("cloud_fraction", 0.0)},
        )
