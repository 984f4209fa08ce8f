"""The catalog as users call it (``wf.catalog.*``): products, images and searches in the
default catalog, and the ways to define products.

The store itself is :class:`tiles.data.store.Catalog` (open another file with
``Catalog(path)``); every function here acts on :func:`default_catalog`, the store at
``TILES_CATALOG`` (else a per-user cache folder) with the sample products registered.

Example::

    >>> from tiles import catalog
    >>> catalog.create_product("naip", [
    ...     {"name": "red", "data_range": (0, 255), "nodata": 0}, ...])
    >>> catalog.add_image("naip", "m_4709963_se_14_1_20090818.tif")
    >>> [r.id for r in catalog.search("naip", start="2009-01-01", end="2010-01-01")]
    ['naip:m_4709963_se_14_1_20090818']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tiles.data.default_catalog import default_catalog, default_catalog_path
from tiles.data.records import (
    Band,
    DateLike,
    ImageRecord,
    PathLike,
    Product,
    footprint_intersects,
    to_utc,
)
from tiles.data.source_kinds import register_source_kind
from tiles.data.stac import add_stac_product
from tiles.data.store import Catalog
from tiles.data.vector_products import create_vector_product

__all__ = [
    "Band",
    "Product",
    "ImageRecord",
    "Catalog",
    "default_catalog",
    "default_catalog_path",
    "create_product",
    "add_image",
    "products",
    "product",
    "images",
    "image",
    "remove_image",
    "remove_product",
    "search",
    "footprint_intersects",
    "to_utc",
    "add_stac_product",
    "create_vector_product",
    "register_source_kind",
]


def create_product(product_id: str, bands: Sequence[Mapping[str, Any]], title: str = "") -> Product:
    """:meth:`Catalog.create_product` on the default catalog."""
    return default_catalog().create_product(product_id, bands, title=title)


def add_image(
    product_id: str,
    path: PathLike | Mapping[str, PathLike | tuple[PathLike, int]],
    image_id: str | None = None,
    acquired: DateLike | None = None,
    properties: Mapping[str, Any] | None = None,
) -> ImageRecord:
    """:meth:`Catalog.add_image` on the default catalog."""
    return default_catalog().add_image(
        product_id, path, image_id=image_id, acquired=acquired, properties=properties
    )


def products() -> list[Product]:
    """:meth:`Catalog.products` on the default catalog."""
    return default_catalog().products()


def product(product_id: str) -> Product:
    """:meth:`Catalog.product` on the default catalog."""
    return default_catalog().product(product_id)


def images(product_id: str) -> list[ImageRecord]:
    """:meth:`Catalog.images` on the default catalog."""
    return default_catalog().images(product_id)


def image(image_id: str) -> ImageRecord:
    """:meth:`Catalog.image` on the default catalog."""
    return default_catalog().image(image_id)


def remove_image(image_id: str) -> None:
    """:meth:`Catalog.remove_image` on the default catalog."""
    default_catalog().remove_image(image_id)


def remove_product(product_id: str) -> None:
    """:meth:`Catalog.remove_product` on the default catalog."""
    default_catalog().remove_product(product_id)


def search(
    product_id: str,
    start: DateLike | None = None,
    end: DateLike | None = None,
    bbox_lonlat: Sequence[float] | None = None,
    limit: int | None = 10000,
) -> list[ImageRecord]:
    """:meth:`Catalog.search` on the default catalog."""
    return default_catalog().search(
        product_id, start=start, end=end, bbox_lonlat=bbox_lonlat, limit=limit
    )
