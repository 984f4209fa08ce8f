"""Computing on real NAIP imagery, checked against rasterio + numpy.ma computed independently."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
import rasterio.features
from rasterio.warp import Resampling, reproject, transform_bounds, transform_geom

import tiles as wf
from tests.support import NAIP, NAIP_BANDS
from tiles.data import catalog
from tiles.data.reading import CatalogSource, clear_read_cache
from tiles.errors import (
    DataError,
    GeoContextError,
    NotFoundError,
    ParameterError,
    WorkflowsError,
)
from tiles.geocontext import AOI
from tiles.graft import interpret
from tiles.graft.analysis import HALO_PIXELS

PRODUCT = "acc_naip"
BANDS = ("red", "green", "blue", "nir")
UTC = dt.timezone.utc
# An inner part of the NAIP quarter-quad (which spans ~99.185-99.124 W, 47.004-47.037 N).
INNER_LONLAT = (-99.170, 47.012, -99.145, 47.030)
OUTSIDE_LONLAT = (-98.50, 46.50, -98.45, 46.53)


@pytest.fixture(scope="module")
def naip(shared_data: Path) -> dict[str, Path]:
    """Register the ten NAIP dates in the default catalog; map image id -> file."""
    catalog.create_product(
        PRODUCT,
        NAIP_BANDS,
        title="NAIP 4-band, North Dakota",
    )
    files = {}
    for f in sorted((shared_data / NAIP).glob("*.tif")):
        files[catalog.add_image(PRODUCT, f).id] = f
    assert len(files) == 10
    return files


def image_id(date: str) -> str:
    return f"{PRODUCT}:m_4709963_se_14_1_{date}"


@pytest.fixture(scope="module")
def mercator_ctx() -> AOI:
    bounds = transform_bounds("EPSG:4326", "EPSG:3857", *INNER_LONLAT)
    return AOI(bounds=bounds, bounds_crs="EPSG:3857", crs="EPSG:3857", resolution=8.0)


def reference(
    path: Path,
    ctx: AOI,
    resampling: Resampling = Resampling.nearest,
    dtype: str = "float64",
) -> np.ma.MaskedArray:
    """All four bands of ``path`` warped into ``ctx``'s grid by rasterio, rescaled to [0, 1]."""
    rows, cols = ctx.arr_shape
    out = np.full((4, rows, cols), np.nan, dtype=dtype)
    with rasterio.open(path) as src:
        for b in range(4):
            reproject(
                rasterio.band(src, b + 1),
                out[b],
                src_nodata=0,
                dst_transform=ctx.transform,
                dst_crs=ctx.crs,
                dst_nodata=np.nan,
                resampling=resampling,
            )
    data = np.ma.masked_invalid(out.astype("float64"))
    return data / 255.0  # data_range (0, 255) and no physical range: values in [0, 1]


def assert_masked_equal(got, expected, rtol: float = 1e-12) -> None:
    got, expected = np.ma.asarray(got), np.ma.asarray(expected)
    assert got.shape == expected.shape
    np.testing.assert_array_equal(np.ma.getmaskarray(got), np.ma.getmaskarray(expected))
    np.testing.assert_allclose(got.compressed(), expected.compressed(), rtol=rtol, atol=1e-12)


def stats_of(array: np.ma.MaskedArray) -> dict[str, dict[str, float]]:
    """Per-band numpy.ma statistics, the way ``axis="pixels"`` reductions are documented."""
    out: dict[str, dict[str, float]] = {}
    for i, name in enumerate(BANDS):
        band = array[i]
        out[name] = {
            "mean": float(band.mean()),
            "min": float(band.min()),
            "max": float(band.max()),
            "std": float(band.std()),
            "count": float(band.count()),
            "median": float(np.ma.median(band)),
            "sum": float(band.sum()),
        }
    return out


# -- pixels and statistics -----------------------------------------------------------------------


