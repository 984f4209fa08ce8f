"""Shared inputs for the engine tests: real NAIP pixels as engine values, and a counting source.

The NAIP quarter-quad series (4 bands red, green, blue, nir; uint8; nodata 0) is read with
rasterio, cropped to a small window and turned into float64 masked arrays. To have masked
pixels that differ from date to date, the brightest decile of each date's NIR band is masked
too (a stand-in for a cloud mask).
"""

from __future__ import annotations

import datetime
from functools import cache
from pathlib import Path

import numpy as np
import rasterio
from rasterio.windows import Window

from tests.support import NAIP
from tiles.engine import CollectionValue, ImageValue

NAIP_DATES = ["20090818", "20100629", "20120731", "20140720", "20150926"]
BANDS = ["red", "green", "blue", "nir"]
WINDOW = Window(col_off=300, row_off=200, width=48, height=40)


@cache
def _read_naip(root: str, date: str) -> tuple[np.ma.MaskedArray, tuple]:
    path = Path(root) / NAIP / f"m_4709963_se_14_1_{date}.tif"
    with rasterio.open(path) as ds:
        arr = ds.read(window=WINDOW, masked=True).astype(np.float64)
        t = ds.transform
        # geotrans of the crop, computed directly (GDAL order: x0, dx, 0, y0, 0, dy)
        geotrans = (t.c + WINDOW.col_off * t.a, t.a, 0.0, t.f + WINDOW.row_off * t.e, 0.0, t.e)
    bright = arr[3] > np.percentile(arr[3].compressed(), 90)
    arr = np.ma.MaskedArray(arr.data, mask=np.ma.getmaskarray(arr) | bright[np.newaxis])
    return arr, geotrans


def naip_array(root: str, date: str) -> np.ma.MaskedArray:
    """A ``(4, 40, 48)`` float64 crop of one NAIP date with nodata and bright-NIR pixels masked."""
    return _read_naip(root, date)[0].copy()


def _properties(root: str, date: str) -> dict:
    return {
        "id": f"naip:m_4709963_se_14_1_{date}",
        "date": datetime.datetime.strptime(date, "%Y%m%d"),
        "product": "usda:naip",
        "crs": "EPSG:26914",
        "geotrans": _read_naip(root, date)[1],
        "quarter_quad": "m_4709963_se_14",
    }


def bandinfo() -> dict:
    """Bandinfo like the catalog gives: id, name and data range per band."""
    return {b: {"id": f"usda:naip:{b}", "name": b, "data_range": [0, 255]} for b in BANDS}


def naip_image(root: Path, date: str = NAIP_DATES[0]) -> ImageValue:
    """One NAIP date as an ImageValue."""
    arr = naip_array(str(root), date)
    return ImageValue(arr, _properties(str(root), date), bandinfo())


def naip_stack(root: Path, dates: list[str] = NAIP_DATES) -> np.ma.MaskedArray:
    """The ``(n, 4, 40, 48)`` masked array of several dates."""
    return np.ma.stack([naip_array(str(root), d) for d in dates])


def naip_collection(root: Path, dates: list[str] = NAIP_DATES) -> CollectionValue:
    """Several NAIP dates as a (loaded) CollectionValue."""
    props = [_properties(str(root), d) for d in dates]
    return CollectionValue(naip_stack(root, dates), props, bandinfo())


class CountingSource:
    """A PixelSource over an in-memory stack that records every read."""

    def __init__(self, stack: np.ma.MaskedArray, bands: list[str]) -> None:
        self.stack = stack
        self.bands = bands
        self.reads: list[tuple[list[int], list[str]]] = []

    def read(self, image_indices, bands) -> np.ma.MaskedArray:
        self.reads.append((list(image_indices), list(bands)))
        positions = [self.bands.index(b) for b in bands]
        return self.stack[list(image_indices)][:, positions]


def lazy_naip(root: Path, dates: list[str] = NAIP_DATES) -> tuple[CollectionValue, CountingSource]:
    """A lazy CollectionValue over the NAIP stack and the source it reads from."""
    source = CountingSource(naip_stack(root, dates), BANDS)
    props = [_properties(str(root), d) for d in dates]
    return CollectionValue.lazy(source, list(range(len(dates))), props, bandinfo()), source


def assert_ma_equal(actual: np.ma.MaskedArray, expected: np.ma.MaskedArray) -> None:
    """Same shape, same mask, and equal (close) data at every unmasked pixel."""
    actual, expected = np.ma.asarray(actual), np.ma.asarray(expected)
    assert actual.shape == expected.shape
    np.testing.assert_array_equal(np.ma.getmaskarray(actual), np.ma.getmaskarray(expected))
    valid = ~np.ma.getmaskarray(expected)
    np.testing.assert_allclose(
        np.ma.getdata(actual)[valid].astype(float), np.ma.getdata(expected)[valid].astype(float)
    )
