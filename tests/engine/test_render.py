"""Rendering: scaling, colormaps, checkerboard and PNG encoding against independent maths."""

from __future__ import annotations

import io

import matplotlib
import numpy as np
import pytest
from PIL import Image as PILImage

from tiles.engine import render
from tiles.errors import ParameterError


def decode(png: bytes) -> np.ndarray:
    """Decode PNG bytes to a (rows, cols, 4) uint8 array, whatever mode was written."""
    return np.asarray(PILImage.open(io.BytesIO(png)).convert("RGBA"))


def expected_stretch(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return np.clip(np.rint((values - lo) / (hi - lo) * 255), 0, 255).astype(np.uint8)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def test_scales_per_band_rules(caplog):
    assert render.scales_per_band([], 3) == [(None, None)] * 3
    assert render.scales_per_band([(0.0, 1.0)], 3) == [(0.0, 1.0)] * 3
    with caplog.at_level("WARNING", logger="tiles.engine.render"):
        assert render.scales_per_band([(0.0, 1.0), (2.0, 3.0)], 3) == [
            (0.0, 1.0),
            (2.0, 3.0),
            (None, None),
        ]
    assert "2 pairs for 3 bands" in caplog.text
    # Bands without a pair take their declared range; a band with none keeps (None, None).
    ranges = [(0.0, 1.0), None, (-1.0, 9.0)]
    assert render.scales_per_band([], 3, ranges) == [(0.0, 1.0), (None, None), (-1.0, 9.0)]
    assert render.scales_per_band([(2.0, 3.0)], 3, ranges) == [(2.0, 3.0)] * 3


def test_declared_ranges_and_checkerboard_inside(rng):
    values = np.ma.masked_array(rng.uniform(0.2, 0.4, size=(1, 16, 16)))
    values[0, :8] = np.ma.masked
    inside = np.zeros((16, 16), dtype=bool)
    inside[:, :4] = True
    rgba = render.render(values, checkerboard=True, shape=(16, 16), ranges=[(0, 1)], inside=inside)
    valid = ~np.ma.getmaskarray(values[0])
    # Stretched by the declared range (0, 1), not by the tile's own 0.2..0.4.
    np.testing.assert_array_equal(
        rgba[..., 0][valid], expected_stretch(values.data[0], 0, 1)[valid]
    )
    board = render.checkerboard((16, 16))
    np.testing.assert_array_equal(rgba[~valid & inside], board[~valid & inside])
    assert (rgba[~valid & ~inside] == 0).all()
    empty = render.render(None, checkerboard=True, shape=(16, 16), inside=inside)
    np.testing.assert_array_equal(empty[inside], board[inside])
    assert (empty[~inside] == 0).all()


# ----------------------------------------------------------------- pixels


def test_scale_with_pairs_matches_formula(rng):
    data = rng.normal(0.3, 0.4, size=(3, 64, 64))
    pairs = [(0.0, 1.0), (-1.0, 1.0), (0.5, 0.2)]  # the last pair is inverted on purpose
    out = render.scale(data, pairs)
    for b, (lo, hi) in enumerate(pairs):
        np.testing.assert_array_equal(out.data[b], expected_stretch(data[b], lo, hi))


def test_scale_none_uses_each_bands_own_range(rng):
    data = np.ma.masked_array(rng.uniform(10, 500, size=(2, 32, 32)))
    data[0, :4] = np.ma.masked
    data.data[0, :4] = 1e9  # hidden values must not influence the stretch
    out = render.scale(data, None)
    for b in range(2):
        valid = ~np.ma.getmaskarray(data[b])
        lo, hi = data.data[b][valid].min(), data.data[b][valid].max()
        np.testing.assert_array_equal(
            out.data[b][valid], expected_stretch(data.data[b], lo, hi)[valid]
        )
        assert out.data[b][valid].min() == 0 and out.data[b][valid].max() == 255
    assert np.ma.getmaskarray(out)[0, :4].all()


def test_scale_masks_non_finite_values():
    data = np.array([[[np.nan, 1.0, np.inf, 0.0]]])
    out = render.scale(data, [(0, 1)])
    assert np.ma.getmaskarray(out).tolist() == [[[True, False, True, False]]]
    assert out.data[0, 0, [1, 3]].tolist() == [255, 0]


def test_grey_render_and_mask_transparent(rng):
    data = np.ma.masked_array(rng.uniform(0, 1, size=(1, 16, 16)), mask=False)
    data[0, 3, 5] = np.ma.masked
    rgba = render.render(data, [0, 1], None, checkerboard=False)
    grey = expected_stretch(data.data[0], 0, 1)
    for c in range(3):
        np.testing.assert_array_equal(rgba[..., c][~data.mask[0]], grey[~data.mask[0]])
    assert rgba[3, 5].tolist() == [0, 0, 0, 0]
    assert (rgba[..., 3][~data.mask[0]] == 255).all()


def test_colormap_matches_matplotlib(rng):
    data = rng.uniform(-0.2, 0.8, size=(1, 32, 32))
    rgba = render.render(data, [[-0.2, 0.8]], "viridis", checkerboard=False)
    stretched = expected_stretch(data[0], -0.2, 0.8)
    expected = matplotlib.colormaps["viridis"](stretched / 255.0, bytes=True)
    np.testing.assert_array_equal(rgba, expected)


def test_rgb_render_and_any_band_mask_hides_pixel(rng):
    data = np.ma.masked_array(rng.uniform(0, 3000, size=(3, 8, 8)), mask=False)
    data[1, 2, 2] = np.ma.masked
    rgba = render.render(data, [[0, 3000], [0, 2000], [1000, 3000]], None, checkerboard=True)
    for b, (lo, hi) in enumerate([(0, 3000), (0, 2000), (1000, 3000)]):
        expect = expected_stretch(data.data[b], lo, hi)
        keep = np.ones((8, 8), bool)
        keep[2, 2] = False
        np.testing.assert_array_equal(rgba[..., b][keep], expect[keep])
    # The hidden pixel shows the checkerboard instead (square (0, 0) is the light one).
    assert rgba[2, 2].tolist() == list(render.CHECKER_COLORS[0])


def test_two_bands_render_red_green(rng):
    data = rng.uniform(0, 1, size=(2, 4, 4))
    rgba = render.render(data, [[0, 1], [0, 1]], None)
    np.testing.assert_array_equal(rgba[..., 0], expected_stretch(data[0], 0, 1))
    np.testing.assert_array_equal(rgba[..., 1], expected_stretch(data[1], 0, 1))
    assert (rgba[..., 2] == 0).all()


def test_checkerboard_pattern_joins_across_tiles():
    board = render.checkerboard((256, 256))
    sq = render.CHECKER_SQUARE
    assert board[0, 0].tolist() == list(render.CHECKER_COLORS[0])
    assert board[0, sq].tolist() == list(render.CHECKER_COLORS[1])
    assert board[sq, sq].tolist() == list(render.CHECKER_COLORS[0])
    # 256 is a whole number of square pairs: the right edge continues into the next tile's left.
    assert 256 % (2 * sq) == 0
    joined = np.concatenate([board, board], axis=1)
    np.testing.assert_array_equal(joined[:, 248:264], board[:, 8:24])


def test_empty_image_tiles():
    assert (render.render(None, checkerboard=False) == 0).all()
    np.testing.assert_array_equal(render.render(None, checkerboard=True), render.checkerboard())
    fully_masked = np.ma.masked_all((1, 256, 256))
    np.testing.assert_array_equal(
        render.render(fully_masked, checkerboard=True), render.checkerboard()
    )


def test_render_rejects_bad_band_counts(rng):
    with pytest.raises(ParameterError, match="4 bands"):
        render.render(rng.uniform(size=(4, 4, 4)))
    with pytest.raises(ParameterError, match="exactly 1 band"):
        render.render(rng.uniform(size=(3, 4, 4)), colormap="magma")


def test_colorbar_is_the_lut():
    bar = render.colorbar("magma", width=256, height=3)
    assert bar.shape == (3, 256, 4)
    expected = matplotlib.colormaps["magma"](np.arange(256) / 255.0, bytes=True)
    np.testing.assert_array_equal(bar[1], expected)


# ----------------------------------------------------------------- PNG


@pytest.mark.parametrize("kind", ["grey", "grey_alpha", "rgb", "rgba"])
def test_encode_png_roundtrips_every_mode(rng, kind):
    rgba = rng.integers(0, 256, size=(256, 256, 4), dtype=np.uint8)
    if kind.startswith("grey"):
        rgba[..., 1] = rgba[..., 0]
        rgba[..., 2] = rgba[..., 0]
    if kind in ("grey", "rgb"):
        rgba[..., 3] = 255
    png = render.encode_png(rgba)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    np.testing.assert_array_equal(decode(png), rgba)


def test_render_png_end_to_end(rng):
    data = rng.uniform(0, 10, size=(1, 256, 256))
    png = render.render_png(data, [[0, 10]], "terrain")
    assert PILImage.open(io.BytesIO(png)).size == (256, 256)
    expected = matplotlib.colormaps["terrain"](expected_stretch(data[0], 0, 10) / 255.0, bytes=True)
    np.testing.assert_array_equal(decode(png), expected)


@pytest.mark.parametrize(
    ("nbands", "colormap"),
    [(1, None), (1, "viridis"), (1, "RdYlGn"), (1, "terrain"), (2, None), (3, None)],
)
@pytest.mark.parametrize("holes", [False, True])
@pytest.mark.parametrize("checkerboard", [True, False])
def test_render_png_decodes_to_render_on_real_pixels(
    shared_data, colormap, nbands, holes, checkerboard
):
    # Real Sentinel-2 reflectance; opaque tiles take the direct grey/RGB/palette encodings,
    # tiles with holes the general one: both must decode to exactly render()'s pixels.
    import rasterio

    folder = shared_data / "optical" / "sentinel2_l2a_29RKH_20200219"
    bands = []
    for name in ("B04", "B03", "B02")[:nbands]:
        with rasterio.open(folder / f"{name}.tif") as src:
            bands.append(src.read(1, window=((400, 656), (300, 556))).astype(np.float64) / 1e4)
    array = np.ma.masked_array(np.stack(bands))
    if holes:
        array[0, 100:140, 30:90] = np.ma.masked
    scales = [[0.05, 0.35]] * (1 if colormap else nbands)
    png = render.render_png(array, scales, colormap, checkerboard)
    np.testing.assert_array_equal(decode(png), render.render(array, scales, colormap, checkerboard))
    mode = PILImage.open(io.BytesIO(png)).mode
    if not holes:
        assert mode == {1: "P" if colormap else "L", 2: "RGB", 3: "RGB"}[nbands]
