"""Colorbar legends for layers with a colormap, drawn in the kernel (no server round trip)."""

from __future__ import annotations

import functools

import ipywidgets

from tiles.engine import render


@functools.lru_cache(maxsize=32)
def colorbar_png(name: str, width: int = 160, height: int = 12) -> bytes:
    """A PNG strip of colormap ``name``, cached per name and size.

    Parameters
    ----------
    name : str
        A matplotlib colormap name.
    width, height : int
        Size in pixels.

    Returns
    -------
    bytes
        The PNG.
    """
    return render.encode_png(render.colorbar(name, width, height))


def colorbar_widget(name: str | None) -> ipywidgets.Image:
    """An Image widget showing the colorbar of ``name``.

    Parameters
    ----------
    name : str or None
        A colormap name; None shows nothing.

    Returns
    -------
    ipywidgets.Image
    """
    widget = ipywidgets.Image(format="png", layout=ipywidgets.Layout(width="160px", height="12px"))
    set_colormap(widget, name)
    return widget


def set_colormap(widget: ipywidgets.Image, name: str | None) -> None:
    """Show colormap ``name`` in ``widget``.

    Parameters
    ----------
    widget : ipywidgets.Image
        A widget made by :func:`colorbar_widget`.
    name : str or None
        A colormap name; None empties the widget.
    """
    widget.value = colorbar_png(name) if name else b""
