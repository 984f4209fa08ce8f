"""Proxies shared by the compute tests: the sample elevation model and a deliberately slow value."""

from __future__ import annotations

from typing import Any

import tiles as wf


def dem() -> wf.Image:
    """The sample catalog's elevation model as one mosaicked image."""
    return wf.ImageCollection.from_id("sample:dem").mosaic()


def slow(value: Any, seconds: float) -> Any:
    """A proxy computing ``value`` after sleeping ``seconds`` (per evaluation)."""
    proxy = wf.proxify(value)
    return type(proxy)._from_apply("wf.debugging.sleep", proxy, seconds)
