"""Example layers on the built-in sample catalog, for ``python -m tiles demo``."""

from __future__ import annotations

import tiles as wf
from tiles.display import DisplayOptions
from tiles.server.layers import Layer, LayerStore, make_layer

START, END = "2023-01-01", "2024-01-01"


def example_layers() -> list[Layer]:
    """True colour, NDVI with a colormap, and a median composite over the Santa Fe samples."""
    s2 = wf.ImageCollection.from_id("sample:s2", START, END)
    red, nir = s2.unpack_bands("red nir")
    ndvi = ((nir - red) / (nir + red)).median(axis="images")
    dem = wf.Image.from_id("sample:dem:santa_fe")
    return [
        make_layer(
            s2.pick_bands("red green blue").graft,
            name="True colour (latest on top)",
            display=DisplayOptions(scales=[[0, 0.3], [0, 0.3], [0, 0.3]], reduction="mosaic"),
        ),
        make_layer(
            s2.pick_bands("red green blue").median(axis="images").graft,
            name="Median composite 2023",
            display=DisplayOptions(scales=[[0, 0.3], [0, 0.3], [0, 0.3]]),
        ),
        make_layer(
            ndvi.graft,
            name="NDVI (median 2023)",
            display=DisplayOptions(scales=[[-0.2, 0.8]], colormap="RdYlGn"),
        ),
        make_layer(
            dem.graft,
            name="Elevation",
            display=DisplayOptions(scales=[[1500, 3500]], colormap="terrain"),
        ),
    ]


def register_examples(store: LayerStore | None = None) -> list[Layer]:
    """Store the example layers in the server's layer store (idempotent)."""
    store = store or LayerStore()
    try:
        return [store.add(layer) for layer in example_layers()]
    finally:
        store.close()
