"""Proxy types: lazy values that build grafts and know their result types."""

from .containers import Dict, KnownDict, List, Tuple, range_, zip_
from .core import GenericProxytype, Proxytype, identifier, merge_params, parameter
from .datetimes import Datetime, Timedelta
from .function import Function, ifelse
from .geocontext import GeoContext
from .groupby import ImageCollectionGroupby
from .imagery import Image, ImageCollection
from .kernel import Kernel, concat, conv2d, where
from .mathfuncs import (
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
from .primitives import Any, Bool, Float, Int, NoneType, Number, Primitive, Str
from .proxify import proxify
from .vector import (
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
    "NoneType", "Number", "Primitive", "Proxytype", "Str", "Timedelta", "Tuple", "concat",
    "conv2d", "identifier", "ifelse", "merge_params", "parameter", "proxify", "where",
    "Feature", "FeatureCollection", "Geometry", "GeometryCollection", "load_geojson",
    "load_geojson_file",
    "arccos", "arcsin", "arctan", "arctan2", "cos", "e", "exp", "inf", "log", "log10", "log1p",
    "log2", "nan", "normalized_difference", "pi", "sin", "sqrt", "square", "tan",
    "range_", "zip_",
]  # fmt: skip
