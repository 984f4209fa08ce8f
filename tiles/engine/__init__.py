"""Engine values for imagery and the operations on them (pure numpy / numpy.ma).

Values: :class:`ImageValue` (``(bands, rows, cols)``) and :class:`CollectionValue`
(``(images, bands, rows, cols)``), both with properties and ordered bandinfo, lazily read from a
:class:`PixelSource`. Operations are plain module-level functions over values, so the builtins
registry can map API names (``wf.add``, ``wf.pick_bands``, ``wf.mean`` ...) straight onto them.

Modules: :mod:`~tiles.engine.imagery` (values), :mod:`~tiles.engine.metadata` (merge rules),
:mod:`~tiles.engine.align` (broadcasting), :mod:`~tiles.engine.ops` (element-wise maths),
:mod:`~tiles.engine.bands`, :mod:`~tiles.engine.masking`, :mod:`~tiles.engine.reductions`,
:mod:`~tiles.engine.structure` (collections), :mod:`~tiles.engine.raster` (where, clip, scale,
colormap, replace_empty_with, conv2d).
"""

from tiles.engine.bands import (
    concat_bands,
    nbands,
    pick_bands,
    rename_bands,
    with_bandinfo,
    without_bandinfo,
)
from tiles.engine.imagery import (
    CollectionValue,
    ImageIndexError,
    ImageryError,
    ImageryTypeError,
    ImageValue,
    PixelSource,
)
from tiles.engine.masking import getmask, mask
from tiles.engine.ops import BINARY_OPS, UNARY_OPS, binary_op, unary_op
from tiles.engine.raster import (
    clip_values,
    colormap,
    conv2d,
    replace_empty_with,
    scale_values,
    where,
)
from tiles.engine.reductions import REDUCTIONS, mosaic, reduce, sortby_composite
from tiles.engine.structure import (
    concat,
    from_images,
    getitem,
    group_indices,
    head,
    partition,
    select_images,
    tail,
    window_indices,
    with_properties,
    without_properties,
)

__all__ = [
    "BINARY_OPS",
    "REDUCTIONS",
    "UNARY_OPS",
    "CollectionValue",
    "ImageIndexError",
    "ImageValue",
    "ImageryError",
    "ImageryTypeError",
    "PixelSource",
    "binary_op",
    "clip_values",
    "colormap",
    "conv2d",
    "concat",
    "concat_bands",
    "from_images",
    "getitem",
    "getmask",
    "group_indices",
    "head",
    "mask",
    "mosaic",
    "nbands",
    "partition",
    "pick_bands",
    "reduce",
    "rename_bands",
    "replace_empty_with",
    "scale_values",
    "select_images",
    "sortby_composite",
    "tail",
    "unary_op",
    "where",
    "window_indices",
    "with_bandinfo",
    "with_properties",
    "without_bandinfo",
    "without_properties",
]
