"""compute() output formats, destinations, caching and chunked evaluation on the sample catalog."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import rasterio
from PIL import Image as PILImage

import tiles as wf
from tests.compute.support import dem
from tiles.compute import chunks, msgpack_codec
from tiles.compute.evaluation import compute, inspect
from tiles.compute.formats import decode_result, encode_result, normalize_format
from tiles.errors import ParameterError
from tiles.geocontext import AOI

# Around Santa Fe (lat 35.69, lon -105.94), in the sample data's UTM zone.
CTX = AOI(bounds=(-105.99, 35.64, -105.89, 35.74), crs="EPSG:32613", resolution=60)
SMALL = AOI(bounds=(-105.96, 35.67, -105.92, 35.71), crs="EPSG:32613", resolution=120)


def s2():
    return wf.ImageCollection.from_id("sample:s2", "2023-01-01", "2024-01-01")


def s2_zone13():
    # Images on the output grid's own CRS: no reprojection, so pixel choice is exact.
    return s2().filter(lambda img: img.properties["id"].contains("z13"))


def assert_masked_equal(a: np.ma.MaskedArray, b: np.ma.MaskedArray) -> None:
    assert a.shape == b.shape
    np.testing.assert_array_equal(np.ma.getmaskarray(a), np.ma.getmaskarray(b))
    np.testing.assert_array_equal(np.ma.filled(a, 0), np.ma.filled(b, 0))


# -- formats -----------------------------------------------------------------------------


def test_geotiff_is_georeferenced_with_values_mask_and_band_names(tmp_path):
    img = s2().median(axis="images").pick_bands("red nir")
    expected = img.compute(CTX)
    path = tmp_path / "out.tif"
    assert img.compute(CTX, format="geotiff", file=path) is None
    with rasterio.open(path) as src:
        assert src.crs == rasterio.crs.CRS.from_string("EPSG:32613")
        assert src.transform == CTX.transform
        assert (src.height, src.width) == CTX.arr_shape
        assert src.descriptions == ("red", "nir")
        assert src.compression.value == "LZW"
        assert src.overviews(1)  # 188 x 154 pixels: one 2x overview
        got = src.read(masked=True)
    assert got.dtype == expected.ndarray.dtype
    assert_masked_equal(got, expected.ndarray)


def test_geotiff_bytes_with_options_and_per_band_masks():
    red = s2().median(axis="images").pick_bands("red")
    # Two bands masked differently: masked pixels become NaN nodata.
    masked = red.mask(red > 0.1)
    img = masked.concat_bands(red.rename_bands("red2"))
    expected = img.compute(SMALL).ndarray
    data = img.compute(
        SMALL, format={"type": "geotiff", "compression": "deflate", "overviews": False}
    )
    assert isinstance(data, bytes)
    with rasterio.MemoryFile(data) as mem, mem.open() as src:
        assert src.compression.value == "DEFLATE"
        assert src.overviews(1) == []
        assert np.isnan(src.nodata)
        got = src.read(masked=True)
    assert_masked_equal(got, expected)


def test_geotiff_of_a_collection_stacks_images(tmp_path):
    col = s2_zone13().pick_bands("red").head(3)
    expected = col.compute(SMALL).ndarray
    with rasterio.MemoryFile(col.compute(SMALL, format="geotiff")) as mem, mem.open() as src:
        assert src.count == 3
        assert [src.tags(i)["image"] for i in (1, 2, 3)] == ["0", "1", "2"]
        got = src.read(masked=True)
    assert_masked_equal(got, expected.reshape(3, *expected.shape[2:]))


def test_cog_validates_with_values_mask_overviews_and_band_names(tmp_path):
    cog_validate = pytest.importorskip("rio_cogeo.cogeo").cog_validate
    img = s2().median(axis="images").pick_bands("red nir")
    img = img.mask(img.pick_bands("red") > 0.12)  # one mask shared by both bands
    ctx = AOI(bounds=CTX.bounds, crs=CTX.crs, resolution=30)  # 376 x 308: one overview
    expected = img.compute(ctx).ndarray
    assert np.ma.getmaskarray(expected).any() and not np.ma.getmaskarray(expected).all()

    cog, plain = tmp_path / "cog.tif", tmp_path / "plain.tif"
    img.compute(ctx, format={"type": "geotiff", "cog": True, "compression": "deflate"}, file=cog)
    img.compute(ctx, format="geotiff", file=plain)
    assert cog_validate(str(cog)) == (True, [], [])
    assert not cog_validate(str(plain))[0]  # the check can tell the difference

    with rasterio.open(cog) as src:
        assert src.crs == rasterio.crs.CRS.from_string("EPSG:32613")
        assert src.transform == ctx.transform
        assert src.descriptions == ("red", "nir")
        assert src.compression.value == "DEFLATE"
        assert src.block_shapes[0] == (256, 256)
        assert src.overviews(1)
        got = src.read(masked=True)
    assert got.dtype == expected.dtype
    assert_masked_equal(got, expected)

    bare = img.compute(SMALL, format={"type": "geotiff", "cog": True, "overviews": False})
    with rasterio.MemoryFile(bare) as mem, mem.open() as src:
        assert src.overviews(1) == []
    with pytest.raises(ParameterError, match="'cog' must be True or False"):
        normalize_format({"type": "geotiff", "cog": "yes"})


def test_format_options_are_checked_by_name():
    with pytest.raises(ParameterError, match="'bogus'"):
        normalize_format({"type": "geotiff", "bogus": 1})
    with pytest.raises(ParameterError, match="unknown format 'tiff'"):
        normalize_format("tiff")
    with pytest.raises(ParameterError, match="compression"):
        normalize_format({"type": "geotiff", "compression": "rle"})
    with pytest.raises(ParameterError, match="needs an Image"):
        wf.Int(1).compute(format="geotiff")


def test_png_decodes_to_the_same_values():
    rgb = s2_zone13().median(axis="images").pick_bands("red green blue")
    img = (rgb * 255).clip_values(0, 255) // 1
    expected = img.compute(SMALL).ndarray
    png = img.compute(SMALL, format="png")
    decoded = np.asarray(PILImage.open(io.BytesIO(png)))
    mask = np.ma.getmaskarray(expected).any(axis=0)
    if mask.any():
        assert decoded.shape[-1] == 4
        np.testing.assert_array_equal(decoded[..., 3] == 0, mask)
    np.testing.assert_array_equal(
        decoded[..., :3][~mask], np.moveaxis(np.ma.getdata(expected), 0, -1)[~mask]
    )
    with pytest.raises(ParameterError, match="whole-number"):
        s2().median(axis="images").pick_bands("red").compute(SMALL, format="png")


def test_npy_json_and_msgpack_round_trip():
    img = dem().rename_bands("z")
    expected = img.compute(SMALL)
    arr = np.load(io.BytesIO(img.compute(SMALL, format="npy")))
    np.testing.assert_array_equal(arr, np.ma.filled(expected.ndarray.astype(float), np.nan))

    doc = json.loads(img.compute(SMALL, format="json"))
    assert doc["bandinfo"].keys() == {"z"}
    assert doc["geocontext"]["arr_shape"] == list(SMALL.arr_shape)
    np.testing.assert_array_equal(np.array(doc["ndarray"], dtype=float), expected.ndarray.data)

    packed = msgpack_codec.unpackb(img.compute(SMALL, format="msgpack"))
    assert_masked_equal(packed["ndarray"], expected.ndarray)
    assert packed["properties"]["id"] == expected.properties["id"]
    assert packed["properties"]["date"] == expected.properties["date"]  # a datetime again

    assert json.loads(wf.Float(1.5).compute(format="json")) == 1.5
    assert msgpack_codec.unpackb((wf.Int(2) * 3).compute(format="msgpack")) == 6
    assert (wf.Int(1) + 1).compute(destination="download") == 2
    assert (wf.Int(1) + 1).compute(format="json") == b"2"


def test_msgpack_results_decode_with_plain_msgpack():
    """Any MessagePack reader opens the bytes: arrays in msgpack-numpy's layout."""
    msgpack = pytest.importorskip("msgpack")
    img = s2_zone13().head(1).mosaic().pick_bands("red nir")
    img = img.mask(img > 0.12)
    expected = img.compute(SMALL)
    assert np.ma.getmaskarray(expected.ndarray).any()  # the mask travels too
    doc = msgpack.unpackb(img.compute(SMALL, format="msgpack"))

    def array(layout: dict) -> np.ndarray:
        assert layout[b"nd"] is True and layout[b"kind"] == b""
        dtype = np.dtype(layout[b"type"])
        return np.frombuffer(layout[b"data"], dtype=dtype).reshape(layout[b"shape"])

    layout = doc["ndarray"]
    assert layout[b"type"] == expected.ndarray.dtype.str
    np.testing.assert_array_equal(array(layout), np.ma.getdata(expected.ndarray))
    np.testing.assert_array_equal(array(layout[b"mask"]), np.ma.getmaskarray(expected.ndarray))
    assert list(doc["bandinfo"]) == ["red", "nir"]
    assert doc["properties"]["date"] == {"__datetime__": expected.properties["date"].isoformat()}
    assert doc["geocontext"]["crs"] == "EPSG:32613"
    assert msgpack.unpackb(wf.Float(2.5).compute(format="msgpack")) == 2.5


