"""HTTP caching of tiles: which tiles can never change, their ETags and Cache-Control.

A layer's id is the content hash of its graft, look and parameter defaults, and a tile URL
names everything else its pixels depend on, except the data the graft reads. A tile is
*fixed* when that data cannot change either: the graft loads images by id only (a catalog
image id names one scene) and no product search, vector product or published XYZ, and every
parameter value is a literal. Fixed tiles are ``immutable`` for a year, and their ETag comes
from the request alone, so ``If-None-Match`` is answered with 304 before any computing.
Tiles of layers over catalogs that can change (products searched by date and area, STAC
APIs, vector files) may be reused for :data:`CHANGING_MAX_AGE` seconds and then
revalidated; their ETag is the hash of the PNG bytes.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json

from tiles.geocontext import XYZTile
from tiles.graft.analysis import COLLECTION_SOURCES
from tiles.server.layers import Layer
from tiles.server.pipeline import graft_facts
from tiles.server.query import TileQuery

#: Seconds a browser or CDN may reuse a tile of a layer whose data can change.
CHANGING_MAX_AGE = 60
#: Cache-Control of fixed tiles.
IMMUTABLE = "public, max-age=31536000, immutable"
#: Builtins whose results depend on stored state that can change after a layer is made.
READS_CHANGING_STATE = COLLECTION_SOURCES | {"wf.FeatureCollection.from_vector", "XYZ.use"}


@functools.cache
def _version() -> str:
    """The installed distribution's version: an upgrade may draw tiles differently."""
    try:
        return importlib.metadata.version("tiles-workflows")
    except importlib.metadata.PackageNotFoundError:
        return "source"


def is_fixed(layer: Layer, q: TileQuery) -> bool:
    """Whether the layer's tiles for query ``q`` can never change (see the module docstring).

    Parameters
    ----------
    layer:
        The registered layer.
    q:
        The parsed tile query.

    Returns
    -------
    bool
        True when the graft reads only images by id and every parameter value is a literal.
    """
    facts = graft_facts(layer.graft)
    if not facts.sources_known or facts.product_ids or facts.functions & READS_CHANGING_STATE:
        return False
    values = json.loads(q.arguments_key)
    return not any(isinstance(v, dict) and "graft" in v for v in values.values())


def cache_control(fixed: bool) -> str:
    """The ``Cache-Control`` of a tile: immutable when fixed, else a short max-age."""
    return IMMUTABLE if fixed else f"public, max-age={CHANGING_MAX_AGE}"


def request_etag(layer: Layer, q: TileQuery, tile: XYZTile) -> str:
    """The ETag of a fixed tile, from what the request names (and this package's version).

    Parameters
    ----------
    layer, q, tile:
        The layer, parsed query and tile of the request.

    Returns
    -------
    str
        A quoted strong ETag.
    """
    identity = [
        _version(),
        layer.graft_hash,
        q.arguments_key,
        [tile.z, tile.x, tile.y],
        q.display.reduction,
        list(q.bands),
        q.image_date,
        repr(q.render_key),
    ]
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"))
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


def content_etag(png: bytes) -> str:
    """The ETag of a tile whose data can change: the hash of its bytes."""
    return '"' + hashlib.sha256(png).hexdigest()[:32] + '"'
