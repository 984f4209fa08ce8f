"""Interactive maps for tiles: ``wf.map``, ``wf.widgets`` and ``wf.interactive``.

- :class:`MapApp` (``wf.map``): an ipyleaflet map with a view bar, a log panel and one
  control row per layer.
- :class:`WorkflowsLayer`: a tile layer whose URL follows its imagery, display options
  and parameter values (:class:`ParameterSet`).
- :func:`visualize`: add imagery to a map, or update the layer of the same name.
- :mod:`mapwidget.widgets` (``wf.widgets``): parameters that are also ipywidgets.
- :func:`diagnose`: how the browser reaches the tile server, and why tiles may not show.

``wf.map`` is created the first time it is used, so importing needs no display.
"""

from __future__ import annotations

from typing import Any

from mapwidget import routing, widgets
from mapwidget.app import MapApp, get_map, tile_layer, visualize
from mapwidget.diagnose import Diagnosis, diagnose
from mapwidget.layer import WorkflowsLayer
from mapwidget.map_ import Map
from mapwidget.parameters import ParameterSet
from mapwidget.pickers import LayerPickerWidget
from mapwidget.routing import set_public_url

__all__ = [
    "Diagnosis",
    "LayerPickerWidget",
    "Map",
    "MapApp",
    "ParameterSet",
    "WorkflowsLayer",
    "diagnose",
    "get_map",
    "routing",
    "set_public_url",
    "tile_layer",
    "tiles_attribute",
    "visualize",
    "widgets",
]


def __getattr__(name: str) -> Any:
    if name == "map":
        return get_map()
    raise AttributeError(f"module 'mapwidget' has no attribute {name!r}")


def tiles_attribute(name: str) -> Any:
    """What ``tiles.<name>`` means for the interactive names.

    Parameters
    ----------
    name : str
        ``"map"``, ``"widgets"`` or ``"interactive"``.

    Returns
    -------
    Any
        The process's map (:func:`get_map`), :mod:`mapwidget.widgets`, or this module.

    Raises
    ------
    AttributeError
        For any other name.
    """
    import sys

    if name == "map":
        return get_map()
    if name == "widgets":
        return widgets
    if name == "interactive":
        return sys.modules[__name__]
    raise AttributeError(f"module 'tiles' has no attribute {name!r}")