def test_result_wire_encoding_round_trips_result_objects():
    result = s2_zone13().head(2).compute(SMALL)
    back = decode_result(encode_result(result))
    assert type(back) is type(result)
    assert_masked_equal(back.ndarray, result.ndarray)
    assert back.properties == result.properties
    assert list(back.bandinfo) == list(result.bandinfo)
    assert decode_result(encode_result((1, [2.5, "a"], {"k": None}))) == (
        1,
        [2.5, "a"],
        {"k": None},
    )


def test_file_objects_and_destinations(tmp_path):
    buffer = io.BytesIO()
    assert wf.Int(7).compute(format="json", file=buffer) is None
    assert buffer.getvalue() == b"7"
    with pytest.raises(ParameterError, match="'email' is not supported"):
        wf.Int(1).compute(destination="email")
    with pytest.raises(ParameterError, match="unknown destination"):
        wf.Int(1).compute(destination="ftp")
    # A path or a file object as the destination is the same as file=.
    target = tmp_path / "seven.json"
    assert wf.Int(7).compute(format="json", destination=str(target)) is None
    assert target.read_bytes() == b"7"
    other = io.BytesIO()
    assert wf.Int(8).compute(format="json", destination=other) is None
    assert other.getvalue() == b"8"


def test_compute_several_objects_together():
    assert compute([wf.Int(1), wf.Str("a")]) == (1, "a")
    assert compute([wf.Int(1), wf.Int(2)]) == [1, 2]


