"""Reductions over the pixels of a large GeoContext, window by window: counts, exact sums
(:mod:`tiles.engine.exact_sums`), minima and maxima of each window, combined into the
reduction. The same windows and the same arithmetic serve one process and a Dask cluster
(:mod:`tiles.compute.distributed`), so both give the same floats; memory is that of one
window, never the whole grid.

Split: ``count``, ``sum``, ``min``, ``max``, ``mean`` and ``std`` with ``axis="pixels"`` of
an Image graph whose every operation is pixel-local (:func:`tiles.compute.chunks.is_pixel_local`).
Not split: ``median`` (it needs every value at once), collections, NaN or infinite pixels
(numpy's rules apply, in one evaluation of the whole grid), and halo graphs with a cutline.

Example::

    >>> split = pixel_reduction(ndvi.mean(axis="pixels").graft)   # doctest: +SKIP
    >>> op, inner = split                                          # "mean", the NDVI graft
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from tiles.compute import chunks
from tiles.engine import ImageValue
from tiles.engine.exact_sums import ExactSum, std
from tiles.geocontext import GeoContext

#: Reductions over pixels that are combined from windows.
SPLIT_REDUCTIONS = frozenset({"count", "sum", "min", "max", "mean", "std"})

#: ``map_windows(fn, windows, on_result, *args)`` calls ``on_result(i, fn(windows[i], *args))``.
WindowMap = Callable[..., None]


def pixel_reduction(graft: dict) -> tuple[str, dict] | None:
    """``(op, inner graft)`` when ``graft`` reduces a pixel-local graph over ``"pixels"``.

    Parameters
    ----------
    graft:
        A whole graft.

    Returns
    -------
    tuple or None
        The reduction and the graft of what it reduces (without the reduction's node);
        None for anything else.
    """
    top = graft.get("returns")
    node = graft.get(top)
    if not (isinstance(node, list) and len(node) == 3 and isinstance(node[2], dict)):
        return None
    name, inner, kwargs = node
    op = name[3:] if isinstance(name, str) and name.startswith("wf.") else None
    if op not in SPLIT_REDUCTIONS or set(kwargs) != {"axis"}:
        return None
    if graft.get(kwargs["axis"]) != "pixels" or not isinstance(inner, str):
        return None
    inner_graft = {**{k: v for k, v in graft.items() if k != top}, "returns": inner}
    return (op, inner_graft) if chunks.is_pixel_local(inner_graft)[0] else None


def window_summary(
    window: tuple[int, int, int, int],
    graft: dict,
    search: GeoContext,
    arguments: Mapping[str, Any],
    halo: int,
    cutline: dict | None,
) -> dict[str, Any] | None:
    """Evaluate one window and sum it up per band: count, exact sums of values and squares,
    min, max (None when the window is not a plain, finite Image)."""
    value = chunks.evaluate_window(window, graft, search, arguments, halo, cutline)
    if not isinstance(value, ImageValue):
        return None
    if value.is_empty:
        return {"bands": (), "stats": {}, "empty": True}
    array = value.ndarray
    if halo:
        array = array[..., halo:-halo, halo:-halo]
    data, mask = np.ma.getdata(array), np.ma.getmaskarray(array)
    stats = {}
    for i, name in enumerate(value.band_names):
        values = data[i][~mask[i]].astype(np.float64)
        if not np.isfinite(values).all():
            return None
        stats[name] = {
            "count": int(values.size),
            "sum": ExactSum.of(values),
            "squares": ExactSum.of(values * values),
            "min": float(values.min()) if values.size else None,
            "max": float(values.max()) if values.size else None,
        }
    return {"bands": tuple(value.band_names), "stats": stats, "empty": False}


def reduce_windows(
    op: str,
    graft: dict,
    geoctx: GeoContext,
    arguments: Mapping[str, Any],
    halo: int,
    map_windows: WindowMap,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, float | None] | None:
    """``op`` over the pixels of the Image ``graft`` computes, from its windows.

    Parameters
    ----------
    op:
        One of :data:`SPLIT_REDUCTIONS`.
    graft, geoctx, arguments:
        The Image to reduce, where, with which parameter values.
    halo:
        Pixels each window needs around it.
    map_windows:
        Runs :func:`window_summary` over the windows (here, or on a cluster).
    progress:
        Called as ``progress(windows done, windows)``.

    Returns
    -------
    dict or None
        ``{band: value}`` as the engine's reduction gives it; None when the windows do not
        allow it (the caller then evaluates the whole grid at once).
    """
    if halo and geoctx.cutline is not None:
        return None  # the cutline applies after cropping the whole grid's halo
    search = geoctx.buffered(halo) if halo else geoctx
    cutline = geoctx.cutline  # evaluate_window leaves it out where there is a halo
    parts = list(chunks.windows(tuple(geoctx.arr_shape), chunks.chunk_side()))
    summaries: list[Any] = []

    def take(i: int, summary: Any) -> None:
        summaries.append(summary)
        if progress is not None:
            progress(len(summaries), len(parts))

    map_windows(window_summary, parts, take, graft, search, arguments, halo, cutline)
    if any(s is None for s in summaries) or len({s["empty"] for s in summaries}) != 1:
        return None
    if summaries[0]["empty"]:
        return {}
    names = summaries[0]["bands"]
    if any(s["bands"] != names for s in summaries):
        return None
    return {name: _combine(op, [s["stats"][name] for s in summaries]) for name in names}


def _combine(op: str, parts: list[dict]) -> float | None:
    count = sum(p["count"] for p in parts)
    if op == "count":
        return float(count)
    if count == 0:
        return None
    if op == "min":
        return min(p["min"] for p in parts if p["min"] is not None)
    if op == "max":
        return max(p["max"] for p in parts if p["max"] is not None)
    total, squares = ExactSum(), ExactSum()
    for p in parts:
        total, squares = total.merge(p["sum"]), squares.merge(p["squares"])
    if op == "sum":
        return total.value()
    if op == "mean":
        return total.mean()
    return std(total, squares)


def map_here(fn: Callable[..., Any], items: list, on_result: Callable, *args: Any) -> None:
    """A :data:`WindowMap` that runs the windows one after another in this process."""
    for i, item in enumerate(items):
        on_result(i, fn(item, *args))