def test_image_pixels_in_web_mercator(naip, mercator_ctx: AOI) -> None:
    iid = image_id("20150926")
    result = wf.Image.from_id(iid).compute(mercator_ctx)
    expected = reference(naip[iid], mercator_ctx)
    assert list(result.bandinfo) == list(BANDS)
    assert result.bandinfo["nir"]["data_range"] == (0.0, 255.0)
    assert result.properties["id"] == iid
    assert result.properties["date"] == dt.datetime(2015, 9, 26, tzinfo=UTC)
    assert result.properties["crs"] == "EPSG:26914"
    assert result.geocontext["crs"] == "EPSG:3857"
    assert_masked_equal(result.ndarray, expected)


@pytest.mark.parametrize("op", ["mean", "min", "max", "std", "count", "median", "sum"])
def test_pixel_statistics_in_another_crs(naip, mercator_ctx: AOI, op: str) -> None:
    iid = image_id("20180716")
    expected = stats_of(reference(naip[iid], mercator_ctx))
    img = wf.Image.from_id(iid)
    got = getattr(img, op)(axis="pixels").compute(mercator_ctx)
    assert set(got) == set(BANDS)
    for name in BANDS:
        assert got[name] == pytest.approx(expected[name][op], rel=1e-9), name
    # The generic form gives the same numbers.
    assert img.reduction(op, axis="pixels").compute(mercator_ctx) == pytest.approx(got, rel=1e-12)


def test_statistics_in_lonlat_with_bilinear_and_a_cutline(naip) -> None:
    # A triangle in lon/lat: the AOI's geometry is a cutline, masking pixels outside it.
    w, s, e, n = INNER_LONLAT
    triangle = {
        "type": "Polygon",
        "coordinates": [[(w, s), (e, s), ((w + e) / 2, n), (w, s)]],
    }
    ctx = AOI(geometry=triangle, crs="EPSG:4326", resolution=0.0001)
    iid = image_id("20120731")
    result = wf.Image.from_id(iid, resampler="bilinear").compute(ctx)
    # Resampling that looks at neighbours reads the grid grown by a halo and crops it, so
    # windows and tiles join without seams (GDAL's warper interpolates its coordinate
    # transform across the destination extent, so the extent changes values slightly).
    halo = HALO_PIXELS
    grown = reference(naip[iid], ctx.buffered(halo), Resampling.bilinear, dtype="float32")
    expected = grown[:, halo:-halo, halo:-halo]
    direct = reference(naip[iid], ctx, Resampling.bilinear, dtype="float32")
    assert np.ma.abs(expected - direct).max() < 0.5 / 255  # within half a digital number
    outside = rasterio.features.geometry_mask(
        [transform_geom("EPSG:4326", ctx.crs, triangle)],
        out_shape=ctx.arr_shape,
        transform=ctx.transform,
    )
    expected = np.ma.masked_where(np.broadcast_to(outside, expected.shape), expected)
    assert outside.any() and not outside.all()
    assert_masked_equal(result.ndarray, expected, rtol=1e-6)
    stats = wf.Image.from_id(iid, resampler="bilinear").mean(axis="pixels").compute(ctx)
    for i, name in enumerate(BANDS):
        assert stats[name] == pytest.approx(float(expected[i].mean()), rel=1e-6)


def test_whole_image_reduction_and_band_reduction(naip, mercator_ctx: AOI) -> None:
    iid = image_id("20100629")
    expected = reference(naip[iid], mercator_ctx)
    img = wf.Image.from_id(iid)
    assert img.mean().compute(mercator_ctx) == pytest.approx(float(expected.mean()), rel=1e-9)
    assert img.count().compute(mercator_ctx) == expected.count()
    band_max = img.max(axis="bands").compute(mercator_ctx)
    assert list(band_max.bandinfo) == ["max"]
    assert_masked_equal(band_max.ndarray[0], expected.max(axis=0))


