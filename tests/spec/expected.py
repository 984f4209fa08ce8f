"""What the reference's examples must compute on the sample catalog, found independently.

The reference prints numbers of its own imagery, so an example's printed output can only be
checked for its shape. These expectations check the values: pixels are read from the
catalogued files with rasterio (warped into the example's GeoContext grid, nearest
neighbour, rescaled from ``data_range`` to ``physical_range`` or [0, 1]), which images a
product has in a date range is decided with shapely from the catalogued footprints, and every
operation is redone with numpy or matplotlib.

:data:`EXPECTATIONS` maps an example name to {source-line fragment: check}; a check gets the
example's namespace, the value the step computed and the GeoContext.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import matplotlib
import numpy as np
import rasterio
import rasterio.transform
import shapely.geometry
from rasterio.enums import Resampling
from rasterio.warp import reproject

from tests.data import levels_product
from tiles.data import catalog

Check = Callable[[dict, Any, Any], None]
UTC = dt.timezone.utc


# -- independent reads ---------------------------------------------------------------------


def read_image(
    image_id: str, ctx: Any, bands: list[str] | None = None, resampling=Resampling.nearest
) -> np.ma.MaskedArray:
    """(bands, rows, cols) of a catalogued image warped into ``ctx``'s grid, in physical units."""
    record = catalog.image(image_id)
    product = catalog.product(record.product)
    rows, cols = ctx.arr_shape
    out = []
    for name in bands or product.band_names:
        band = product.band(name)
        path, index = record.files[name]
        values = np.full((rows, cols), np.nan)
        with rasterio.open(path) as src:
            reproject(
                rasterio.band(src, index),
                values,
                src_nodata=band.nodata,
                dst_transform=ctx.transform,
                dst_crs=ctx.rasterio_crs,
                dst_nodata=np.nan,
                resampling=resampling,
            )
        lo, hi = band.data_range
        plo, phi = band.physical_range or (0.0, 1.0)
        out.append((values - lo) * ((phi - plo) / (hi - lo)) + plo)
    return np.ma.masked_invalid(np.stack(out))


def image_ids(product_id: str, start: str, end: str, ctx: Any) -> list[str]:
    """Images of a product acquired in [start, end) whose footprint meets ``ctx``, by date."""
    first, last = (dt.datetime.fromisoformat(d).replace(tzinfo=UTC) for d in (start, end))
    area = shapely.geometry.box(*ctx.bounds_lonlat)
    records = [
        r
        for r in catalog.images(product_id)
        if first <= r.acquired < last and shapely.geometry.shape(r.footprint).intersects(area)
    ]
    return [r.id for r in sorted(records, key=lambda r: (r.acquired, r.id))]


def read_collection(
    ids: list[str], ctx: Any, bands: list[str] | None = None, resampling=Resampling.nearest
) -> np.ma.MaskedArray:
    return np.ma.stack([read_image(i, ctx, bands, resampling) for i in ids])


# -- comparisons ---------------------------------------------------------------------------


def same_array(actual: Any, expected: np.ma.MaskedArray, max_differing: float = 0.0) -> None:
    """Same shape, mask and values; at most a ``max_differing`` fraction of values differ."""
    assert isinstance(actual, np.ma.MaskedArray), f"{type(actual).__name__} is no masked array"
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}"
    np.testing.assert_array_equal(np.ma.getmaskarray(actual), np.ma.getmaskarray(expected))
    a = np.ma.filled(actual, 0).astype(float)
    b = np.ma.filled(expected, 0).astype(float)
    if max_differing:
        assert np.mean(~np.isclose(a, b, rtol=1e-12, atol=0)) <= max_differing
    else:
        np.testing.assert_allclose(a, b, rtol=1e-12)


def same_values(actual: dict, expected: dict) -> None:
    assert list(actual) == list(expected), f"{list(actual)} != {list(expected)}"
    for key in expected:
        assert actual[key] == pytest_approx(expected[key]), (
            f"{key}: {actual[key]} != {expected[key]}"
        )


