"""Turn computed pixel arrays into map tiles: scaling, colormaps, checkerboard, PNG.

Everything here is a pure function of numpy arrays, so the tile server, the map
widgets and tests share one definition of what a tile looks like.

The rules, in the order they are applied:

1. The image must have 1, 2 or 3 bands (pick bands first otherwise).
   1 band renders grey (or through a colormap), 3 bands render as red, green,
   blue. 2 bands render as red and green with blue left at 0, so both bands stay
   visible; a colormap needs exactly one band.
2. Each band is stretched from its ``[min, max]`` scale pair to 0..255::

       uint8(clip(rint((value - min) / (max - min) * 255), 0, 255))

   A band without a pair (``scales=None``, ``[]`` or a ``[None, None]`` pair) is
   stretched by its declared value range (``ranges``, from the band's metadata), the
   same for every tile, so neighbouring tiles join without seams. Only a band without
   a declared range is stretched by its own minimum and maximum *within this tile*.
   One pair given for a multi-band image applies to every band.
3. A pixel masked in any band (or not finite) is transparent, or shows the
   checkerboard when ``checkerboard=True`` and the pixel is ``inside`` the data's
   footprint (everywhere when that is not known). An empty image is a checkerboard
   (or transparent) tile by the same rule.

>>> import numpy as np
>>> band = np.ma.masked_array([[[0.0, 0.5], [1.0, 2.0]]], mask=[[[0, 0], [0, 1]]])
>>> rgba = render(band, scales=[[0, 1]], colormap=None, checkerboard=False)
>>> rgba[..., 0].tolist(), rgba[..., 3].tolist()
([[0, 128], [255, 0]], [[255, 255], [255, 0]])
"""

from __future__ import annotations

import functools
import io
import logging
from collections.abc import Sequence
from typing import Any

import imagecodecs
import matplotlib
import numpy as np
from PIL import Image as PILImage

from tiles.display import DisplayOptions, ScalePair, normalize_colormap, normalize_scales
from tiles.errors import ParameterError

logger = logging.getLogger(__name__)

#: Size in pixels of one checkerboard square; divides 256 so the pattern joins across tiles.
CHECKER_SQUARE = 8
#: Light and dark grey of the checkerboard, opaque so missing data is visible on any basemap.
CHECKER_COLORS = ((255, 255, 255, 255), (204, 204, 204, 255))

#: zlib level for tile PNGs, chosen with bench/png_compression.py on real Sentinel-2 tiles:
#: level 1 encoded RGB tiles 4x and colormapped NDVI tiles 3x faster than zlib's default 6,
#: for files 8% and 37% larger. Encoding time bounds tile throughput; bytes rarely do.
PNG_COMPRESS_LEVEL = 1
#: The one PNG row filter for grey/RGB(A) tiles. Pillow tries several filters on every row,
#: about half its encode time; on the real tiles of bench/png_compression.py one fixed Sub
#: filter (libpng through imagecodecs) encoded in 0.52-0.59x Pillow's time for files 3%
#: smaller to 3% larger.
PNG_FILTER = imagecodecs.PNG.FILTER.SUB


def scales_per_band(
    pairs: Sequence[ScalePair], nbands: int, ranges: Sequence[ScalePair | None] = ()
) -> list[ScalePair]:
    """Expand validated scale pairs to exactly one pair per band.

    Parameters
    ----------
    pairs : sequence of (min, max)
        Validated scales: none, one for every band, or one per band.
    nbands : int
        Bands of the image.
    ranges : sequence of (min, max) or None, optional
        Each band's declared value range, used for a band without a pair (or with a
        ``(None, None)`` pair). Fewer pairs than bands (the original client drops
        empty pairs, so a 3-band layer can send 2) logs a warning.

    Returns
    -------
    list of (min, max)
        One pair per band; ``(None, None)`` where a band has neither a pair nor a range
        (it is stretched by its own range in each tile).
    """
    if len(pairs) > nbands:
        raise ParameterError(f"scales has {len(pairs)} pairs but the image has {nbands} band(s)")
    if len(pairs) == 1:
        per_band = [pairs[0]] * nbands
    else:
        if 1 < len(pairs) < nbands:
            logger.warning(
                "scales has %d pairs for %d bands; the remaining bands are scaled by their "
                "declared range, else each tile's own range",
                len(pairs),
                nbands,
            )
        per_band = list(pairs) + [(None, None)] * (nbands - len(pairs))
    filled = []
    for b, pair in enumerate(per_band):
        declared = ranges[b] if b < len(ranges) else None
        filled.append(tuple(declared) if pair == (None, None) and declared else pair)
    return filled


