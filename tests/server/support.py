"""Helpers shared by the tile server tests: real HTTP, PNG decoding, reference pixels.

The reference pixels come from rasterio alone (warping catalogued files into the tile's
web-mercator grid) plus the documented stretch formula and matplotlib colormaps, so
they are independent of the engine, the reading layer and tiles.engine.render.
"""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from typing import Any

import matplotlib
import mercantile
import numpy as np
import rasterio
from PIL import Image as PILImage
from rasterio.enums import Resampling
from rasterio.transform import from_bounds
from rasterio.warp import reproject

from tiles.data import catalog

CHECKER_LIGHT = (255, 255, 255, 255)
CHECKER_DARK = (204, 204, 204, 255)


def http(
    method: str, url: str, body: Any = None, headers: dict | None = None, timeout: float = 60
) -> tuple[int, Any, bytes]:
    """One real HTTP request; (status, headers (case-insensitive), body) for any status."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def get_json(url: str) -> Any:
    status, _, body = http("GET", url)
    assert status == 200, (status, body)
    return json.loads(body)


def register(base_url: str, graft: dict, **options: Any) -> dict:
    """POST a layer; returns the JSON answer (id, url_template, tilejson_url...)."""
    status, _, body = http("POST", f"{base_url}/layers", {"graft": graft, **options})
    assert status in (200, 201), (status, body)
    return json.loads(body)


def tile_url(layer: dict, tile: mercantile.Tile, query: str = "") -> str:
    url = layer["url_template"].format(z=tile.z, x=tile.x, y=tile.y)
    return url + ("?" + query if query else "")


def decode_png(data: bytes) -> np.ndarray:
    """PNG bytes as (rows, cols, 4) uint8 RGBA."""
    return np.asarray(PILImage.open(io.BytesIO(data)).convert("RGBA"))


def fetch_tile(layer: dict, tile: mercantile.Tile, query: str = "") -> np.ndarray:
    status, headers, body = http("GET", tile_url(layer, tile, query))
    assert status == 200, (status, body[:300])
    assert headers["Content-Type"] == "image/png"
    return decode_png(body)


def image_graft(image_id: str, *bands: str) -> dict:
    """Graft of ``wf.Image.load(image_id)`` (then ``pick_bands`` when bands are given)."""
    graft: dict = {"0": image_id, "1": ["wf.Image.load", "0"], "returns": "1"}
    if bands:
        keys = []
        for i, band in enumerate(bands):
            graft[f"b{i}"] = band
            keys.append(f"b{i}")
        graft["2"] = ["wf.pick_bands", "1", *keys]
        graft["returns"] = "2"
    return graft


def grid_transform(tile: mercantile.Tile, width_tiles: int = 1, pad: int = 0):
    """Transform and shape of a web-mercator grid of ``width_tiles`` tiles from ``tile``."""
    left = mercantile.xy_bounds(tile)
    right = mercantile.xy_bounds(mercantile.Tile(tile.x + width_tiles - 1, tile.y, tile.z))
    res = (left.right - left.left) / 256
    cols, rows = 256 * width_tiles + 2 * pad, 256 + 2 * pad
    transform = from_bounds(
        left.left - pad * res,
        left.bottom - pad * res,
        right.right + pad * res,
        left.top + pad * res,
        cols,
        rows,
    )
    return transform, (rows, cols)


def reference_band(
    image_id: str, band: str, tile: mercantile.Tile, width_tiles: int = 1, pad: int = 0
) -> np.ma.MaskedArray:
    """A catalogued band warped (nearest) into a tile grid, in physical units, nodata masked."""
    record = catalog.image(image_id)
    info = catalog.product(record.product).band(band)
    path, bidx = record.files[band]
    transform, shape = grid_transform(tile, width_tiles, pad)
    out = np.full(shape, np.nan, dtype=np.float64)
    with rasterio.open(path) as src:
        reproject(
            rasterio.band(src, bidx),
            out,
            src_nodata=info.nodata,
            dst_transform=transform,
            dst_crs="EPSG:3857",
            dst_nodata=np.nan,
            resampling=Resampling.nearest,
        )
    lo, hi = info.data_range
    plo, phi = info.physical_range or (0.0, 1.0)
    return np.ma.masked_invalid((out - lo) * ((phi - plo) / (hi - lo)) + plo)


def stretch(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """The documented scaling: rint((v - lo) / (hi - lo) * 255) clipped to 0..255."""
    return np.clip(np.rint((np.asarray(values) - lo) / (hi - lo) * 255), 0, 255).astype(np.uint8)


def checkerboard(shape: tuple[int, int] = (256, 256)) -> np.ndarray:
    rows, cols = np.indices(shape)
    dark = ((rows // 8) + (cols // 8)) % 2 == 1
    out = np.empty((*shape, 4), dtype=np.uint8)
    out[~dark] = CHECKER_LIGHT
    out[dark] = CHECKER_DARK
    return out


def expected_rgba(
    bands: list[np.ma.MaskedArray],
    scales: list[tuple[float, float]],
    colormap: str | None = None,
    checker: bool = True,
) -> np.ndarray:
    """Reference rendering of masked bands, built from numpy and matplotlib only."""
    shape = bands[0].shape
    hidden = np.zeros(shape, dtype=bool)
    for band in bands:
        hidden |= np.ma.getmaskarray(band)
    stretched = [
        stretch(np.ma.filled(b, 0), lo, hi) for b, (lo, hi) in zip(bands, scales, strict=True)
    ]
    if colormap:
        rgba = matplotlib.colormaps[colormap](stretched[0] / 255.0, bytes=True)
    else:
        rgba = np.empty((*shape, 4), dtype=np.uint8)
        rgba[..., 3] = 255
        if len(stretched) == 1:
            stretched = stretched * 3
        for c in range(3):
            rgba[..., c] = stretched[c]
    background = checkerboard(shape) if checker else np.zeros((*shape, 4), np.uint8)
    rgba[hidden] = background[hidden]
    return rgba


def tile_over(image_id: str, zoom: int, dx: int = 0) -> mercantile.Tile:
    """A tile at ``zoom`` near the centre of an image's footprint."""
    w, s, e, n = catalog.image(image_id).bounds_lonlat
    t = mercantile.tile((w + e) / 2, (s + n) / 2, zoom)
    return mercantile.Tile(t.x + dx, t.y, zoom)


def assert_pixels_match(actual: np.ndarray, expected: np.ndarray, max_bad: float = 0.0) -> None:
    """RGBA arrays equal except for at most a ``max_bad`` fraction of pixels off by one."""
    assert actual.shape == expected.shape
    diff = np.abs(actual.astype(int) - expected.astype(int)).max(axis=-1)
    bad = diff > 0
    assert bad.mean() <= max_bad, f"{bad.sum()} pixels differ (max difference {diff.max()})"
    if max_bad:
        assert diff.max() <= 1, f"pixels differ by up to {diff.max()}"
