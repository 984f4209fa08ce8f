"""Pixel inspector: click the map to see each visible layer's band values under the cursor.

Values come from the tile server's ``/layers/{id}/value`` endpoint, computed at the
imagery's full source resolution (not the zoom level's tile pixels), on a background
thread so the map stays responsive. Answers are cached per layer state and point.
"""

from __future__ import annotations

import collections
import concurrent.futures
import html
import math
import threading
import urllib.parse
from typing import Any

import ipyleaflet
import ipywidgets
import traitlets

from tiles.compute.http import ApiClient
from tiles.errors import WorkflowsError

#: Answers kept, most recent first out last.
CACHE_SIZE = 64
#: Seconds to wait for the server to compute a value.
VALUE_TIMEOUT = 120
_EARTH_RADIUS = 6378137.0
#: Largest size of the panel on the map, in pixels.
PANEL_WIDTH, PANEL_HEIGHT = 280, 240

MASKED = "∅"
EMPTY = "(empty)"
PENDING = "…"


def lonlat_to_3857(lon: float, lat: float) -> tuple[float, float]:
    """Web-mercator metres of a lon/lat point (the value endpoint takes EPSG:3857).

    Parameters
    ----------
    lon, lat : float
        Degrees; latitudes are clipped to web-mercator's limit.

    Returns
    -------
    (float, float)
        ``(x, y)`` in metres.

    Examples
    --------
    >>> [round(v) for v in lonlat_to_3857(180.0, 0.0)]
    [20037508, 0]
    """
    lat = max(min(lat, 85.0511287798), -85.0511287798)
    x = math.radians(lon) * _EARTH_RADIUS
    y = math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * _EARTH_RADIUS
    return x, y


def format_values(answer: dict[str, Any]) -> list[str]:
    """Display strings for one layer's answer: numbers, masked bands, empty or error.

    Parameters
    ----------
    answer : dict
        What :func:`fetch_values` returned.

    Returns
    -------
    list of str
        One ``"band: value"`` line per band (``∅`` for masked), or one line for an empty
        image or an error.

    Examples
    --------
    >>> format_values({"values": {"red": 0.1234567, "nir": None}})
    ['red: 0.123457', 'nir: ∅']
    """
    if "error" in answer:
        return [f"error: {answer['error']}"]
    values = answer.get("values", {})
    if not values:
        return [EMPTY]
    return [f"{name}: {MASKED}" if v is None else f"{name}: {v:.6g}" for name, v in values.items()]


def fetch_values(url: str) -> dict[str, Any]:
    """Ask the tile server for the values under a point.

    Parameters
    ----------
    url : str
        A layer's value URL (:meth:`mapwidget.layer.WorkflowsLayer.value_url`).

    Returns
    -------
    dict
        ``{"values": {band: value or None}}``, or ``{"error": message}``; it never raises.
    """
    parts = urllib.parse.urlsplit(url)
    client = ApiClient(f"{parts.scheme}://{parts.netloc}", timeout=VALUE_TIMEOUT)
    try:
        answer = client.json("GET", urllib.parse.urlunsplit(("", "", *parts[2:])))
        return {"values": answer["values"]}
    except (WorkflowsError, OSError, ValueError, LookupError, TypeError) as exc:
        # OSError: a timeout while reading; the others: an answer that is not the values.
        return {"error": str(exc)}


