"""Proxy types: lazy values that build grafts and know their result types."""

from tiles.types.arrays import MaskedArray
from tiles.types.containers import Dict, KnownDict, List, Tuple, range_, zip_
from tiles.types.core import GenericProxytype, Proxytype, identifier, merge_params, parameter
from tiles.types.datetimes import Datetime, Timedelta
from tiles.types.function import Function, ifelse
from tiles.types.geocontext import GeoContext
from tiles.types.groupby import ImageCollectionGroupby
from tiles.types.imagery import Image, ImageCollection
from tiles.types.kernel import Kernel, concat, conv2d, where
from tiles.types.mathfuncs import (
    arccos,
    arcsin,
    arctan,
    arctan2,
    cos,
    e,
    exp,
    inf,
    log,
    log1p,
    log2,
    log10,
    nan,
    normalized_difference,
    pi,
    sin,
    sqrt,
    square,
    tan,
)
from tiles.types.primitives import Any, Bool, Float, Int, NoneType, Number, Primitive, Str
from tiles.types.proxify import proxify
from tiles.types.vector import (
    Feature,
    FeatureCollection,
    Geometry,
    GeometryCollection,
    load_geojson,
    load_geojson_file,
)

__all__ = [
    "Any", "Bool", "Datetime", "Dict", "Float", "Function", "GenericProxytype", "GeoContext",
    "Image", "ImageCollection", "ImageCollectionGroupby", "Int", "Kernel", "KnownDict", "List",
    "MaskedArray", "NoneType", "Number", "Primitive", "Proxytype", "Str", "Timedelta", "Tuple",
    "concat", "conv2d", "identifier", "ifelse", "merge_params", "parameter", "proxify", "where",
    "Feature", "FeatureCollection", "Geometry", "GeometryCollection", "load_geojson",
    "load_geojson_file",
    "arccos", "arcsin", "arctan", "arctan2", "cos", "e", "exp", "inf", "log", "log10", "log1p",
    "log2", "nan", "normalized_difference", "pi", "sin", "sqrt", "square", "tan",
    "range_", "zip_",
]  # fmt: skip