def pytest_approx(value: float) -> Any:
    import pytest

    return pytest.approx(value, rel=1e-12)


def plain(value: Any) -> Any:
    """Tuples as lists, recursively, so metadata compares as the reference prints it."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


# -- the examples' images ------------------------------------------------------------------

# The names the examples use, as test_spec_doc_examples maps them to the sample catalog.
S2_IMAGE = "sample:s2:20230515_z13"
LANDSAT_IMAGE = "sample:s2:20230614_z13"
PRODUCT = "sample:s2"
JANUARY = ("2023-01-01", "2023-01-31")  # "2017-01-01" .. "2017-05-30": one acquisition date
TWO_DATES = ("2023-01-01", "2023-02-28")  # .. "2017-06-30": two dates
YEAR = ("2023-01-01", "2023-12-31")
RGB = ["red", "green", "blue"]


def _image(image_id: str, bands: list[str] | None = None) -> Check:
    def check(ns: dict, value: Any, ctx: Any) -> None:
        record = catalog.image(image_id)
        product = catalog.product(record.product)
        same_array(value.ndarray, read_image(image_id, ctx, bands))
        assert list(value.bandinfo) == (bands or product.band_names)
        assert plain(value.properties) == plain(record.properties_dict())

    return check


def _image_array(image_id: str, transform: Callable = lambda a: a) -> Check:
    def check(ns: dict, value: Any, ctx: Any) -> None:
        same_array(value, transform(read_image(image_id, ctx)))

    return check


def _image_array_of(image_id: str) -> Check:
    """At processing_level="surface": the pixels of the bands holding that level."""

    def check(ns: dict, value: Any, ctx: Any) -> None:
        same_array(value.ndarray, read_image(image_id, ctx, ["red_sr", "nir_sr"]))
        assert list(value.bandinfo) == ["red", "nir"]

    return check


def _collection(
    dates: tuple[str, str], bands: list[str] | None = None, resampling=Resampling.nearest
) -> Check:
    def check(ns: dict, value: Any, ctx: Any) -> None:
        ids = image_ids(PRODUCT, *dates, ctx)
        assert [p["id"] for p in value.properties] == ids
        # GDAL's warper chooses the source window of a min/max resampler chunk by chunk, so
        # a few pixels where the scenes are reprojected may differ from one whole-grid warp
        tolerance = 0.0 if resampling == Resampling.nearest else 0.001
        same_array(value.ndarray, read_collection(ids, ctx, bands, resampling), tolerance)

    return check


def _collection_array(dates: tuple[str, str], transform: Callable = lambda a: a) -> Check:
    def check(ns: dict, value: Any, ctx: Any) -> None:
        same_array(value, transform(read_collection(image_ids(PRODUCT, *dates, ctx), ctx)))

    return check


def _rgb_min(ns: dict, value: Any, ctx: Any) -> None:
    array = read_image(S2_IMAGE, ctx, RGB)
    same_values(value, {b: float(array[i].min()) for i, b in enumerate(RGB)})


def _rgb_max_over_images(ns: dict, value: Any, ctx: Any) -> None:
    array = read_collection(image_ids(PRODUCT, *YEAR, ctx), ctx, RGB)
    same_values(value, {b: float(array[:, i].max()) for i, b in enumerate(RGB)})


def _scale(lo: float, hi: float) -> Callable[[np.ma.MaskedArray], np.ma.MaskedArray]:
    """scale_values without a domain: each band (of each image) from its own min/max."""

    def transform(array: np.ma.MaskedArray) -> np.ma.MaskedArray:
        axes = (array.ndim - 2, array.ndim - 1)
        small = array.min(axis=axes, keepdims=True)
        large = array.max(axis=axes, keepdims=True)
        return (array - small) / (large - small) * (hi - lo) + lo

    return transform


def _mask_of(array: np.ma.MaskedArray) -> np.ma.MaskedArray:
    band_axis = array.ndim - 3
    mask = np.ma.getmaskarray(array).any(axis=band_axis, keepdims=True)
    return np.ma.MaskedArray(mask, mask=np.zeros(mask.shape, dtype=bool))


def _value_at(ns: dict, value: Any, ctx: Any) -> None:
    """The reference prints the (lazy) value itself; computed, it is the pixel's values."""
    row, col = rasterio.transform.rowcol(ctx.transform, 412980.0, 3953010.0)
    array = read_image(S2_IMAGE, ctx, RGB)
    same_values(value.compute(ctx), {b: float(array[i, row, col]) for i, b in enumerate(RGB)})