def test_ndvi_matches_numpy(naip, mercator_ctx: AOI) -> None:
    iid = image_id("20160816")
    img = wf.Image.from_id(iid)
    red, nir = img.unpack_bands("red nir")
    ndvi = (nir - red) / (nir + red)
    result = ndvi.compute(mercator_ctx)
    expected = reference(naip[iid], mercator_ctx)
    exp_ndvi = (expected[3] - expected[0]) / (expected[3] + expected[0])
    assert list(result.bandinfo) == ["nir_sub_red_div_nir_add_red"]
    assert_masked_equal(result.ndarray[0], exp_ndvi, rtol=1e-9)


# -- compositing ---------------------------------------------------------------------------------

COMPOSITE_DATES = ("20140720", "20150926", "20160816", "20170827", "20180716")


def masked_stack(naip, ctx: AOI, threshold: float) -> np.ma.MaskedArray:
    """The stack of COMPOSITE_DATES with every band masked where nir > threshold."""
    layers = []
    for date in COMPOSITE_DATES:
        data = reference(naip[image_id(date)], ctx)
        bright = data[3].filled(0) > threshold  # masked nir pixels do not add to the mask
        layers.append(np.ma.masked_where(np.broadcast_to(bright, data.shape), data))
    return np.ma.stack(layers)


def test_masked_median_composite(naip, mercator_ctx: AOI) -> None:
    threshold = 0.45
    col = wf.ImageCollection.from_id(PRODUCT, "2014-01-01", "2019-01-01")
    masked = col.map(lambda img: img.mask(img.pick_bands("nir") > threshold))
    composite = masked.median(axis="images").compute(mercator_ctx)
    stack = masked_stack(naip, mercator_ctx, threshold)
    expected = np.ma.median(stack, axis=0)
    # the threshold really masks some pixels, and some pixels in every image
    assert 0 < stack.mask.sum() < stack.size
    assert np.ma.getmaskarray(expected).any()
    assert list(composite.bandinfo) == list(BANDS)
    assert_masked_equal(composite.ndarray, expected)
    # The same with a collection-wide mask, and with a threshold given as a parameter.
    t = wf.parameter("t", wf.Float)
    direct = col.mask(col.pick_bands("nir") > t).median(axis="images")
    assert_masked_equal(direct.compute(mercator_ctx, t=threshold).ndarray, expected)
    means = col.mask(col.pick_bands("nir") > t).mean(axis=("images", "pixels"))
    got = means.compute(mercator_ctx, t=threshold)
    flat = stack.transpose(1, 0, 2, 3).reshape(4, -1)
    for i, name in enumerate(BANDS):
        assert got[name] == pytest.approx(float(flat[i].mean()), rel=1e-9)


def test_collection_pixels_reduction_per_image(naip, mercator_ctx: AOI) -> None:
    col = wf.ImageCollection.from_id(PRODUCT, "2014-01-01", "2016-01-01")
    got = col.max(axis="pixels").compute(mercator_ctx)
    dates = ("20140720", "20150926")
    assert len(got) == len(dates)
    for stats, date in zip(got, dates, strict=True):
        expected = stats_of(reference(naip[image_id(date)], mercator_ctx))
        assert stats == pytest.approx({b: expected[b]["max"] for b in BANDS}, rel=1e-12)


# -- band and mask rules -------------------------------------------------------------------------


