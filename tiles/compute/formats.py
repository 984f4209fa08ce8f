"""Output formats of ``compute``: turning a Python result into bytes, and destinations.

Formats are given as a name (``"geotiff"``) or a dict with a ``"type"`` and options
(``{"type": "geotiff", "compression": "deflate"}``); options not listed in
:data:`FORMAT_OPTIONS` are rejected by name.

``pyarrow`` (the default)
    The Python result object itself (``ImageResult``, numbers, lists...). No pyarrow needed.
``xarray``
    An Image or ImageCollection result as an ``xarray.DataArray`` with rioxarray's CRS and
    transform (see :mod:`tiles.engine.xarray_results`): computed as ``pyarrow`` and
    converted in the calling process, so it cannot be written to a file.
``json``
    UTF-8 JSON. Arrays become nested lists with ``null`` where masked; datetimes ISO strings.
``msgpack``
    MessagePack (see :mod:`tiles.compute.msgpack_codec`): arrays in msgpack-numpy's layout,
    masked arrays with a ``b"mask"`` entry; ``msgpack.unpackb`` reads it.
``geotiff``
    An Image (or ImageCollection, images stacked band-wise) as a georeferenced GeoTIFF in the
    GeoContext's CRS and grid. Band descriptions are the band names. Where every band shares
    one mask it is written as an internal mask band (dtype kept); otherwise masked pixels are
    NaN nodata in a float64 file. Options: ``compression`` (lzw (default), deflate, zstd,
    jpeg, packbits, none), ``tiled`` (True), ``overviews`` (True), ``overview_resampler``
    (nearest (default), average, bilinear, cubic, mode), ``cog`` (False): True writes a
    Cloud-Optimized GeoTIFF with GDAL's COG driver (always tiled, overviews unless
    ``overviews`` is False, laid out for HTTP range reads).
``png``
    An Image of 1 (grey) or 3 (RGB) bands whose values are whole numbers within 0-255
    (or one band within 0-65535 with nothing masked); masked pixels are transparent.
    Other values are refused (scale them first, e.g. with ``scale_values``).
``npy``
    The result as a NumPy ``.npy`` array: an Image's ndarray, masked pixels as NaN (float64).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import math
import os
from typing import Any, BinaryIO

import numpy as np

from tiles.compute import msgpack_codec
from tiles.engine.results import ImageCollectionResult, ImageResult
from tiles.errors import ParameterError

#: Options each format accepts, with their defaults.
FORMAT_OPTIONS: dict[str, dict[str, Any]] = {
    "pyarrow": {"compression": "lz4"},
    "json": {},
    "msgpack": {},
    "geotiff": {
        "compression": "lzw",
        "tiled": True,
        "overviews": True,
        "not_overviews": False,
        "overview_resampler": "nearest",
        "cog": False,
    },
    "png": {},
    "npy": {},
    "xarray": {},
}

MIMETYPES = {
    "pyarrow": "application/vnd.tiles.result+msgpack",
    "json": "application/json",
    "msgpack": "application/msgpack",
    "geotiff": "image/tiff",
    "png": "image/png",
    "npy": "application/x-npy",
}

GEOTIFF_COMPRESSIONS = ("lzw", "deflate", "zstd", "jpeg", "packbits", "none")
OVERVIEW_RESAMPLERS = ("nearest", "average", "bilinear", "cubic", "mode")


@dataclasses.dataclass(frozen=True)
class Format:
    """A validated output format: its type and every option (defaults filled in)."""

    type: str
    options: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The dict form, as sent over the wire."""
        return {"type": self.type, **self.options}


