"""Warnings for computations that will come out empty in a way that is probably a mistake.

An empty result is valid (a GeoContext can hold no data), so it raises nothing; but reversed
dates, a date range with no images of a product, or a GeoContext outside every image of it
are usually mistakes. :func:`warn_if_probably_empty` checks the products a graft searches
(with literal ids and dates) against the catalog before computing, and says which.

>>> import tiles as wf                                                    # doctest: +SKIP
>>> ic = wf.ImageCollection.from_id("sample:s2", "2024-01-01", "2023-01-01")  # doctest: +SKIP
>>> ic.compute(ctx)                                                       # doctest: +SKIP
EmptyResultWarning: ImageCollection.from_id('sample:s2', ...): the end date ... is not after ...
"""

from __future__ import annotations

import datetime as dt
import warnings
from typing import Any

from tiles.data import catalog
from tiles.errors import DataError, EmptyResultWarning, NotFoundError
from tiles.graft.analysis import CollectionSource, collection_sources


def _parse(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.timezone.utc)


def _bbox_text(bounds: Any) -> str:
    return ", ".join(f"{v:.4f}" for v in bounds)


def explain_empty_source(source: CollectionSource, bounds_lonlat: Any) -> str | None:
    """Why ``source`` finds no image in lon/lat ``bounds_lonlat``, or None when it finds some.

    Parameters
    ----------
    source : CollectionSource
        A product and the dates a graft searches it between.
    bounds_lonlat : sequence of float
        ``(west, south, east, north)`` of the GeoContext.

    Returns
    -------
    str or None
        What is probably wrong: reversed dates, no images in the dates, or a GeoContext
        outside every image (with where the images are).
    """
    what = f"ImageCollection.from_id({source.product_id!r}, {source.start!r}, {source.end!r})"
    start, end = _parse(source.start), _parse(source.end)
    if start is not None and end is not None and end <= start:
        return (
            f"{what}: the end date {source.end} is not after the start date {source.start}, "
            "so no image can match; swap them"
        )
    if catalog.search(source.product_id, start, end, bbox_lonlat=bounds_lonlat, limit=1):
        return None
    dated = catalog.search(source.product_id, start, end, limit=None)
    if not dated:
        every = catalog.search(source.product_id, limit=None)
        if not every:
            return f"{what}: the product has no images yet"
        first, last = (r.acquired.date().isoformat() for r in (every[0], every[-1]))
        return f"{what}: no image in that date range; the product has images from {first} to {last}"
    west = min(r.bounds_lonlat[0] for r in dated)
    south = min(r.bounds_lonlat[1] for r in dated)
    east = max(r.bounds_lonlat[2] for r in dated)
    north = max(r.bounds_lonlat[3] for r in dated)
    return (
        f"{what}: the GeoContext ({_bbox_text(bounds_lonlat)}) is outside every image in that "
        f"date range; they cover lon/lat {_bbox_text((west, south, east, north))}"
    )


def warn_if_probably_empty(graft: dict, geoctx: Any, stacklevel: int = 3) -> list[str]:
    """Warn (:class:`~tiles.errors.EmptyResultWarning`) about sources of ``graft`` that find
    nothing in ``geoctx`` for a reason that is probably a mistake.

    Parameters
    ----------
    graft : dict
        What is about to be computed.
    geoctx : GeoContext or None
        Where; without one nothing is checked.
    stacklevel : int
        Passed to :func:`warnings.warn`, so the warning points at the user's call.

    Returns
    -------
    list of str
        The messages warned about.
    """
    bounds = getattr(geoctx, "bounds_lonlat", None)
    if bounds is None:
        return []
    messages = []
    for source in collection_sources(graft):
        try:
            if catalog.default_catalog().product_source(source.product_id) is not None:
                continue  # a remote catalog: checking would cost searches over the network
            message = explain_empty_source(source, bounds)
        except (NotFoundError, DataError):
            continue  # computing will report the unknown product itself
        if message is not None:
            messages.append(message)
            warnings.warn(message, EmptyResultWarning, stacklevel=stacklevel)
    return messages