# --------------------------------------------------------------------------- pixels


def scale(array: np.ndarray, scales: Sequence[ScalePair] | None = None) -> np.ma.MaskedArray:
    """Stretch each band of a (bands, rows, cols) array to uint8 0..255.

    ``scales`` holds one ``(min, max)`` pair per band (see :func:`scales_per_band`);
    ``None`` or a ``(None, None)`` pair uses that band's own unmasked min and max.
    Non-finite values become masked. The result keeps the input's mask.

    >>> scale(np.array([[[0.0, 5.0, 10.0]]]), [(0, 10)]).data.tolist()
    [[[0, 128, 255]]]
    """
    data = np.ma.masked_invalid(np.ma.asarray(array, dtype=np.float64), copy=False)
    if data.ndim != 3:
        raise ParameterError(f"Expected a (bands, rows, cols) array, got shape {data.shape}")
    nbands = data.shape[0]
    pairs = scales_per_band(normalize_scales(scales), nbands)
    mask = np.ma.getmaskarray(data)
    out = np.zeros(data.shape, dtype=np.uint8)
    for b, (lo, hi) in enumerate(pairs):
        band = data.data[b]
        valid = ~mask[b]
        if lo is None or hi is None:
            if not valid.any():
                continue
            lo = float(band[valid].min())
            hi = float(band[valid].max())
        span = hi - lo
        if span == 0:
            # A flat range has no stretch: values above it are bright, the rest dark.
            stretched = np.where(band > lo, 255.0, 0.0)
        else:
            # Exactly the documented formula (same operation order), so values on a rounding
            # tie land where an independent implementation of the formula puts them.
            stretched = np.rint((band - lo) / span * 255.0)
        np.clip(stretched, 0, 255, out=stretched)
        # Masked pixels may hold anything (NaN included); write 0 there so casts stay defined.
        out[b] = np.where(valid, stretched, 0).astype(np.uint8)
    return np.ma.MaskedArray(out, mask=mask)


@functools.lru_cache(maxsize=64)
def colormap_lut(name: str) -> np.ndarray:
    """A (256, 4) uint8 RGBA lookup table for a matplotlib colormap (cached per name)."""
    cmap = matplotlib.colormaps[normalize_colormap(name)]
    lut = cmap(np.arange(256) / 255.0, bytes=True)
    lut.setflags(write=False)
    return lut


def apply_colormap(band: np.ndarray, name: str) -> np.ndarray:
    """Map a (rows, cols) uint8 band through colormap ``name``; returns (rows, cols, 4) uint8."""
    band = np.asarray(band)
    if band.dtype != np.uint8:
        raise ParameterError(f"apply_colormap expects a scaled uint8 band, got {band.dtype}")
    return colormap_lut(name)[band]


