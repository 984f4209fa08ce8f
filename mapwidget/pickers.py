"""A dropdown of the map's layers whose value is the chosen layer's imagery.

It backs ``wf.widgets.image`` and ``wf.widgets.imagecollection``: another layer can
then use what one layer shows (with that layer's current parameter values) as input.
"""

from __future__ import annotations

from typing import Any

import ipywidgets
import traitlets


class LayerPickerWidget(ipywidgets.HBox):
    """Choose one WorkflowsLayer of a map; ``value`` is its imagery with parameters applied.

    Parameters
    ----------
    map : MapApp or Map, optional
        The map whose layers are offered (default ``wf.map``).
    default_layer : WorkflowsLayer, optional
        The layer chosen at first.
    collections : bool
        Offer only ImageCollection layers, and give their collection (not an Image).
    """

    value = traitlets.Any(None, allow_none=True, read_only=True)
    layer = traitlets.Any(None, allow_none=True)
    #: Layers depending on this parameter name are not offered (that would be a cycle).
    exclude_dependents_of = traitlets.Unicode("")

    def __init__(
        self,
        map: Any = None,
        default_layer: Any = None,
        collections: bool = False,  # noqa: A002
    ) -> None:
        """A dropdown of ``map``'s layers (see the class)."""
        self._dropdown = ipywidgets.Dropdown(options=[("(none)", None)], value=None)
        super().__init__([self._dropdown])
        self._collections = collections
        self._map = map
        self._watched: Any = None
        self._dropdown.observe(self._on_choice, "value")
        leaflet_map = self._leaflet_map()
        leaflet_map.observe(self._refresh_options, "layers")
        self._refresh_options()
        if default_layer is not None:
            self.layer = default_layer

    def _leaflet_map(self) -> Any:
        from mapwidget.app import MapApp, get_map

        target = self._map if self._map is not None else get_map()
        return target.map if isinstance(target, MapApp) else target

    def _candidates(self) -> list:
        from mapwidget.layer import WorkflowsLayer
        from tiles.types import ImageCollection

        found = []
        for lyr in self._leaflet_map().layers:
            if not isinstance(lyr, WorkflowsLayer) or lyr.imagery is None:
                continue
            if self._collections and not isinstance(lyr.imagery, ImageCollection):
                continue
            if self.exclude_dependents_of and self.exclude_dependents_of in lyr.parameters.names():
                continue
            found.append(lyr)
        return found

    def _refresh_options(self, change: Any = None) -> None:
        layers = self._candidates()
        current = self._dropdown.value
        self._dropdown.options = [("(none)", None)] + [(lyr.name, lyr) for lyr in layers]
        self._dropdown.value = current if current in layers else None

    @traitlets.observe("layer")
    def _on_layer(self, change: dict) -> None:
        if change["new"] is not None and change["new"] not in self._candidates():
            self._refresh_options()
        if self._dropdown.value is not change["new"]:
            self._dropdown.value = change["new"]
        self._watch(change["new"])

    def _on_choice(self, change: dict) -> None:
        self.layer = change["new"]

    def _watch(self, layer: Any) -> None:
        if self._watched is not None:
            self._watched.unobserve(self._update_value, "url")
        self._watched = layer
        if layer is not None:
            # The URL changes exactly when the layer's imagery or parameter values do.
            layer.observe(self._update_value, "url")
        self._update_value()

    def _update_value(self, change: Any = None) -> None:
        layer = self._watched
        if layer is None or layer.imagery is None:
            value = None
        else:
            value = layer.value if self._collections else layer.image_value
        self.set_trait("value", value)