def _bandinfo(drop: str | None = None) -> Check:
    def check(ns: dict, value: Any, ctx: Any) -> None:
        expected = dict(catalog.product(PRODUCT).bandinfo()["red"])
        expected.pop(drop, None)
        assert plain(value) == plain(expected)

    return check


def _properties(drop: str | None = None) -> Check:
    def check(ns: dict, value: Any, ctx: Any) -> None:
        expected = dict(catalog.image(LANDSAT_IMAGE).properties_dict())
        expected.pop(drop, None)
        assert plain(value) == plain(expected)

    return check


def _nbands(ns: dict, value: Any, ctx: Any) -> None:
    assert value == len(catalog.product(PRODUCT).bands)


def _first_group(ns: dict, value: Any, ctx: Any) -> None:
    key, group = value
    ids = image_ids(PRODUCT, *YEAR, ctx)
    months = [catalog.image(i).acquired.month for i in ids]
    assert key == min(months)
    assert [p["id"] for p in group.properties] == [
        i for i, m in zip(ids, months, strict=True) if m == key
    ]
    assert all(p["group"] == key for p in group.properties)


def _elementwise(receiver: str, ufunc: Callable) -> Check:
    """``<receiver>.<op>()`` is ``ufunc`` applied to what the receiver computes."""

    def check(ns: dict, value: Any, ctx: Any) -> None:
        source = ns[receiver].compute(ctx)
        with np.errstate(all="ignore"):
            expected = np.ma.masked_invalid(ufunc(source.ndarray))
        same_array(value.ndarray, expected)
        assert list(value.bandinfo) == list(source.bandinfo)

    return check


def _colormap(ns: dict, value: Any, ctx: Any) -> None:
    red = read_image(LANDSAT_IMAGE, ctx, ["red"])[0]
    normalized = np.clip((red.filled(0.1) - 0.1) / (0.8 - 0.1), 0, 1)
    rgb = matplotlib.colormaps["magma"](normalized)[..., :3]
    expected = np.ma.MaskedArray(
        np.moveaxis(rgb, -1, 0), mask=np.broadcast_to(red.mask, (3,) + red.shape)
    )
    same_array(value.ndarray, expected)
    assert list(value.bandinfo) == RGB


def _stack_of(receiver: str, times: int) -> Check:
    def check(ns: dict, value: Any, ctx: Any) -> None:
        one = ns[receiver].compute(ctx).ndarray
        same_array(value.ndarray, np.ma.stack([one] * times))

    return check


def _concatenated(receiver: str, times: int) -> Check:
    def check(ns: dict, value: Any, ctx: Any) -> None:
        one = ns[receiver].compute(ctx).ndarray
        same_array(value.ndarray, np.ma.concatenate([one] * times))

    return check


def _slice_of(dates: tuple[str, str], part: slice) -> Check:
    def check(ns: dict, value: Any, ctx: Any) -> None:
        ids = image_ids(PRODUCT, *dates, ctx)[part]
        assert [p["id"] for p in value.properties] == ids
        same_array(value.ndarray, read_collection(ids, ctx))

    return check


def _window_means(ns: dict, value: Any, ctx: Any) -> None:
    ids = image_ids(PRODUCT, *TWO_DATES, ctx)
    stack = read_collection(ids, ctx)
    means = [stack[i - 1 : i + 2].mean(axis=0) for i in range(1, len(ids) - 1)]
    same_array(value.ndarray, np.ma.stack(means))
    dates = [catalog.image(i).acquired for i in ids[1:-1]]
    assert [p["date"] for p in value.properties] == dates


