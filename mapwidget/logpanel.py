"""The map's log panel: every layer's messages, prefixed with the layer name.

It follows the ``log_messages`` trait of each WorkflowsLayer on the map (a layer clears
its own messages whenever its URL changes), so nothing here polls.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets
import traitlets


class LogPanel(ipywidgets.VBox):
    """Messages of the WorkflowsLayers on ``map``; ``lines`` is what is shown.

    Parameters
    ----------
    map : Map
        The map whose layers' ``log_messages`` are shown, prefixed with the layer name.
    """

    lines = traitlets.List(traitlets.Unicode())

    def __init__(self, map: Any) -> None:  # noqa: A002
        """Follow the layers of ``map`` (see the class)."""
        self._text = ipywidgets.HTML()
        self._clear = ipywidgets.Button(
            description="Clear", icon="trash", layout=ipywidgets.Layout(width="6em")
        )
        self._clear.on_click(lambda _: self.clear())
        super().__init__([])
        self.map = map
        self._layers: list = []
        map.observe(self._on_layers, "layers")
        self._on_layers()

    def _on_layers(self, change: Any = None) -> None:
        from mapwidget.layer import WorkflowsLayer

        for lyr in self._layers:
            lyr.unobserve(self._refresh, ["log_messages", "name"])
        self._layers = [lyr for lyr in self.map.layers if isinstance(lyr, WorkflowsLayer)]
        for lyr in self._layers:
            lyr.observe(self._refresh, ["log_messages", "name"])
        self._refresh()

    def _refresh(self, change: Any = None) -> None:
        self.lines = [
            f"{lyr.name}: {m}" for lyr in reversed(self._layers) for m in lyr.log_messages
        ]

    def clear(self) -> None:
        """Forget the messages shown now (new ones still arrive)."""
        for lyr in self._layers:
            lyr.clear_logs()

    @traitlets.observe("lines")
    def _render(self, change: dict) -> None:
        lines = change["new"]
        if not lines:
            self.children = []
            return
        body = "<br>".join(html.escape(line) for line in lines)
        self._text.value = (
            "<div style='font-family:monospace;font-size:90%;max-height:12em;overflow:auto'>"
            f"{body}</div>"
        )
        self.children = [self._text, self._clear]