def normalize_format(fmt: Any) -> Format:
    """Validate a format name or dict; unknown formats and options are named in the error.

    >>> normalize_format({"type": "geotiff", "compression": "DEFLATE"}).options["compression"]
    'deflate'
    """
    if isinstance(fmt, Format):
        return fmt
    if isinstance(fmt, str):
        name, given = fmt, {}
    elif isinstance(fmt, dict):
        given = dict(fmt)
        name = given.pop("type", None)
        if not isinstance(name, str):
            raise ParameterError(f"a format dict needs a 'type' naming the format, got {fmt!r}")
    else:
        raise ParameterError(f"format must be a name or a dict with 'type', not {fmt!r}")
    name = name.lower()
    if name not in FORMAT_OPTIONS:
        raise ParameterError(f"unknown format {name!r}; use one of {', '.join(FORMAT_OPTIONS)}")
    allowed = FORMAT_OPTIONS[name]
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        takes = ", ".join(allowed) or "no options"
        raise ParameterError(
            f"unknown option(s) {', '.join(map(repr, unknown))} for format {name!r}; it takes {takes}"
        )
    options = {**allowed, **given}
    if name == "geotiff":
        options = _geotiff_options(options)
    if name == "pyarrow" and str(options["compression"]).lower() not in ("lz4", "brotli"):
        raise ParameterError("pyarrow compression must be 'lz4' or 'brotli'")
    return Format(name, options)


def _geotiff_options(options: dict[str, Any]) -> dict[str, Any]:
    compression = options["compression"]
    compression = "none" if compression is None else str(compression).lower()
    if compression not in GEOTIFF_COMPRESSIONS:
        raise ParameterError(
            f"geotiff compression {compression!r} unknown; one of {', '.join(GEOTIFF_COMPRESSIONS)}"
        )
    resampler = str(options["overview_resampler"]).lower()
    if resampler not in OVERVIEW_RESAMPLERS:
        raise ParameterError(
            f"geotiff overview_resampler {resampler!r} unknown; one of "
            f"{', '.join(OVERVIEW_RESAMPLERS)}"
        )
    for flag in ("tiled", "overviews", "not_overviews", "cog"):
        if not isinstance(options[flag], bool):
            raise ParameterError(f"geotiff option {flag!r} must be True or False")
    return {**options, "compression": compression, "overview_resampler": resampler}


def normalize_destination(destination: Any, file: Any = None) -> Any:
    """The file to write to (or None): ``"download"`` returns results, a path or a file
    object as the destination means the same as ``file=``."""
    if isinstance(destination, (os.PathLike, io.IOBase)) or hasattr(destination, "write"):
        destination, file = "download", destination
    elif isinstance(destination, str) and destination not in ("download", "email", "catalog"):
        if os.sep in destination or "." in os.path.basename(destination):
            destination, file = "download", destination
    name = destination.get("type") if isinstance(destination, dict) else destination
    if isinstance(destination, dict) and set(destination) - {"type"}:
        extra = ", ".join(sorted(set(destination) - {"type"}))
        raise ParameterError(f"destination 'download' takes no options (got {extra})")
    if name == "download":
        return file
    if name in ("email", "catalog"):
        raise ParameterError(
            f"destination {name!r} is not supported by this server; use 'download' "
            "(the default) or pass file= to write the result to a file"
        )
    raise ParameterError(f"unknown destination {name!r}; use 'download' or file=")


# -- encoding ------------------------------------------------------------------------------


def encode(result: Any, fmt: Any) -> bytes:
    """The bytes of ``result`` (a Python result object) in a non-default format."""
    fmt = normalize_format(fmt)
    if fmt.type == "json":
        return json.dumps(to_jsonable(result), allow_nan=False).encode("utf-8")
    if fmt.type == "msgpack":
        return msgpack_codec.packb(to_plain(result))
    if fmt.type == "geotiff":
        return encode_geotiff(result, **fmt.options)
    if fmt.type == "png":
        return encode_png(result)
    if fmt.type == "npy":
        return encode_npy(result)
    if fmt.type == "pyarrow":
        return encode_result(result)
    if fmt.type == "xarray":
        raise ParameterError(
            "format 'xarray' is made in the calling process from a 'pyarrow' result; "
            "it has no bytes (use 'geotiff' or 'npy' for a file)"
        )
    raise AssertionError(fmt.type)