def test_pick_bands_rules(naip, mercator_ctx: AOI) -> None:
    iid = image_id("20170827")
    expected = reference(naip[iid], mercator_ctx)
    img = wf.Image.from_id(iid)
    picked = img.pick_bands("nir red nir nir").compute(mercator_ctx)
    assert list(picked.bandinfo) == ["nir", "red", "nir_1", "nir_2"]
    assert_masked_equal(picked.ndarray, expected[[3, 0, 3, 3]])
    assert picked.bandinfo["nir_1"]["data_range"] == (0.0, 255.0)
    listed = img.pick_bands(["blue", "green"]).compute(mercator_ctx)
    assert list(listed.bandinfo) == ["blue", "green"]
    assert_masked_equal(listed.ndarray, expected[[2, 1]])
    partial = img.pick_bands("green swir", allow_missing=True).compute(mercator_ctx)
    assert list(partial.bandinfo) == ["green"]
    assert_masked_equal(partial.ndarray, expected[[1]])
    none = img.pick_bands("swir", allow_missing=True).compute(mercator_ctx)
    assert none.ndarray is None and len(none.bandinfo) == 0
    with pytest.raises(WorkflowsError, match="swir"):
        img.pick_bands("red swir").compute(mercator_ctx)


def test_rename_bands(naip, mercator_ctx: AOI) -> None:
    iid = image_id("20170827")
    expected = reference(naip[iid], mercator_ctx)
    img = wf.Image.from_id(iid)
    renamed = img.rename_bands(red="r", nir="n").compute(mercator_ctx)
    assert list(renamed.bandinfo) == ["r", "green", "blue", "n"]
    assert_masked_equal(renamed.ndarray, expected)
    positional = img.pick_bands("red nir").rename_bands("a", "b").compute(mercator_ctx)
    assert list(positional.bandinfo) == ["a", "b"]
    assert_masked_equal(positional.ndarray, expected[[0, 3]])
    with pytest.raises(WorkflowsError, match="swir"):
        img.rename_bands(swir="s").compute(mercator_ctx)


def test_mask_or_and_replace(naip, mercator_ctx: AOI) -> None:
    iid = image_id("20190904")
    data = reference(naip[iid], mercator_ctx)
    img = wf.Image.from_id(iid)
    red, nir = img.unpack_bands("red nir")
    first = img.mask(nir > 0.4)
    nodata = np.ma.getmaskarray(data)
    by_nir = np.broadcast_to(data[3].filled(0) > 0.4, data.shape)
    assert_masked_equal(first.compute(mercator_ctx).ndarray, np.ma.masked_where(by_nir, data))
    # replace=False adds to the mask
    by_red = np.broadcast_to(data[0].filled(0) > 0.3, data.shape)
    added = first.mask(red > 0.3).compute(mercator_ctx)
    np.testing.assert_array_equal(added.ndarray.mask, nodata | by_nir | by_red)
    # replace=True: the new mask alone, with the mask's own masked pixels masked
    red_masked = np.broadcast_to(np.ma.getmaskarray(data[0]), data.shape)
    replaced = first.mask(red > 0.3, replace=True).compute(mercator_ctx)
    np.testing.assert_array_equal(replaced.ndarray.mask, by_red | red_masked)
    np.testing.assert_allclose(
        replaced.ndarray.compressed(),
        np.ma.masked_where(by_red | red_masked, data.filled(0)).compressed(),
    )
    # getmask gives the mask as band "mask"
    got = first.getmask().compute(mercator_ctx)
    assert list(got.bandinfo) == ["mask"]
    np.testing.assert_array_equal(np.asarray(got.ndarray[0]), (nodata | by_nir)[0])


# -- catalog search through from_id --------------------------------------------------------------


def ids_of(col, ctx) -> list[str]:
    return [p["id"] for p in col.properties.compute(ctx)]


