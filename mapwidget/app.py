"""MapApp (the map with its controls, shown as ``wf.map``) and ``visualize``."""

from __future__ import annotations

import logging
import threading
from typing import Any

import ipyleaflet
import ipywidgets
import traitlets

from mapwidget import viewport
from mapwidget.controls import LayerControllerList, MapController
from mapwidget.layer import WorkflowsLayer
from mapwidget.logpanel import LogPanel
from mapwidget.map_ import Map
from tiles.display import DisplayOptions

#: Names read and written on a MapApp that belong to its Map.
FORWARDED = (
    "center", "zoom", "min_zoom", "max_zoom", "layers", "controls", "bounds", "pixel_bounds",
    "north", "south", "east", "west", "inspecting_pixels", "scroll_wheel_zoom", "basemap",
    "window_url", "add", "remove", "add_layer", "remove_layer", "add_control",
    "remove_control", "clear_layers", "clear_controls", "move_layer", "move_layer_up",
    "move_layer_down", "map_dimensions", "geocontext", "on_interaction", "fit_bounds",
    "inspector",
)  # fmt: skip


class MapApp(ipywidgets.VBox):
    """The map, a view bar (lat/lon, zoom, inspector), a log panel and the layer list.

    Map attributes and methods (``center``, ``zoom``, ``layers``, ``geocontext`` ...) can
    be used on the MapApp directly.

    Parameters
    ----------
    map : ipyleaflet.Map, optional
        The map to wrap; by default a new :class:`~mapwidget.map_.Map` 500 px high with
        full-screen and scale controls.
    layout : ipywidgets.Layout, optional
        The layout of the whole app (full width by default).

    Examples
    --------
    >>> app = MapApp()                                     # doctest: +SKIP
    >>> app.center, app.zoom = (35.68, -105.94), 10        # doctest: +SKIP
    """

    map = traitlets.Instance(ipyleaflet.Map)

    def __init__(self, map: ipyleaflet.Map | None = None, layout: Any = None) -> None:  # noqa: A002
        """Build the controls around ``map`` (see the class for the parameters)."""
        if map is None:
            map = Map(layout=ipywidgets.Layout(height="500px"))
            map.add(ipyleaflet.FullScreenControl())
            map.add(ipyleaflet.ScaleControl(position="bottomleft"))
        self.controller = MapController(map)
        self.logs = LogPanel(map)
        self.layer_list = LayerControllerList(map)
        super().__init__(
            [map, self.controller, self.logs, self.layer_list],
            map=map,
            layout=layout or ipywidgets.Layout(width="100%"),
        )

    def __getattr__(self, name: str) -> Any:
        """The map's attribute ``name`` for the names in :data:`FORWARDED`."""
        if name in FORWARDED:
            return getattr(self.map, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        """Set the map's attribute for the names in :data:`FORWARDED`, else this widget's."""
        if name in FORWARDED:
            setattr(self.map, name, value)
        else:
            super().__setattr__(name, value)

    def __dir__(self) -> list[str]:
        """Names of this widget and those forwarded to its map, for completion."""
        return sorted(set(super().__dir__()) | set(FORWARDED))


_lock = threading.Lock()
_app: MapApp | None = None


def get_map() -> MapApp:
    """The process's ``wf.map``, created the first time it is asked for.

    Returns
    -------
    MapApp
        The same app on every call.
    """
    global _app
    with _lock:
        if _app is None:
            _app = MapApp()
        return _app


def _leaflet_map(target: Any) -> ipyleaflet.Map:
    if target is None:
        return get_map().map
    if isinstance(target, MapApp):
        return target.map
    if isinstance(target, ipyleaflet.Map):
        return target
    raise TypeError(f"map must be a MapApp or an ipyleaflet Map, not {type(target).__name__}")


def visualize(
    obj: Any,
    name: str,
    scales: Any = None,
    colormap: str | None = None,
    checkerboard: bool = True,
    log_level: int = logging.DEBUG,
    map: Any = None,  # noqa: A002
    reduction: str = "mosaic",
    **parameter_overrides: Any,
) -> WorkflowsLayer:
    """Show ``obj`` on ``wf.map`` (or ``map``) as the layer ``name``.

    If the map already has a layer called ``name`` it is updated in place, so re-running
    a cell never stacks layers. The first layer whose data has a known footprint moves
    the map to show that data.

    Parameters
    ----------
    obj : Image or ImageCollection
        What to show.
    name : str
        The layer's name on the map.
    scales : list, optional
        Up to 3 ``[min, max]`` pairs (or one bare pair); by default each band's declared
        value range.
    colormap : str, optional
        A matplotlib colormap name, for a single band.
    checkerboard : bool
        Whether masked pixels inside the data show a checkerboard.
    log_level : int
        The lowest level of server log records shown in the map's log panel.
    map : MapApp or ipyleaflet.Map, optional
        The map (default ``wf.map``).
    reduction : str
        How a collection becomes one image (``"mosaic"``, ``"median"``, ...).
    **parameter_overrides
        Values for the parameters ``obj`` depends on: plain values, proxies, or ipywidgets
        (linked, so moving them re-renders; a new widget for the same name replaces the
        old link).

    Returns
    -------
    WorkflowsLayer
        The layer on the map.

    Examples
    --------
    >>> ndvi.visualize("NDVI", scales=[[-0.2, 0.8]], colormap="RdYlGn")    # doctest: +SKIP
    """
    # Checked before any widget exists, so bad options leave nothing half-built behind.
    DisplayOptions(scales, colormap, reduction, checkerboard)
    leaflet_map = _leaflet_map(map)
    for layer in leaflet_map.layers:
        if isinstance(layer, WorkflowsLayer) and layer.name == name:
            with layer.hold_url_updates():
                layer.set_options(scales, colormap, checkerboard, reduction, log_level)
                layer.set_imagery(obj, **parameter_overrides)
            return layer
    layer = WorkflowsLayer(
        imagery=obj,
        name=name,
        scales=scales,
        colormap=colormap,
        checkerboard=checkerboard,
        reduction=reduction,
        log_level=log_level,
        parameter_overrides=parameter_overrides,
    )
    leaflet_map.add(layer)
    _zoom_to_first_footprint(leaflet_map, layer)
    return layer


#: Map size assumed before the front end has reported it (MapApp's height, a notebook's width).
ASSUMED_MAP_SIZE = (900, 500)


def _zoom_to_first_footprint(leaflet_map: ipyleaflet.Map, layer: WorkflowsLayer) -> None:
    """Show the data of the first layer on ``leaflet_map`` whose footprint is known.

    Later layers leave the view alone, and code that sets ``center``/``zoom`` afterwards
    wins, since the view is set here at once (not when the front end answers).
    """
    if getattr(leaflet_map, "_tiles_zoomed_to_data", False):
        return
    bounds = layer.footprint_bounds()
    if bounds is None:
        return
    size = ASSUMED_MAP_SIZE
    if leaflet_map.pixel_bounds:
        size = viewport.pixel_size(leaflet_map.pixel_bounds)
    center, zoom = viewport.view_for_bounds(
        bounds, size, min_zoom=layer.min_zoom, max_zoom=int(leaflet_map.max_zoom or 18)
    )
    leaflet_map.center, leaflet_map.zoom = center, zoom
    leaflet_map._tiles_zoomed_to_data = True


def tile_layer(
    obj: Any,
    name: str | None = None,
    scales: Any = None,
    colormap: str | None = None,
    checkerboard: bool = True,
    reduction: str = "mosaic",
    log_level: int = logging.DEBUG,
    **parameter_overrides: Any,
) -> WorkflowsLayer:
    """A WorkflowsLayer for ``obj`` that is not on any map yet.

    It is registered on the tile server with its look and parameter values, so its
    ``url_template`` and ``tilejson_url`` work in any web map.

    Parameters
    ----------
    obj : Image or ImageCollection
        What the layer shows.
    name : str, optional
        The layer's name.
    scales, colormap, checkerboard, reduction, log_level, **parameter_overrides
        As for :func:`visualize`.

    Returns
    -------
    WorkflowsLayer

    Examples
    --------
    >>> layer = ndvi.tile_layer("NDVI", scales=[[-0.2, 0.8]], colormap="RdYlGn")  # doctest: +SKIP
    >>> layer.url_template                                  # doctest: +SKIP
    'http://127.0.0.1:PORT/layers/<id>/{z}/{x}/{y}.png'
    """
    return WorkflowsLayer(
        imagery=obj,
        name=name or "",
        scales=scales,
        colormap=colormap,
        checkerboard=checkerboard,
        reduction=reduction,
        log_level=log_level,
        parameter_overrides=parameter_overrides,
    )