def to_xarray(result: Any) -> Any:
    """An Image or ImageCollection result as an ``xarray.DataArray`` (format ``"xarray"``).

    Parameters
    ----------
    result:
        The Python result of a computation.

    Returns
    -------
    xarray.DataArray
        ``result.to_xarray()``.

    Raises
    ------
    ParameterError
        When the result is not imagery or has no pixels.
    """
    result = _require_imagery(result, "xarray")
    return result.to_xarray()


def write_output(data: bytes, file: str | os.PathLike | BinaryIO) -> None:
    """Write ``data`` to a path (created or replaced) or a binary file object."""
    if hasattr(file, "write"):
        file.write(data)
        return
    with open(os.fspath(file), "wb") as f:
        f.write(data)


def to_plain(result: Any) -> Any:
    """Result objects as dicts (arrays kept), for MessagePack."""
    if isinstance(result, ImageResult):
        return {
            "ndarray": result.ndarray,
            "properties": result.properties,
            "bandinfo": dict(result.bandinfo),
            "geocontext": result.geocontext,
        }
    if hasattr(result, "__geo_interface__") and not isinstance(result, dict):
        return to_plain(result.__geo_interface__)
    if isinstance(result, dict):
        return {k: to_plain(v) for k, v in result.items()}
    if isinstance(result, (list, tuple)):
        return [to_plain(v) for v in result]
    return result


def to_jsonable(value: Any) -> Any:
    """A JSON-ready form: arrays as nested lists (``None`` where masked or not finite)."""
    if isinstance(value, ImageResult) or (
        hasattr(value, "__geo_interface__") and not isinstance(value, dict)
    ):
        value = to_plain(value)
    if isinstance(value, np.ndarray):
        mask = np.ma.getmaskarray(value) if isinstance(value, np.ma.MaskedArray) else None
        data = np.ma.getdata(value)
        items = np.empty(data.shape, dtype=object)
        items[...] = data.tolist() if data.ndim else data.item()
        if mask is not None:
            items[mask] = None
        return to_jsonable(items.tolist())
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value


def encode_result(result: Any) -> bytes:
    """Self-describing bytes of a result, decoded by :func:`decode_result` (the wire format)."""
    return msgpack_codec.packb(_tag(result))


def _tag(value: Any) -> Any:
    if isinstance(value, ImageResult):
        kind = (
            "ImageCollectionResult" if isinstance(value, ImageCollectionResult) else "ImageResult"
        )
        plain = to_plain(value)
        return {
            "__result__": kind,
            "ndarray": plain["ndarray"],
            **{k: _tag(plain[k]) for k in ("properties", "bandinfo", "geocontext")},
        }
    if _is_result_object(value):
        cls = type(value)
        return {"__object__": f"{cls.__module__}:{cls.__qualname__}", "state": _tag(vars(value))}
    if isinstance(value, tuple):
        return {"__tuple__": [_tag(v) for v in value]}
    if isinstance(value, list):
        return [_tag(v) for v in value]
    if isinstance(value, dict):
        return {k: _tag(v) for k, v in value.items()}
    return value


def _is_result_object(value: Any) -> bool:
    """Result classes of this package other than imagery (vector results and the like)."""
    module = type(value).__module__
    return (module == "tiles" or module.startswith("tiles.")) and hasattr(value, "__dict__")


def _rebuild(name: str, state: dict) -> Any:
    import importlib

    module_name, _, qualname = name.partition(":")
    # Only this package's classes: the bytes may come from a server.
    if not (module_name == "tiles" or module_name.startswith("tiles.")):
        raise ValueError(f"refusing to rebuild {name!r}: not a tiles result class")
    cls: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        cls = getattr(cls, part)
    obj = cls.__new__(cls)
    obj.__dict__.update(state)
    return obj


def decode_result(data: bytes) -> Any:
    """The Python result encoded by :func:`encode_result`."""
    return _untag(msgpack_codec.unpackb(data))


