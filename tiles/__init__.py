"""tiles: a self-hosted Workflows geospatial API.

Build lazy computations on imagery with proxy objects, compute them inside a GeoContext,
or put them on a map through the built-in XYZ tile server::

    import tiles as wf
    s2 = wf.ImageCollection.from_id("sample:s2", "2023-01-01", "2024-01-01")
    red, nir = s2.unpack_bands("red nir")
    ndvi = ((nir - red) / (nir + red)).median(axis="images")
"""

from tiles import scenes
from tiles.compute.evaluation import compute, inspect
from tiles.compute.jobs import Job
from tiles.compute.remote import connect
from tiles.compute.workflows import Workflow, publish, use
from tiles.data import catalog
from tiles.errors import (
    GeoContextError,
    GraftError,
    JobTimeoutError,
    NotFoundError,
    ParameterError,
    ProxyTypeError,
    WorkflowsError,
)
from tiles.types import (
    Any,
    Bool,
    Datetime,
    Dict,
    Feature,
    FeatureCollection,
    Float,
    Function,
    GeoContext,
    Geometry,
    GeometryCollection,
    Image,
    ImageCollection,
    ImageCollectionGroupby,
    Int,
    Kernel,
    KnownDict,
    List,
    MaskedArray,
    NoneType,
    Number,
    Proxytype,
    Str,
    Timedelta,
    Tuple,
    concat,
    conv2d,
    ifelse,
    load_geojson,
    load_geojson_file,
    parameter,
    proxify,
    where,
)

# The Workflows API names these range and zip; they stay out of __all__ so that a star
# import does not shadow the Python builtins.
from tiles.types import range_ as range  # noqa: F401, A004
from tiles.types import zip_ as zip  # noqa: F401, A004
from tiles.types.core import attach_backend
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

# The gRPC package registers its own builtin (``XYZ.use``: layers stored by the original
# client's endpoint), which grafts from that client may call anywhere.
import tiles.grpc.builtin  # noqa: E402, F401  isort: skip

__version__ = "0.1.0"


def _tile_layer(obj, *args, **kwargs):
    import mapwidget

    return mapwidget.tile_layer(obj, *args, **kwargs)


def _visualize(obj, *args, **kwargs):
    import mapwidget

    return mapwidget.visualize(obj, *args, **kwargs)


# Maps load lazily (ipyleaflet is heavy), so proxies reach them through these.
attach_backend("tile_layer", _tile_layer)
attach_backend("visualize", _visualize)


def __getattr__(name: str):
    # The map stack (ipyleaflet, ipywidgets) loads only when first used: wf.map, wf.widgets,
    # wf.interactive.
    if name in ("map", "widgets", "interactive"):
        import mapwidget

        return mapwidget.tiles_attribute(name)
    raise AttributeError(f"module 'tiles' has no attribute {name!r}")


__all__ = [
    "Any", "Bool", "Datetime", "Dict", "Float", "Function", "GeoContext", "GeoContextError",
    "GraftError", "Image", "ImageCollection", "ImageCollectionGroupby", "Int", "JobTimeoutError",
    "Kernel", "KnownDict", "List", "MaskedArray", "NoneType", "NotFoundError", "Number",
    "ParameterError", "ProxyTypeError", "Proxytype", "Str", "Timedelta", "Tuple", "WorkflowsError", "catalog",
    "concat", "conv2d", "ifelse", "parameter", "proxify", "scenes", "where",
    "Feature", "FeatureCollection", "Geometry", "GeometryCollection", "load_geojson",
    "load_geojson_file",
    "arccos", "arcsin", "arctan", "arctan2", "cos", "e", "exp", "inf", "log", "log10", "log1p",
    "log2", "nan", "normalized_difference", "pi", "sin", "sqrt", "square", "tan",
    "Job", "Workflow", "compute", "connect", "inspect", "publish", "use",
]  # fmt: skip
