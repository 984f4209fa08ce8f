"""Map: an ipyleaflet Map with layer ordering helpers and the view as a GeoContext."""

from __future__ import annotations

from typing import Any

import ipyleaflet
import traitlets

from mapwidget import routing, viewport
from tiles.errors import GeoContextError
from tiles.geocontext import AOI

#: The original map's default view: Santa Fe, New Mexico (also where the sample data is).
DEFAULT_CENTER = (35.6870, -105.9378)
DEFAULT_ZOOM = 8


class Map(ipyleaflet.Map):
    """A Leaflet map for Workflows layers.

    Besides ipyleaflet's API: :meth:`move_layer`, :meth:`move_layer_up`,
    :meth:`move_layer_down`, :meth:`remove_layer` by name, :meth:`clear_layers`,
    :meth:`map_dimensions` and :meth:`geocontext`. ``inspecting_pixels`` turns the
    pixel inspector on.

    Parameters
    ----------
    **kwargs
        ipyleaflet ``Map`` traits; ``center`` defaults to Santa Fe (where the sample data
        is), ``zoom`` to 8, and scroll-wheel zoom is on.
    """

    #: Show band values under clicks (see :mod:`mapwidget.inspector`).
    inspecting_pixels = traitlets.Bool(False)

    def __init__(self, **kwargs: Any) -> None:
        """A map with the defaults above (see the class)."""
        kwargs.setdefault("center", DEFAULT_CENTER)
        kwargs.setdefault("zoom", DEFAULT_ZOOM)
        kwargs.setdefault("scroll_wheel_zoom", True)
        super().__init__(**kwargs)
        self._inspector: Any = None

    @traitlets.observe("window_url")
    def _on_window_url(self, change: dict) -> None:
        # Where the page is tells whether the browser can reach the kernel's 127.0.0.1.
        if change["new"]:
            routing.state.page_url = change["new"]

    @traitlets.observe("inspecting_pixels")
    def _on_inspecting(self, change: dict) -> None:
        from mapwidget.inspector import PixelInspector

        if change["new"]:
            if self._inspector is None:
                self._inspector = PixelInspector(self)
            self._inspector.attach()
        elif self._inspector is not None:
            self._inspector.detach()

    @property
    def inspector(self) -> Any:
        """The pixel inspector (created the first time it is turned on), or None."""
        return self._inspector

    # -- layers --------------------------------------------------------------------------------

    def _base_count(self) -> int:
        return sum(1 for lyr in self.layers if getattr(lyr, "base", False))

    def _find(self, layer: Any) -> Any:
        if isinstance(layer, str):
            for lyr in self.layers:
                if getattr(lyr, "name", None) == layer:
                    return lyr
            raise ValueError(f"no layer named {layer!r} on this map")
        if layer not in self.layers:
            raise ValueError(f"layer {getattr(layer, 'name', layer)!r} is not on this map")
        return layer

    def move_layer(self, layer: Any, new_index: int) -> None:
        """Move ``layer`` to position ``new_index`` of ``layers``.

        Index 0 is the bottom; base layers stay below every other layer, so the lowest
        position a non-base layer can take is just above them.

        Parameters
        ----------
        layer : ipyleaflet.Layer or str
            The layer, or its name.
        new_index : int
            Its new position, clipped to the possible ones.

        Raises
        ------
        ValueError
            When the layer is not on this map.
        """
        layer = self._find(layer)
        layers = [lyr for lyr in self.layers if lyr is not layer]
        lowest = 0 if getattr(layer, "base", False) else self._base_count()
        new_index = max(lowest, min(int(new_index), len(layers)))
        layers.insert(new_index, layer)
        self.layers = tuple(layers)

    def move_layer_up(self, layer: Any) -> None:
        """Draw ``layer`` one step higher (nearer the top).

        Parameters
        ----------
        layer : ipyleaflet.Layer or str
            The layer, or its name.
        """
        layer = self._find(layer)
        self.move_layer(layer, self.layers.index(layer) + 1)

    def move_layer_down(self, layer: Any) -> None:
        """Draw ``layer`` one step lower (never below the base layers).

        Parameters
        ----------
        layer : ipyleaflet.Layer or str
            The layer, or its name.
        """
        layer = self._find(layer)
        self.move_layer(layer, self.layers.index(layer) - 1)

    def remove_layer(self, layer: Any) -> None:
        """Remove a layer from the map.

        Parameters
        ----------
        layer : ipyleaflet.Layer or str
            The layer, or its name.

        Raises
        ------
        ValueError
            When the layer is not on this map.
        """
        self.remove(self._find(layer))

    def clear_layers(self) -> None:
        """Remove every layer except the base layers."""
        self.layers = tuple(lyr for lyr in self.layers if getattr(lyr, "base", False))

    # -- the view ------------------------------------------------------------------------------

    def map_dimensions(self) -> tuple[int, int]:
        """The size of the map on screen.

        Returns
        -------
        (int, int)
            ``(width, height)`` in pixels.

        Raises
        ------
        GeoContextError
            Before the map has been displayed and drawn.
        """
        self._require_view()
        return viewport.pixel_size(self.pixel_bounds)

    def _require_view(self) -> None:
        if not self.bounds or not self.pixel_bounds:
            raise GeoContextError(
                "the map's view is not known yet: display the map (run a cell containing it) "
                "and let it draw, then try again"
            )

    def geocontext(
        self, resolution: float | None = None, shape: tuple[int, int] | None = None,
        crs: str = "EPSG:3857",
    ) -> AOI:  # fmt: skip
        """An AOI of the current view, to pass to ``compute``.

        Parameters
        ----------
        resolution : float, optional
            Pixel size in ``crs`` units.
        shape : (int, int), optional
            ``(rows, cols)`` instead of a resolution; with neither, one pixel per screen
            pixel.
        crs : str
            The AOI's CRS; ``"utm"`` uses the UTM zone of the view's centre.

        Returns
        -------
        AOI

        Raises
        ------
        GeoContextError
            Before the map has been displayed and drawn.

        Examples
        --------
        >>> ndvi.compute(wf.map.geocontext(resolution=30, crs="utm"))   # doctest: +SKIP
        """
        self._require_view()
        return viewport.view_geocontext(self.bounds, self.pixel_bounds, resolution, shape, crs)