def test_from_id_date_filter_limit_and_footprint(naip, mercator_ctx: AOI) -> None:
    # start inclusive, end exclusive (images are dated at 00:00 UTC)
    col = wf.ImageCollection.from_id(PRODUCT, "2012-07-31", "2016-08-16")
    assert ids_of(col, mercator_ctx) == [image_id(d) for d in ("20120731", "20140720", "20150926")]
    col = wf.ImageCollection.from_id(PRODUCT, dt.datetime(2012, 7, 31, 0, 0, 1, tzinfo=UTC))
    assert ids_of(col, mercator_ctx)[0] == image_id("20140720")
    everything = wf.ImageCollection.from_id(PRODUCT)
    assert everything.length().compute(mercator_ctx) == 10
    dates = [p["date"] for p in everything.properties.compute(mercator_ctx)]
    assert dates == sorted(dates)
    limited = wf.ImageCollection.from_id(PRODUCT, "2010-01-01", limit=3)
    assert ids_of(limited, mercator_ctx) == [
        image_id(d) for d in ("20100629", "20120731", "20140720")
    ]
    outside = AOI(
        bounds=transform_bounds("EPSG:4326", "EPSG:3857", *OUTSIDE_LONLAT),
        bounds_crs="EPSG:3857",
        crs="EPSG:3857",
        resolution=30.0,
    )
    assert everything.length().compute(outside) == 0
    empty = everything.compute(outside)
    assert len(empty) == 0 and empty.ndarray is None


def test_map_of_dates_and_filter(naip, mercator_ctx: AOI) -> None:
    col = wf.ImageCollection.from_id(PRODUCT)
    dates = col.map(lambda img: img.properties["date"])
    assert type(dates).__name__ == "List[Datetime]"
    got = dates.compute(mercator_ctx)
    assert [d.year for d in got] == [2009, 2010, 2012, 2014, 2015, 2016, 2017, 2018, 2019, 2020]
    summer = col.filter(lambda img: img.properties["date"].month == 7)
    assert ids_of(summer, mercator_ctx) == [
        image_id(d) for d in ("20120731", "20140720", "20180716")
    ]


def test_metadata_only_work_reads_no_pixels(naip, mercator_ctx, monkeypatch) -> None:
    reads = []
    real_read = CatalogSource.read

    def counting_read(self, image_indices, bands):
        reads.append((list(image_indices), list(bands)))
        return real_read(self, image_indices, bands)

    monkeypatch.setattr(CatalogSource, "read", counting_read)
    clear_read_cache()
    col = wf.ImageCollection.from_id(PRODUCT, "2010-01-01", "2020-01-01")
    assert col.length().compute(mercator_ctx) == 8
    assert len(col.properties.compute(mercator_ctx)) == 8
    july = col.filter(lambda img: img.properties["date"].month == 7)
    assert july.length().compute(mercator_ctx) == 3
    assert col.map(lambda img: img.properties["id"]).compute(mercator_ctx)[0] == image_id(
        "20100629"
    )
    assert col[2].properties["date"].compute(mercator_ctx).year == 2014
    assert col.pick_bands("red").length().compute(mercator_ctx) == 8
    assert reads == []
    # ...while pixel work does read, only the bands it needs
    col.pick_bands("nir").max(axis="images").compute(mercator_ctx)
    assert reads and all(bands == ["nir"] for _, bands in reads)


# -- errors --------------------------------------------------------------------------------------


