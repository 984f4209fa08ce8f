"""Endpoints the web viewer needs beyond tiles: its settings, a layer's dates, scale to view.

- ``GET /viewer/config.json``: ``{"basemap": <XYZ template or null>, "reductions": [...]}``,
  the basemap from ``TILES_BASEMAP`` and the reductions a layer takes
  (:data:`tiles.display.LAYER_REDUCTIONS`), so the viewer keeps no list of its own.
- ``GET /layers/{id}/dates``: ``{"dates": ["2023-01-15", ...]}``, the days of a collection
  layer's images (empty for an Image), for the date slider; tiles take ``image_date=`` to
  show one day.
- ``GET /layers/{id}/view_scales?bbox=w,s,e,n``: ``{"scales": [[min, max], ...]}`` stretching
  the 2nd-98th percentile of each band over the view ("scale to view").

Both layer endpoints take the tile query (look, ``band``, ``image_date``, parameter values).
"""

from __future__ import annotations

import math
from typing import Any

from tiles import display, settings
from tiles.errors import ParameterError
from tiles.server import pipeline
from tiles.server.handlers import BaseHandler
from tiles.server.query import parse_tile_query

#: Pixels on the longer side of the one computation behind "scale to view".
VIEW_PIXELS = 512


class ViewerConfigHandler(BaseHandler):
    """``GET /viewer/config.json``: the viewer's basemap and the choices its controls offer."""

    def get(self) -> None:
        """Answer with the basemap template (null when none is set) and the reductions."""
        self.set_header("Cache-Control", "no-store")
        self.write_json(
            {"basemap": settings.BASEMAP.get(), "reductions": list(display.LAYER_REDUCTIONS)}
        )


class LayerDatesHandler(BaseHandler):
    """``GET /layers/{id}/dates``: the days of a collection layer's images."""

    public_errors = True

    async def get(self, layer_id: str) -> None:
        """Answer with the days within the sources' footprint (``known`` false when that is
        not known, e.g. computed sources)."""
        layer = await self.layer(layer_id)
        q = parse_tile_query(self.request.arguments, layer)
        footprint = self.service.footprint(layer)
        if footprint is None or footprint.is_empty:
            self.write_json({"dates": [], "known": False})
            return
        key = ("dates", layer.graft_hash, q.arguments_key)
        dates = await self.run(
            key, pipeline.collection_dates, layer.graft, q.arguments, footprint.bounds
        )
        self.write_json({"dates": dates, "known": True})


def parse_bbox(text: str | None) -> tuple[float, float, float, float]:
    """``w,s,e,n`` lon/lat degrees from a query; ParameterError naming the problem.

    Parameters
    ----------
    text : str or None
        The ``bbox`` query value.

    Returns
    -------
    tuple of float
        ``(west, south, east, north)``, clipped to web-mercator's latitudes.
    """
    if text is None:
        raise ParameterError("missing query parameter 'bbox' (west,south,east,north degrees)")
    try:
        west, south, east, north = (float(v) for v in text.split(","))
    except ValueError:
        raise ParameterError(
            f"query parameter bbox={text[:60]!r} is not four numbers west,south,east,north"
        ) from None
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        raise ParameterError("query parameter 'bbox' must be finite numbers")
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise ParameterError(
            f"query parameter bbox={text[:60]!r} must have west < east within -180..180 and "
            "south < north within -90..90"
        )
    limit = 85.0511287798066
    return west, max(south, -limit), east, min(north, limit)


class ViewScalesHandler(BaseHandler):
    """``GET /layers/{id}/view_scales?bbox=``: scales stretching what a view shows."""

    public_errors = True

    async def get(self, layer_id: str) -> None:
        """Answer with each band's 2nd and 98th percentile over ``bbox``; 400 when the view
        holds no data."""
        layer = await self.layer(layer_id)
        bbox = parse_bbox(self.get_query_argument("bbox", None))
        q = parse_tile_query(self.request.arguments, layer, frozenset({"bbox"}))
        key = ("view_scales", layer.graft_hash, q.arguments_key, bbox, *_selection(q))
        args: tuple[Any, ...] = (layer.graft, q.arguments, bbox, VIEW_PIXELS, *_selection(q))
        try:
            scales = await self.run(key, pipeline.view_scales, *args)
        except ValueError as exc:  # nothing to stretch in this view
            raise ParameterError(f"cannot scale to this view: {exc}") from None
        self.write_json({"scales": scales})


def _selection(q: Any) -> tuple:
    return (q.display.reduction, q.bands, q.image_date)


def viewer_routes(kw: dict[str, Any]) -> list[tuple]:
    """The URL table of these endpoints, with the handlers' keyword arguments ``kw``."""
    layer = r"/layers/([0-9a-zA-Z_-]+)"
    return [
        (r"/viewer/config\.json", ViewerConfigHandler, kw),
        (layer + r"/dates", LayerDatesHandler, kw),
        (layer + r"/view_scales", ViewScalesHandler, kw),
    ]