class PixelInspector(ipywidgets.VBox):
    """The inspector panel of one map; ``rows`` holds ``(layer name, [value strings])``.

    Turned on with ``map.inspecting_pixels = True``; each click looks up every visible
    WorkflowsLayer at the clicked point.

    Parameters
    ----------
    map : Map
        The map whose clicks are inspected.
    """

    point = traitlets.Tuple((), help="(lon, lat) of the last click")
    rows = traitlets.List()

    _pool = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="inspector")

    def __init__(self, map: Any) -> None:  # noqa: A002
        """An empty panel for ``map`` (see the class)."""
        self._table = ipywidgets.HTML()
        super().__init__([ipywidgets.HTML("<b>Pixel inspector</b> (click the map)"), self._table])
        self.layout.max_height = f"{PANEL_HEIGHT}px"
        self.layout.max_width = f"{PANEL_WIDTH}px"
        self.layout.overflow = "auto"
        self.map = map
        # Bounded, in the corner away from the zoom buttons, so it never covers them.
        self._control = ipyleaflet.WidgetControl(
            widget=self, position="topright", max_width=PANEL_WIDTH, max_height=PANEL_HEIGHT
        )
        self._marker = ipyleaflet.CircleMarker(radius=5, weight=2, fill_opacity=0, color="black")
        self._cache: collections.OrderedDict[str, dict] = collections.OrderedDict()
        self._lock = threading.Lock()
        self._generation = 0

    def attach(self) -> None:
        """Show the panel and listen to the map's clicks."""
        if self._control not in self.map.controls:
            self.map.add(self._control)
        self.map.on_interaction(self._on_interaction)
        self.map.default_style = {"cursor": "crosshair"}

    def detach(self) -> None:
        """Hide the panel and the marker; stop listening to clicks."""
        self.map.on_interaction(self._on_interaction, remove=True)
        if self._control in self.map.controls:
            self.map.remove(self._control)
        if self._marker in self.map.layers:
            self.map.remove(self._marker)
        self.map.default_style = {"cursor": "grab"}

    def _on_interaction(self, **event: Any) -> None:
        if event.get("type") == "click":
            lat, lon = event["coordinates"]
            self.inspect(lon, lat)

    def inspect(self, lon: float, lat: float) -> list[concurrent.futures.Future]:
        """Look up every visible layer at a point and show the answers as they come.

        Parameters
        ----------
        lon, lat : float
            The point, in degrees.

        Returns
        -------
        list of concurrent.futures.Future
            The lookups still running (answers already known are shown at once).
        """
        from mapwidget.layer import WorkflowsLayer

        self._marker.location = (lat, lon)
        if self._marker not in self.map.layers:
            self.map.add(self._marker)
        self.point = (lon, lat)
        x, y = lonlat_to_3857(lon, lat)
        layers = [
            lyr
            for lyr in reversed(self.map.layers)
            if isinstance(lyr, WorkflowsLayer) and lyr.visible
        ]
        with self._lock:
            self._generation += 1
            generation = self._generation
        rows: list = []
        futures = []
        for i, lyr in enumerate(layers):
            url = lyr.value_url(x, y)
            if url is None:
                rows.append((lyr.name, ["error: the layer has no URL (see its log)"]))
                continue
            key = url  # names the layer, its parameter values, reduction and the point
            cached = self._cache.get(key)
            if cached is not None:
                rows.append((lyr.name, format_values(cached)))
                continue
            rows.append((lyr.name, [PENDING]))
            future = self._pool.submit(fetch_values, url)
            future.add_done_callback(self._done(generation, i, lyr.name, key))
            futures.append(future)
        self.rows = rows
        return futures

    def _done(self, generation: int, index: int, name: str, key: str) -> Any:
        def callback(future: concurrent.futures.Future) -> None:
            answer = future.result()
            with self._lock:
                if "error" not in answer:
                    self._cache[key] = answer
                    while len(self._cache) > CACHE_SIZE:
                        self._cache.popitem(last=False)
                if generation != self._generation:
                    return  # a newer click replaced this row
                rows = list(self.rows)
                rows[index] = (name, format_values(answer))
                self.rows = rows

        return callback

    @traitlets.observe("rows")
    def _render(self, change: dict) -> None:
        cells = "".join(
            f"<tr><td style='padding-right:1em'>{html.escape(name)}</td>"
            f"<td>{'<br>'.join(html.escape(v) for v in values)}</td></tr>"
            for name, values in change["new"]
        )
        self._table.value = f"<table>{cells}</table>"