@functools.lru_cache(maxsize=8)
def _checkerboard(rows: int, cols: int) -> np.ndarray:
    yy, xx = np.indices((rows, cols))
    dark = ((yy // CHECKER_SQUARE) + (xx // CHECKER_SQUARE)) % 2 == 1
    out = np.empty((rows, cols, 4), dtype=np.uint8)
    out[~dark] = CHECKER_COLORS[0]
    out[dark] = CHECKER_COLORS[1]
    out.setflags(write=False)
    return out


def checkerboard(shape: tuple[int, int] = (256, 256)) -> np.ndarray:
    """An opaque (rows, cols, 4) checkerboard aligned to the tile's top-left corner."""
    return _checkerboard(int(shape[0]), int(shape[1])).copy()


def empty_tile(
    shape: tuple[int, int] = (256, 256),
    checkerboard: bool = True,
    inside: np.ndarray | None = None,
) -> np.ndarray:
    """The tile for an empty image: checkerboard (where ``inside``, if given) or transparent."""
    rows, cols = int(shape[0]), int(shape[1])
    out = np.zeros((rows, cols, 4), dtype=np.uint8)
    if checkerboard:
        board = _checkerboard(rows, cols)
        if inside is None:
            out[...] = board
        else:
            out[inside] = board[inside]
    return out


def render(
    array: np.ndarray | None,
    scales: Any = None,
    colormap: str | None = None,
    checkerboard: bool = True,
    shape: tuple[int, int] = (256, 256),
    ranges: Sequence[ScalePair | None] = (),
    inside: np.ndarray | None = None,
) -> np.ndarray:
    """Render a (bands, rows, cols) masked array to a (rows, cols, 4) uint8 RGBA image.

    Parameters
    ----------
    array : masked array or None
        The pixels; None stands for an empty image (:func:`empty_tile` of ``shape``).
    scales, colormap :
        As :class:`tiles.display.DisplayOptions` takes them, validated against the band
        count (:meth:`tiles.display.DisplayOptions.check_band_count`).
    checkerboard : bool
        Whether masked pixels show a checkerboard (else they are transparent).
    shape : (rows, cols)
        The size of an empty tile.
    ranges : sequence of (min, max) or None
        Each band's declared value range, the stretch of bands without scales.
    inside : bool array of (rows, cols), optional
        Pixels inside the data's footprint: the checkerboard shows only there.

    Returns
    -------
    numpy.ndarray
        (rows, cols, 4) uint8 RGBA.
    """
    if array is None:
        return empty_tile(shape, checkerboard, inside)
    scaled, hidden, cmap = _scaled(array, scales, colormap, ranges)
    return _compose(scaled, hidden, cmap, checkerboard, inside)


def _compose(
    scaled: np.ndarray,
    hidden: np.ndarray,
    cmap: str | None,
    checkerboard: bool,
    inside: np.ndarray | None,
) -> np.ndarray:
    """RGBA of stretched bands: colours, then hidden pixels transparent or checkerboard."""
    nbands, rows, cols = scaled.shape
    if cmap is not None:
        rgba = apply_colormap(scaled[0], cmap).copy()
    else:
        rgba = np.empty((rows, cols, 4), dtype=np.uint8)
        if nbands == 1:
            rgba[..., 0:3] = scaled[0][..., np.newaxis]
        else:
            rgba[..., 0:nbands] = np.moveaxis(scaled, 0, -1)
            rgba[..., nbands:3] = 0
        rgba[..., 3] = 255
    if hidden.any():
        rgba[hidden] = 0
        if checkerboard:
            board = hidden if inside is None else hidden & inside
            rgba[board] = _checkerboard(rows, cols)[board]
    return rgba


def _scaled(
    array: np.ndarray, scales: Any, colormap: str | None, ranges: Sequence[ScalePair | None] = ()
) -> tuple[np.ndarray, np.ndarray, str | None]:
    """Validated and stretched: (bands, rows, cols) uint8, hidden pixels, the colormap name."""
    array = np.ma.asarray(array)
    if array.ndim == 2:
        array = array[np.newaxis]
    nbands = array.shape[0]
    options = DisplayOptions(scales=scales, colormap=colormap)
    options.check_band_count(nbands)
    scaled = scale(array, scales_per_band(options.scales, nbands, ranges))
    # Any band masked hides the pixel: a colour made from partial bands would be wrong.
    hidden = np.ma.getmaskarray(scaled).any(axis=0)
    return scaled.data, hidden, options.colormap


def colorbar(name: str, width: int = 256, height: int = 12) -> np.ndarray:
    """A horizontal (height, width, 4) RGBA strip of colormap ``name`` for legends."""
    lut = colormap_lut(name)
    idx = np.rint(np.linspace(0, 255, int(width))).astype(np.intp)
    return np.broadcast_to(lut[idx], (int(height), int(width), 4)).copy()


# --------------------------------------------------------------------------- encoding


def encode_png(rgba: np.ndarray, compress_level: int = PNG_COMPRESS_LEVEL) -> bytes:
    """Encode a (rows, cols, 4) uint8 RGBA array as PNG bytes.

    The smallest lossless PNG mode is chosen: opaque tiles drop the alpha channel
    and grey tiles are written as one channel, which shrinks files and speeds
    encoding without changing any decoded pixel.
    """
    rgba = np.ascontiguousarray(rgba, dtype=np.uint8)
    if rgba.ndim != 3 or rgba.shape[2] != 4:
        raise ParameterError(f"encode_png expects (rows, cols, 4) uint8, got {rgba.shape}")
    opaque = bool((rgba[..., 3] == 255).all())
    grey = bool((rgba[..., 0] == rgba[..., 1]).all() and (rgba[..., 1] == rgba[..., 2]).all())
    if opaque and grey:
        pixels = rgba[..., 0]
    elif opaque:
        pixels = rgba[..., :3]
    elif grey:
        pixels = rgba[..., [0, 3]]
    else:
        pixels = rgba
    # The PNG colour type follows the last axis: grey, grey + alpha, RGB, RGBA.
    return _encode_pixels(pixels, compress_level)


def render_png(
    array: np.ndarray | None,
    scales: Any = None,
    colormap: str | None = None,
    checkerboard: bool = True,
    shape: tuple[int, int] = (256, 256),
    ranges: Sequence[ScalePair | None] = (),
    inside: np.ndarray | None = None,
) -> bytes:
    """:func:`render` followed by :func:`encode_png`, with shortcuts for opaque tiles.

    A tile with no hidden pixel is encoded straight from its stretched bands: grey as one
    channel, three bands as RGB, a colormapped band as an 8-bit palette PNG whose palette is
    the colormap (a third of the bytes to filter and compress, and no colour lookup). The
    decoded pixels are exactly :func:`render`'s.
    """
    if array is None:
        return encode_png(empty_tile(shape, checkerboard, inside))
    scaled, hidden, cmap = _scaled(array, scales, colormap, ranges)
    if not hidden.any():
        if cmap is not None:
            lut = colormap_lut(cmap)
            if bool((lut[:, 3] == 255).all()):
                return _encode_palette(scaled[0], lut)
        elif len(scaled) == 1:
            return _encode_pixels(scaled[0])
        elif len(scaled) == 3:
            return _encode_pixels(np.moveaxis(scaled, 0, -1))
    return encode_png(_compose(scaled, hidden, cmap, checkerboard, inside))


def _encode_pixels(pixels: np.ndarray, compress_level: int = PNG_COMPRESS_LEVEL) -> bytes:
    """PNG of a uint8 (rows, cols) grey or (rows, cols, 2|3|4) array, with :data:`PNG_FILTER`."""
    return imagecodecs.png_encode(
        np.ascontiguousarray(pixels), level=int(compress_level), filter=PNG_FILTER
    )


def _encode_palette(band: np.ndarray, lut: np.ndarray) -> bytes:
    """An 8-bit palette PNG of a uint8 band whose palette is ``lut``'s colours.

    Pillow writes it (imagecodecs' PNG encoder takes no palette), with unfiltered rows.
    """
    image = PILImage.frombuffer("P", band.shape[::-1], np.ascontiguousarray(band), "raw", "P", 0, 1)
    image.putpalette(lut[:, :3].tobytes())
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buf.getvalue()


#: Percentiles autoscaling maps to the ends of the colour range.
PERCENTILES = (2.0, 98.0)


def percentile_scales(ndarray: Any, percentiles: tuple[float, float] = PERCENTILES) -> list:
    """``[[low, high], ...]`` per band (at most 3) of a (bands, rows, cols) masked array.

    Masked pixels are left out; a band with no valid pixel gets ``[None, None]`` (each
    tile then scales itself), and a constant band is widened so min < max.
    """
    if ndarray is None:
        raise ValueError("the view holds no data for this layer (an empty image)")
    data = np.ma.asarray(ndarray)
    pairs = []
    for band in data[:3]:
        valid = band.compressed()
        if valid.size == 0:
            pairs.append([None, None])
            continue
        low, high = (float(v) for v in np.percentile(valid, percentiles))
        if high <= low:
            low, high = low - 0.5, high + 0.5
        pairs.append([low, high])
    return pairs
