"""Colorbar legends: a colormap strip with its value range and band name, as a PNG.

The strip uses the same 256-colour lookup table as rendered tiles
(:func:`tiles.engine.render.colormap_lut`), so a legend's colours are the tiles' colours.
Ticks and the label are drawn by matplotlib.
"""

from __future__ import annotations

import functools
import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.colors import ListedColormap, Normalize
from matplotlib.figure import Figure

from tiles.engine.render import colormap_lut

#: Size of a legend image in pixels.
WIDTH, HEIGHT = 256, 56
#: Dots per inch used to lay out the figure (sizes below are in points at this dpi).
_DPI = 100


@functools.lru_cache(maxsize=128)
def colorbar_legend_png(
    colormap: str, scale: tuple[float, float] | None = None, label: str | None = None
) -> bytes:
    """A 256x56 PNG legend: the colormap strip, value ticks and a label.

    Parameters
    ----------
    colormap:
        A colormap name known to :func:`tiles.display.normalize_colormap`.
    scale:
        The values drawn at the strip's two ends (a layer's ``[min, max]`` scale); None
        when each tile is scaled by its own range, which the ticks then say instead of
        numbers.
    label:
        Text under the strip, usually the band name.

    Returns
    -------
    bytes
        An RGBA PNG with a transparent background.

    Example
    -------
    >>> png = colorbar_legend_png("viridis", (0.0, 1.0), "ndvi")
    >>> png[:4] == b"\\x89PNG"
    True
    """
    lut = colormap_lut(colormap)
    cmap = ListedColormap(lut / 255.0)
    fig = Figure(figsize=(WIDTH / _DPI, HEIGHT / _DPI), dpi=_DPI)
    fig.patch.set_alpha(0.0)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.09, 0.62, 0.82, 0.3))
    low, high = scale if scale is not None else (0.0, 1.0)
    if low > high:  # an inverted scale draws the colormap's start at the larger value
        cmap, low, high = cmap.reversed(), high, low
    norm = Normalize(vmin=low, vmax=high if high > low else low + 1.0)
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=ax, orientation="horizontal")
    bar.outline.set_linewidth(0.5)
    ax.tick_params(labelsize=7, length=2, pad=1)
    if scale is None:
        bar.set_ticks([low, high], labels=["tile min", "tile max"])
    else:
        bar.set_ticks(np.linspace(low, high, 5) if low != high else [low])
    if label:
        ax.set_xlabel(label, fontsize=7, labelpad=1)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=_DPI, transparent=True)
    return out.getvalue()