UFUNCS = {
    "arccos": np.arccos, "arcsin": np.arcsin, "arctan": np.arctan, "cos": np.cos, "exp": np.exp,
    "log": np.log, "log10": np.log10, "log1p": np.log1p, "log2": np.log2, "sin": np.sin,
    "sqrt": np.sqrt, "square": np.square, "tan": np.tan,
}  # fmt: skip

EXPECTATIONS: dict[str, dict[str, Check]] = {
    "Image": {
        "img.compute(geoctx)": _image(S2_IMAGE),
        "rgb.compute(geoctx)": _image(S2_IMAGE, RGB),
        'rgb.min(axis="pixels")': _rgb_min,
    },
    "Image.clip_values": {
        "img.compute(geoctx).ndarray": _image_array(S2_IMAGE),
        "clipped.ndarray": _image_array(S2_IMAGE, lambda a: np.ma.clip(a, 0.08, 0.3)),
    },
    "Image.scale_values": {
        "img.compute(geoctx).ndarray": _image_array(S2_IMAGE),
        "scaled.ndarray": _image_array(S2_IMAGE, _scale(0.5, 1)),
    },
    "Image.getmask": {"mask.ndarray": _image_array(LANDSAT_IMAGE, _mask_of)},
    "Image.value_at": {"value_at": _value_at},
    "Image.without_bandinfo": {
        'img.compute(geoctx).bandinfo["red"]': _bandinfo(),
        'without_desc.bandinfo["red"]': _bandinfo("data_description"),
    },
    "Image.without_properties": {
        "img.compute(geoctx).properties": _properties(),
        "without_acq.properties": _properties("acquired"),
    },
    "Image.nbands": {"nbands": _nbands},
    "Image.from_id": {"img.compute(geoctx)": _image_array_of(levels_product.WITH_SURFACE)},
    "Image.colormap": {"colormap": _colormap},
    "Image.concat": {"img.concat(img, img)": _stack_of("img", 3)},
    "ImageCollection": {
        "col.compute(geoctx)": _collection(YEAR),
        "rgb.compute(geoctx)": _collection(YEAR, RGB),
        "rgb.max(": _rgb_max_over_images,
    },
    "ImageCollection.clip_values": {
        "col.compute(geoctx).ndarray": _collection_array(JANUARY),
        "clipped.ndarray": _collection_array(JANUARY, lambda a: np.ma.clip(a, 0.14, 0.3)),
    },
    "ImageCollection.scale_values": {
        "col.compute(geoctx).ndarray": _collection_array(JANUARY),
        "scaled.ndarray": _collection_array(JANUARY, _scale(0.1, 0.5)),
    },
    "ImageCollection.getmask": {"mask.ndarray": _collection_array(JANUARY, _mask_of)},
    "ImageCollection.from_id": {
        "col.compute(geoctx)": _collection(JANUARY, resampling=Resampling.min)
    },
    "ImageCollection.concat": {"col.concat(col, col)": _concatenated("col", 3)},
    "ImageCollection.head": {"col.head(2)": _slice_of(JANUARY, slice(0, 2))},
    "ImageCollection.tail": {"col.tail(1)": _slice_of(JANUARY, slice(-1, None))},
    "ImageCollection.partition": {
        "head.compute": _slice_of(JANUARY, slice(0, 1)),
        "tail.compute": _slice_of(JANUARY, slice(1, None)),
    },
    "ImageCollection.map_window": {"new_col.compute": _window_means},
    "ImageCollectionGroupby.one": {"groups.one()": _first_group},
    **{f"Image.{op}": {f"img.{op}()": _elementwise("img", f)} for op, f in UFUNCS.items()},
    **{
        f"ImageCollection.{op}": {f"col.{op}()": _elementwise("col", f)} for op, f in UFUNCS.items()
    },
}