def test_inspect_matches_compute():
    img = dem()
    assert_masked_equal(img.inspect(SMALL).ndarray, img.compute(SMALL).ndarray)
    assert inspect(wf.Int(3) * 2) == 6


def test_cache_gives_equal_fresh_results():
    img = dem()
    first = img.compute(SMALL)
    first.ndarray[:] = -1  # the caller's copy; the cache must not see this
    second = img.compute(SMALL)
    assert second.ndarray.max() > 1000


# -- chunked evaluation ------------------------------------------------------------------


@pytest.fixture
def small_chunks(monkeypatch):
    def use(side: int) -> None:
        monkeypatch.setenv("TILES_CHUNK_SIDE", str(side))

    return use


@pytest.mark.parametrize(
    "make",
    [
        lambda: s2_zone13().median(axis="images").pick_bands("red nir"),
        lambda: (lambda r, n: (n - r) / (n + r))(*s2_zone13().unpack_bands("red nir")),
        lambda: wf.conv2d(dem(), wf.Kernel(dims=(5, 5), data=[1 / 25] * 25)),
        lambda: dem() > 2100,
    ],
    ids=["median", "ndvi-collection", "conv2d", "threshold"],
)
def test_chunked_equals_whole(make, small_chunks):
    obj = make()
    small_chunks(10_000)
    whole = obj.compute(CTX, cache=False)
    small_chunks(37)
    chunked = obj.compute(CTX, cache=False)
    assert_masked_equal(chunked.ndarray, whole.ndarray)
    assert chunked.properties == whole.properties
    assert list(chunked.bandinfo) == list(whole.bandinfo)
    assert np.ma.count(whole.ndarray) > 0


def test_conv2d_on_a_buffered_grid_has_no_edge_effects():
    """Pixels at the edge of a GeoContext see their real neighbours, as inside a big read."""
    big = AOI(bounds=(-105.99, 35.64, -105.89, 35.74), crs="EPSG:32613", resolution=60)
    blurred = wf.conv2d(dem(), wf.Kernel(dims=(3, 3), data=[1 / 9] * 9))
    whole = blurred.compute(big, cache=False).ndarray
    # A window of the big grid as its own GeoContext gives the same pixels.
    inner = chunks.WindowContext.create(big, 40, 50, 30, 20, None)
    part = blurred.compute(inner, cache=False).ndarray
    assert_masked_equal(part, whole[:, 40:70, 50:70])


def test_which_graphs_are_split():
    assert chunks.is_pixel_local((s2().median(axis="images") + 1).graft) == (True, "")
    local, why = chunks.is_pixel_local(dem().mean(axis="pixels").graft)
    assert not local and "pixels" in why
    local, why = chunks.is_pixel_local((dem() - dem().mean(axis=None)).graft)
    assert not local
    local, why = chunks.is_pixel_local(s2().groupby(dates=("month",)).mosaic().graft)
    assert not local


def test_non_local_graph_is_computed_whole(small_chunks):
    img = dem()
    anomaly = img - img.mean(axis="pixels")["elevation"]
    small_chunks(10_000)
    whole = anomaly.compute(CTX, cache=False)
    small_chunks(37)
    assert_masked_equal(anomaly.compute(CTX, cache=False).ndarray, whole.ndarray)
