"""Names the rendering options accept (kept apart so proxies can validate without numpy work)."""

from __future__ import annotations

import matplotlib

COLORMAPS: frozenset[str] = frozenset(matplotlib.colormaps)
REDUCTIONS: tuple[str, ...] = ("mosaic", "min", "max", "mean", "median", "sum", "std", "count")
