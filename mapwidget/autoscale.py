"""Autoscale: set a layer's scales to the 2nd-98th percentiles of what the map shows.

One computation covers the whole view (``compute`` on ``map.geocontext()``, one
pixel per screen pixel), on a background thread; the layer's ``autoscale_state``
trait reports progress ("running", "done", "error: ...").
"""

from __future__ import annotations

import concurrent.futures
from typing import Any

from tiles.compute.evaluation import compute
from tiles.engine.render import percentile_scales

_pool = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="autoscale")


def view_scales(layer: Any, geoctx: Any) -> list:
    """Scales for ``layer`` from one computation of its current image in ``geoctx``.

    Parameters
    ----------
    layer : WorkflowsLayer
        The layer; its imagery with the current parameter values and reduction is used.
    geoctx : GeoContext
        Usually the map's view (:meth:`mapwidget.map_.Map.geocontext`).

    Returns
    -------
    list of [min, max]
        The 2nd and 98th percentiles of each band (of the first band only with a colormap).

    Raises
    ------
    ValueError
        When a parameter has no value, or the view holds no data.
    """
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
    """Start autoscaling ``layer`` over ``map``'s view, on a background thread.

    ``layer.autoscale_state`` says "running", then "done" (the new scales are set) or
    "error: ...".

    Parameters
    ----------
    layer : WorkflowsLayer
        The layer to rescale.
    map : Map or MapApp
        The map whose view is measured.

    Returns
    -------
    concurrent.futures.Future
        Gives the new scales (see :func:`view_scales`).
    """
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
