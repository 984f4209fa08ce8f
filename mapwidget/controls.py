"""Controls under the map: the view (lat/lon, zoom, inspector) and one row per layer.

Every control is linked to a trait of the map or of a layer; the layer rebuilds its
own URL, so these widgets only translate between text boxes and trait values.
"""

from __future__ import annotations

from typing import Any

import ipyleaflet
import ipywidgets
import traitlets

from mapwidget.colorbar import colorbar_widget, set_colormap
from mapwidget.layer import WorkflowsLayer
from tiles import display
from tiles.types import ImageCollection

_SMALL = ipywidgets.Layout(width="6em")
_BUTTON = ipywidgets.Layout(width="2.5em")
_INVALID = "1px solid red"


def _parse_number(text: str) -> float | None:
    """A scale box's number; "" is None; anything else unparsable raises ValueError."""
    text = text.strip()
    return None if text == "" else float(text)


def _show_number(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


class MapController(ipywidgets.HBox):
    """Boxes for "lat, lon" and zoom linked to the map's view, and the pixel inspector toggle.

    Parameters
    ----------
    map : Map
        The map whose ``center``, ``zoom`` and ``inspecting_pixels`` the controls follow.
    """

    def __init__(self, map: Any) -> None:  # noqa: A002
        """Link the boxes to ``map`` (see the class)."""
        self.map = map
        self._lonlat = ipywidgets.Text(
            description="lat, lon", continuous_update=False, layout=ipywidgets.Layout(width="18em")
        )
        self._zoom = ipywidgets.BoundedIntText(
            description="zoom", min=0, max=24, value=int(map.zoom),
            layout=ipywidgets.Layout(width="10em"),
        )  # fmt: skip
        self._inspect = ipywidgets.ToggleButton(
            description="Pixel inspector", icon="crosshairs", value=map.inspecting_pixels
        )
        super().__init__([self._lonlat, self._zoom, self._inspect])
        traitlets.link((map, "inspecting_pixels"), (self._inspect, "value"))
        traitlets.link((map, "zoom"), (self._zoom, "value"))
        traitlets.dlink((map, "min_zoom"), (self._zoom, "min"), lambda z: int(z or 0))
        traitlets.dlink((map, "max_zoom"), (self._zoom, "max"), lambda z: int(z or 24))
        map.observe(self._show_center, "center")
        self._lonlat.observe(self._set_center, "value")
        self._show_center()

    def _show_center(self, change: Any = None) -> None:
        lat, lon = self.map.center
        self._lonlat.value = f"{lat:.5f}, {lon:.5f}"

    def _set_center(self, change: dict) -> None:
        try:
            lat, lon = (float(v) for v in change["new"].replace(";", ",").split(","))
        except ValueError:
            self._lonlat.layout.border = _INVALID
            return
        self._lonlat.layout.border = ""
        self.map.center = (lat, lon)


class ScaleBoxes(ipywidgets.HBox):
    """Editable scales: three min/max pairs, or ``min [colorbar] max`` with a colormap.

    Empty boxes mean the bands' declared ranges; a box that does not parse is outlined in
    red and changes nothing.

    Parameters
    ----------
    layer : WorkflowsLayer
        The layer whose ``scales`` and ``colormap`` the boxes show and set.
    """

    def __init__(self, layer: WorkflowsLayer) -> None:
        """Show ``layer``'s scales (see the class)."""
        self.layer = layer
        self._boxes = [
            (
                ipywidgets.Text(placeholder=f"{c} min", continuous_update=False, layout=_SMALL),
                ipywidgets.Text(placeholder=f"{c} max", continuous_update=False, layout=_SMALL),
            )
            for c in ("r", "g", "b")
        ]
        self._colorbar = colorbar_widget(layer.colormap)
        super().__init__([])
        for lo, hi in self._boxes:
            lo.observe(self._edited, "value")
            hi.observe(self._edited, "value")
        layer.observe(self._show, ["scales", "colormap"])
        self._show()

    def _show(self, change: Any = None) -> None:
        pairs = list(self.layer.scales or [])
        self._updating = True
        try:
            for i, (lo, hi) in enumerate(self._boxes):
                pair = pairs[i] if i < len(pairs) else [None, None]
                lo.value, hi.value = _show_number(pair[0]), _show_number(pair[1])
                lo.layout.border = hi.layout.border = ""
        finally:
            self._updating = False
        set_colormap(self._colorbar, self.layer.colormap)
        if self.layer.colormap:
            lo, hi = self._boxes[0]
            lo.placeholder, hi.placeholder = "min", "max"
            self.children = [lo, self._colorbar, hi]
        else:
            self._boxes[0][0].placeholder, self._boxes[0][1].placeholder = "r min", "r max"
            self.children = [w for pair in self._boxes for w in pair]

    def _edited(self, change: dict) -> None:
        if self._updating:
            return
        boxes = self._boxes[:1] if self.layer.colormap else self._boxes
        pairs, bad = [], []
        for lo, hi in boxes:
            try:
                pair = [_parse_number(lo.value), _parse_number(hi.value)]
            except ValueError:
                bad.append((lo, hi))
                continue
            if (pair[0] is None) != (pair[1] is None):
                bad.append((lo, hi))
            pairs.append(pair)
        filled = [p for p in pairs if p != [None, None]]
        for lo, hi in boxes:
            lo.layout.border = hi.layout.border = _INVALID if (lo, hi) in bad else ""
        if bad:
            return
        try:
            display.normalize_scales(filled)
        except ValueError:
            return
        self.layer.scales = filled or None


class LayerControllerRow(ipywidgets.VBox):
    """Controls of one WorkflowsLayer: visibility, opacity, name, scales, colormap, ...

    Also reduction (for collections), checkerboard, autoscale, order and removal buttons,
    and the layer's parameter panel below.

    Parameters
    ----------
    layer : WorkflowsLayer
        The layer the controls are linked to.
    map : Map
        The map holding it (for ordering, removal and autoscale).
    """

    def __init__(self, layer: WorkflowsLayer, map: Any) -> None:  # noqa: A002
        """Link the controls to ``layer`` (see the class)."""
        self.layer = layer
        self.map = map
        visible = ipywidgets.Checkbox(indent=False, layout=ipywidgets.Layout(width="2em"))
        opacity = ipywidgets.FloatSlider(
            min=0, max=1, step=0.05, readout=False, layout=ipywidgets.Layout(width="6em")
        )
        name = ipywidgets.Text(continuous_update=False, layout=ipywidgets.Layout(width="12em"))
        traitlets.link((layer, "visible"), (visible, "value"))
        traitlets.link((layer, "opacity"), (opacity, "value"))
        traitlets.link((layer, "name"), (name, "value"))
        self.scale_boxes = ScaleBoxes(layer)
        self.colormap = ipywidgets.Dropdown(
            options=[("no colormap", "")] + [(n, n) for n in display.available_colormaps()],
            layout=ipywidgets.Layout(width="10em"),
        )
        traitlets.link(
            (layer, "colormap"),
            (self.colormap, "value"),
            transform=(lambda v: v or "", lambda v: v or None),
        )
        self.reduction = ipywidgets.Dropdown(
            options=list(display.LAYER_REDUCTIONS), layout=ipywidgets.Layout(width="7em")
        )
        traitlets.link((layer, "reduction"), (self.reduction, "value"))
        self.checkerboard = ipywidgets.ToggleButton(
            icon="th", tooltip="checkerboard behind masked pixels", layout=_BUTTON
        )
        traitlets.link((layer, "checkerboard"), (self.checkerboard, "value"))
        self.autoscale = ipywidgets.Button(
            icon="magic", tooltip="autoscale to the 2-98% of the view", layout=_BUTTON
        )
        self.autoscale.on_click(lambda _: self.run_autoscale())
        self.progress = ipywidgets.HTML()
        up = ipywidgets.Button(icon="arrow-up", tooltip="move up", layout=_BUTTON)
        down = ipywidgets.Button(icon="arrow-down", tooltip="move down", layout=_BUTTON)
        remove = ipywidgets.Button(icon="times", tooltip="remove", layout=_BUTTON)
        up.on_click(lambda _: map.move_layer_up(layer))
        down.on_click(lambda _: map.move_layer_down(layer))
        remove.on_click(lambda _: map.remove_layer(layer))
        self._main = ipywidgets.HBox(
            [visible, opacity, name, self.scale_boxes, self.colormap, self.reduction,
             self.checkerboard, self.autoscale, up, down, remove, self.progress]
        )  # fmt: skip
        super().__init__([])
        layer.observe(self._on_structure, ["imagery", "parameters"])
        layer.observe(self._on_autoscale, "autoscale_state")
        self._on_structure()

    def _on_structure(self, change: Any = None) -> None:
        is_collection = isinstance(self.layer.imagery, ImageCollection)
        self.reduction.layout.display = "" if is_collection else "none"
        panel = self.layer.parameters.widget if self.layer.parameters.names() else None
        self.children = [self._main] + ([panel] if panel is not None else [])

    def run_autoscale(self) -> Any:
        """Autoscale the layer over the current view (see :mod:`mapwidget.autoscale`).

        Returns
        -------
        concurrent.futures.Future or None
            Gives the new scales; None when autoscaling could not start (the reason is
            shown in the row).
        """
        from mapwidget.autoscale import autoscale

        try:
            return autoscale(self.layer, self.map)
        except Exception as exc:  # e.g. the view is unknown: say so in the row
            self.layer.autoscale_state = f"error: {exc}"
            return None

    def _on_autoscale(self, change: dict) -> None:
        state = change["new"]
        if state == "running":
            self.progress.value = "<i>autoscaling…</i>"
        elif state.startswith("error"):
            self.progress.value = f"<span style='color:#b00'>{state}</span>"
        else:
            self.progress.value = ""


class TileLayerControllerRow(ipywidgets.HBox):
    """Visibility, opacity and name of a plain tile layer.

    Parameters
    ----------
    layer : ipyleaflet.TileLayer
        The layer.
    map : Map
        The map holding it (for removal).
    """

    def __init__(self, layer: Any, map: Any) -> None:  # noqa: A002
        """Link the controls to ``layer`` (see the class)."""
        visible = ipywidgets.Checkbox(indent=False, layout=ipywidgets.Layout(width="2em"))
        opacity = ipywidgets.FloatSlider(
            min=0, max=1, step=0.05, readout=False, layout=ipywidgets.Layout(width="6em")
        )
        traitlets.link((layer, "visible"), (visible, "value"))
        traitlets.link((layer, "opacity"), (opacity, "value"))
        remove = ipywidgets.Button(icon="times", tooltip="remove", layout=_BUTTON)
        remove.on_click(lambda _: map.remove_layer(layer))
        super().__init__([visible, opacity, ipywidgets.Label(layer.name), remove])


class LayerControllerList(ipywidgets.VBox):
    """One row per non-base layer of ``map``, top layer first; rows are reused.

    Parameters
    ----------
    map : Map
        The map whose ``layers`` the list follows.
    """

    def __init__(self, map: Any) -> None:  # noqa: A002
        """Follow ``map``'s layers (see the class)."""
        super().__init__([])
        self.map = map
        self._rows: dict[int, ipywidgets.Widget] = {}
        map.observe(self._on_layers, "layers")
        self._on_layers()

    def row(self, layer: Any) -> ipywidgets.Widget | None:
        """The row controlling ``layer``.

        Parameters
        ----------
        layer : ipyleaflet.Layer
            A layer of the map.

        Returns
        -------
        ipywidgets.Widget or None
            None when the layer has no row (a base layer, or not on the map).
        """
        return self._rows.get(id(layer))

    def _on_layers(self, change: Any = None) -> None:
        rows: dict[int, ipywidgets.Widget] = {}
        for layer in reversed(self.map.layers):
            if getattr(layer, "base", False):
                continue
            row = self._rows.get(id(layer))
            if row is None:
                if isinstance(layer, WorkflowsLayer):
                    row = LayerControllerRow(layer, self.map)
                elif isinstance(layer, ipyleaflet.TileLayer):
                    row = TileLayerControllerRow(layer, self.map)
                else:
                    continue
            rows[id(layer)] = row
        self._rows = rows
        self.children = list(rows.values())
