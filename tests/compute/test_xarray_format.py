"""Results as xarray DataArrays: the same pixels as the ndarray, pixel-centre coordinates,
band names, image dates, properties and a CRS/transform that rioxarray and rasterio agree on."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.crs import CRS

import tiles as wf
from tiles.errors import ParameterError
from tiles.geocontext import AOI

xr = pytest.importorskip("xarray")
pytest.importorskip("rioxarray")

# Around Santa Fe, in the sample data's UTM zone.
SMALL = AOI(bounds=(-105.96, 35.67, -105.92, 35.71), crs="EPSG:32613", resolution=120)


def s2():
    return wf.ImageCollection.from_id("sample:s2", "2023-01-01", "2024-01-01")


def nan_filled(array: np.ma.MaskedArray) -> np.ndarray:
    return np.ma.filled(np.ma.asarray(array).astype(np.float64), np.nan)


def pixel_centres(transform: Affine, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """y of each row and x of each column, by rasterio."""
    xs, _ = rasterio.transform.xy(transform, np.zeros(cols), np.arange(cols), offset="center")
    _, ys = rasterio.transform.xy(transform, np.arange(rows), np.zeros(rows), offset="center")
    return np.asarray(ys), np.asarray(xs)


def test_image_as_xarray_equals_the_ndarray_with_coordinates_and_crs(tmp_path):
    img = s2().median(axis="images").pick_bands("red nir")
    img = img.mask(img > 0.12)
    result = img.compute(SMALL)
    assert np.ma.getmaskarray(result.ndarray).any()
    da = img.compute(SMALL, format="xarray")

    assert isinstance(da, xr.DataArray)
    assert da.dims == ("band", "y", "x")
    assert list(da["band"].values) == ["red", "nir"]
    np.testing.assert_array_equal(da.values, nan_filled(result.ndarray))
    np.testing.assert_array_equal(da.isnull().values, np.ma.getmaskarray(result.ndarray))

    transform = Affine.from_gdal(*result.geocontext["gdal_geotrans"])
    ys, xs = pixel_centres(transform, *SMALL.arr_shape)
    np.testing.assert_allclose(da["y"].values, ys)
    np.testing.assert_allclose(da["x"].values, xs)
    assert da.rio.crs == CRS.from_string("EPSG:32613")
    assert da.rio.transform() == transform == SMALL.transform
    assert da.attrs["product"] == result.properties["product"]

    # rioxarray writes what rasterio reads back on the same grid.
    path = tmp_path / "da.tif"
    da.rio.to_raster(path)
    with rasterio.open(path) as src:
        assert src.crs == CRS.from_string("EPSG:32613") and src.transform == transform
        np.testing.assert_array_equal(src.read(), da.values)

    # The method on a result gives the same DataArray.
    xr.testing.assert_identical(result.to_xarray(), da)


def test_collection_as_xarray_has_image_dates_ids_and_properties():
    col = s2().filter(lambda img: img.properties["id"].contains("z13")).pick_bands("red")
    result = col.compute(SMALL)
    da = col.compute(SMALL, format="xarray", block=False).result(timeout=120)

    assert da.dims == ("image", "band", "y", "x")
    assert da.sizes["image"] == len(result.properties) > 1
    np.testing.assert_array_equal(da.values, nan_filled(result.ndarray))
    dates = [np.datetime64(p["date"].replace(tzinfo=None), "ns") for p in result.properties]
    np.testing.assert_array_equal(da["date"].values, np.array(dates))
    assert list(da["id"].values) == [p["id"] for p in result.properties]
    assert da.attrs["properties"] == result.properties
    assert da.rio.crs == CRS.from_string("EPSG:32613")
    # Dates select images as in xarray anywhere.
    first = da.swap_dims(image="date").sel(date=dates[0])
    np.testing.assert_array_equal(first.values, da.values[0])
    xr.testing.assert_identical(result.to_xarray(), da)


def test_xarray_format_is_refused_for_files_and_non_imagery(tmp_path):
    with pytest.raises(ParameterError, match="not a file"):
        s2().median(axis="images").compute(SMALL, format="xarray", file=tmp_path / "x.nc")
    with pytest.raises(ParameterError, match="needs an Image or ImageCollection"):
        wf.Int(3).compute(format="xarray")
    with pytest.raises(ParameterError, match="calling process"):
        from tiles.compute.formats import encode

        encode(s2().median(axis="images").compute(SMALL), "xarray")