def test_documented_error_cases_reach_the_caller() -> None:
    """The API reference's error cases, through compute, on the sample catalog."""
    ctx = AOI(
        bounds=(412980.0, 3949170.0, 416820.0, 3953010.0),
        bounds_crs="EPSG:32613",
        crs="EPSG:32613",
        resolution=240.0,
    )
    img = wf.Image.from_id("sample:s2:20230115_z13")
    col = wf.ImageCollection.from_id("sample:s2", "2023-01-01", "2023-01-31")
    assert col.length().compute(ctx) == 2
    # operands with different bands (neither with a single band)
    with pytest.raises(WorkflowsError, match=r"\['red', 'green'\] and \['red', 'green', 'blue'\]"):
        (col.pick_bands("red green") + img.pick_bands("red green blue")).compute(ctx)
    # kernel dims that do not match its data: at build time, or at compute time from parameters
    with pytest.raises(ValueError, match=r"4 values but dims \(3, 3\) need 9"):
        wf.Kernel(dims=(3, 3), data=[1.0] * 4)
    with pytest.raises(ValueError, match="two positive ints"):
        wf.Kernel(dims=(0, 3), data=[])
    dims = wf.parameter("dims", wf.Tuple[wf.Int, wf.Int])
    kernel = wf.Kernel(dims=dims, data=[1.0] * 4)
    with pytest.raises(WorkflowsError, match=r"dims \(3, 3\) needs 9 values, got 4"):
        wf.conv2d(img, kernel).compute(ctx, dims=(3, 3))
    assert wf.conv2d(img, kernel).compute(ctx, dims=(2, 2)).ndarray.shape == (4, *ctx.arr_shape)
    # a map_window window longer than the collection
    with pytest.raises(WorkflowsError, match=r"window of length 4 \(back=2, fwd=1\) is longer"):
        col.map_window(lambda back, img, fwd: img, back=2, fwd=1).compute(ctx)
    assert col.map_window(lambda back, img, fwd: img, back=1).length().compute(ctx) == 1
    # colormap takes both vmin and vmax, or neither
    for limits in ({"vmin": 0.1}, {"vmax": 0.8}):
        with pytest.raises(ValueError, match="both vmin and vmax, or neither"):
            img.pick_bands("red").colormap("magma", **limits)
        with pytest.raises(ValueError, match="both vmin and vmax, or neither"):
            col.pick_bands("red").colormap("magma", **limits)
    # picking a band the imagery does not have (unless allow_missing)
    with pytest.raises(
        NotFoundError, match="'swir1' not found; available bands: blue, green, red, nir"
    ):
        img.pick_bands("red swir1").compute(ctx)
    with pytest.raises(NotFoundError, match="'swir1' not found"):
        col.pick_bands("swir1").compute(ctx)
    picked = col.pick_bands(["red", "swir1"], allow_missing=True).compute(ctx)
    assert list(picked.bandinfo) == ["red"]


def test_errors_name_the_problem(naip, mercator_ctx: AOI) -> None:
    with pytest.raises(NotFoundError, match="'no_such_product'"):
        wf.ImageCollection.from_id("no_such_product").compute(mercator_ctx)
    with pytest.raises(NotFoundError, match="no_such_image"):
        wf.Image.from_id(f"{PRODUCT}:no_such_image").compute(mercator_ctx)
    img = wf.Image.from_id(image_id("20090818"))
    with pytest.raises(WorkflowsError, match="'swir'"):
        img.pick_bands("swir").compute(mercator_ctx)
    with pytest.raises(GeoContextError, match="needs a GeoContext"):
        img.compute()
    with pytest.raises(GeoContextError, match="needs a GeoContext"):
        wf.ImageCollection.from_id(PRODUCT).length().compute()
    t = wf.parameter("t", wf.Float)
    with pytest.raises(ParameterError, match="'t'"):
        img.mask(img.pick_bands("nir") > t).compute(mercator_ctx)
    # an axis no Image has, sent as a graft (the proxies refuse it before)
    graft = {
        "0": image_id("20090818"),
        "1": ["wf.Image.load", "0"],
        "2": "images",
        "3": ["wf.mean", "1", {"axis": "2"}],
        "returns": "3",
    }
    with pytest.raises(WorkflowsError, match="images"):
        interpret(graft, mercator_ctx)


def test_missing_file_is_a_data_error(naip, mercator_ctx: AOI, tmp_path: Path) -> None:
    source = naip[image_id("20200831")]
    copy = tmp_path / "m_4709963_se_14_1_20200831.tif"
    shutil.copy(source, copy)
    record = catalog.add_image(PRODUCT, copy, image_id="vanishing")
    assert record.id == f"{PRODUCT}:vanishing"
    try:
        copy.unlink()
        clear_read_cache()
        with pytest.raises(DataError, match=str(copy.name)):
            wf.Image.from_id(record.id).compute(mercator_ctx)
        # metadata still works: nothing needs the file
        props = wf.Image.from_id(record.id).properties.compute(mercator_ctx)
        assert props["id"] == record.id
    finally:
        catalog.remove_image(record.id)