def _untag(value: Any) -> Any:
    if isinstance(value, dict):
        kind = value.get("__result__")
        if kind in ("ImageResult", "ImageCollectionResult"):
            cls = ImageCollectionResult if kind == "ImageCollectionResult" else ImageResult
            return cls(
                value["ndarray"],
                _untag(value["properties"]),
                _untag(value["bandinfo"]),
                _untag(value["geocontext"]),
            )
        if set(value) == {"__object__", "state"}:
            return _rebuild(value["__object__"], _untag(value["state"]))
        if set(value) == {"__tuple__"}:
            return tuple(_untag(v) for v in value["__tuple__"])
        return {k: _untag(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_untag(v) for v in value]
    return value


# -- rasters -------------------------------------------------------------------------------


def _require_imagery(result: Any, fmt: str) -> ImageResult:
    if not isinstance(result, ImageResult):
        raise ParameterError(
            f"format {fmt!r} needs an Image or ImageCollection result, not {type(result).__name__}"
        )
    if result.ndarray is None:
        raise ParameterError(f"the result is empty (no pixels): nothing to write as {fmt!r}")
    return result


def _bands_of(result: ImageResult) -> tuple[np.ma.MaskedArray, list[str], list[dict]]:
    """(bands, rows, cols) array, band names and per-band tags; collections stacked."""
    array = np.ma.asarray(result.ndarray)
    names = list(result.bandinfo)
    if isinstance(result, ImageCollectionResult):
        n, b, rows, cols = array.shape
        tags = [{"image": str(i)} for i in range(n) for _ in range(b)]
        return array.reshape(n * b, rows, cols), names * n, tags
    return array, names, [{} for _ in names]


def encode_geotiff(
    result: Any,
    compression: str = "lzw",
    tiled: bool = True,
    overviews: bool = True,
    not_overviews: bool = False,
    overview_resampler: str = "nearest",
    cog: bool = False,
) -> bytes:
    """A GeoTIFF of an Image/ImageCollection result in its GeoContext's CRS and grid.

    Parameters
    ----------
    result:
        An ``ImageResult`` or ``ImageCollectionResult`` (images stacked band-wise).
    compression, tiled, overviews, not_overviews, overview_resampler, cog:
        The format's options (see the module docstring).

    Returns
    -------
    bytes
        The GeoTIFF file; with ``cog`` a Cloud-Optimized GeoTIFF.
    """
    import rasterio
    import rasterio.shutil
    from affine import Affine
    from rasterio.enums import Resampling
    from rasterio.io import MemoryFile

    result = _require_imagery(result, "geotiff")
    array, names, tags = _bands_of(result)
    context = result.geocontext or {}
    if not context.get("crs") or not context.get("gdal_geotrans"):
        raise ParameterError("geotiff needs a result computed in a GeoContext with a CRS and grid")
    mask = np.ma.getmaskarray(array)
    data = np.ma.getdata(array)
    shared = bool(mask.any()) and bool((mask == mask[:1]).all())
    nodata = None
    if mask.any() and not shared:
        # Per-band masks cannot be one mask band: use NaN nodata in a float file.
        data = np.where(mask, np.nan, data.astype(np.float64))
        nodata = float("nan")
    if data.dtype == bool:
        data = data.astype(np.uint8)
    count, rows, cols = data.shape
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "width": cols,
        "height": rows,
        "count": count,
        "dtype": data.dtype.name,
        "crs": context["crs"],
        "transform": Affine.from_gdal(*context["gdal_geotrans"]),
        "nodata": nodata,
    }
    with_overviews = overviews and not not_overviews
    if compression != "none" and not cog:
        profile["compress"] = compression
    if tiled and rows >= 16 and cols >= 16 and not cog:
        profile.update(tiled=True, blockxsize=_block(cols), blockysize=_block(rows))
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), MemoryFile() as memfile:
        with memfile.open(**profile) as dst:
            dst.write(data)
            if shared:
                dst.write_mask(np.where(mask[0], 0, 255).astype(np.uint8))
            for i, (name, band_tags) in enumerate(zip(names, tags, strict=True), start=1):
                dst.set_band_description(i, name)
                if band_tags:
                    dst.update_tags(i, **band_tags)
            factors = _overview_factors(rows, cols)
            if with_overviews and factors and not cog:
                dst.build_overviews(factors, getattr(Resampling, overview_resampler))
        if not cog:
            return memfile.read()
        # The COG driver lays out tiles, overviews and the mask from the plain file.
        with memfile.open() as src, MemoryFile() as cogfile:
            rasterio.shutil.copy(
                src,
                cogfile.name,
                driver="COG",
                compress=compression.upper(),
                overviews="AUTO" if with_overviews else "NONE",
                overview_resampling=overview_resampler.upper(),
                blocksize=256,
            )
            return cogfile.read()


