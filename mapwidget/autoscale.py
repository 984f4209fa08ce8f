"""Autoscale: set a layer's scales to the 2nd-98th percentiles of what the map shows.

One computation covers the whole view (``compute`` on ``map.geocontext()``, one
pixel per screen pixel), on a background thread; the layer's ``autoscale_state``
trait reports progress ("running", "done", "error: ...").
"""

from __future__ import annotations

import concurrent.futures
from typing import Any

import numpy as np

from tiles.compute import compute

#: Percentiles mapped to the ends of the colour range.
PERCENTILES = (2.0, 98.0)

_pool = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="autoscale")


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


def view_scales(layer: Any, geoctx: Any) -> list:
    """Scales for ``layer`` from one computation of its current image in ``geoctx``."""
    image = layer.image_value
    if image is None:
        missing = ", ".join(layer.parameters.missing())
        raise ValueError(f"missing a value for parameter(s) {missing}")
    result = compute(image, geoctx)
    pairs = percentile_scales(result.ndarray)
    if layer.colormap:
        pairs = pairs[:1]
    return pairs


def autoscale(layer: Any, map: Any) -> concurrent.futures.Future:  # noqa: A002
    """Start autoscaling ``layer`` over ``map``'s view; the future gives the new scales."""
    geoctx = map.geocontext()
    layer.autoscale_state = "running"

    def run() -> list:
        try:
            pairs = view_scales(layer, geoctx)
        except Exception as exc:  # shown to the user in the layer row; nothing to recover
            layer.autoscale_state = f"error: {exc}"
            raise
        layer.scales = pairs
        layer.autoscale_state = "done"
        return pairs

    return _pool.submit(run)