def _block(size: int) -> int:
    # GeoTIFF tiles must be multiples of 16; 256 suits most readers.
    return 256 if size >= 256 else max(16, size // 16 * 16)


def _overview_factors(rows: int, cols: int) -> list[int]:
    factors, factor = [], 2
    while max(rows, cols) / factor >= 64:
        factors.append(factor)
        factor *= 2
    return factors


def encode_png(result: Any) -> bytes:
    """A lossless PNG of a 1- or 3-band Image whose values are whole numbers in range."""
    from PIL import Image as PILImage

    result = _require_imagery(result, "png")
    if isinstance(result, ImageCollectionResult):
        raise ParameterError("format 'png' needs an Image; reduce the ImageCollection first")
    array = np.ma.asarray(result.ndarray)
    nbands = array.shape[0]
    if nbands not in (1, 3):
        raise ParameterError(f"format 'png' holds 1 or 3 bands, this Image has {nbands}")
    mask = np.ma.getmaskarray(array).any(axis=0)
    values = np.ma.getdata(array)[:, ~mask] if mask.any() else np.ma.getdata(array)
    if values.size and not np.array_equal(values, np.round(values)):
        raise ParameterError(
            "format 'png' needs whole-number pixel values; scale them first "
            "(e.g. img.scale_values(0, 255)) or use 'geotiff' or 'npy'"
        )
    low = float(values.min()) if values.size else 0.0
    high = float(values.max()) if values.size else 0.0
    data = np.where(mask, 0, np.ma.getdata(array))
    buffer = io.BytesIO()
    if low >= 0 and high <= 255:
        pixels = np.moveaxis(data.astype(np.uint8), 0, -1)
        if mask.any():
            alpha = np.where(mask, 0, 255).astype(np.uint8)[..., None]
            pixels = np.concatenate([pixels, alpha], axis=-1)
        mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[pixels.shape[-1]]
        PILImage.fromarray(pixels if mode != "L" else pixels[..., 0], mode=mode).save(
            buffer, format="PNG"
        )
    elif low >= 0 and high <= 65535 and nbands == 1 and not mask.any():
        PILImage.fromarray(data[0].astype(np.uint16)).save(buffer, format="PNG")
    else:
        raise ParameterError(
            f"format 'png' holds values 0-255 (or 0-65535 for one unmasked band); the values "
            f"span {low:g} to {high:g}: scale them first or use 'geotiff' or 'npy'"
        )
    return buffer.getvalue()


def encode_npy(result: Any) -> bytes:
    """NumPy ``.npy`` bytes: the Image ndarray (masked pixels NaN) or a numeric result."""
    if isinstance(result, ImageResult):
        result = _require_imagery(result, "npy")
        array = result.ndarray
    else:
        try:
            array = np.asarray(result)
        except (TypeError, ValueError) as exc:
            raise ParameterError(f"format 'npy' cannot hold {type(result).__name__}") from exc
        if array.dtype.hasobject:
            raise ParameterError(f"format 'npy' needs a numeric result, not {result!r}"[:200])
    if isinstance(array, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(array)
        data = np.ma.getdata(array)
        array = np.where(mask, np.nan, data.astype(np.float64)) if mask.any() else data
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()
