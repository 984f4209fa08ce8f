"""Remote products' source kinds: how a product whose images live in another catalog (say a
STAC collection) finds them.

The catalog store keeps only each such product's ``(kind, spec)``; a module implementing a
kind registers it with :func:`register_source_kind` when imported (the STAC package does, for
kind ``"stac"``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from tiles.data.records import DateLike, ImageRecord, Product
from tiles.errors import DataError

__all__ = ["ImageSource", "SourceKind", "register_source_kind", "source_kind", "source_kinds"]


class ImageSource(Protocol):
    """The images of one remote product, found by asking the catalog that holds them.

    Answers like :meth:`tiles.data.store.Catalog.search` and ``Catalog.image`` do for catalogued files.
    """

    def search(
        self,
        start: DateLike | None,
        end: DateLike | None,
        bbox_lonlat: Sequence[float] | None,
        limit: int | None,
    ) -> list[ImageRecord]:
        """Images acquired in [start, end) whose footprint meets ``bbox_lonlat``, by date.

        Parameters
        ----------
        start, end:
            The half-open date range; None leaves that end open.
        bbox_lonlat:
            (w, s, e, n) in degrees; w > e crosses the antimeridian. None: anywhere.
        limit:
            At most this many images (the earliest); None for all.

        Returns
        -------
        list of ImageRecord
            Sorted by acquisition date, then id.
        """
        ...

    def image(self, name: str) -> ImageRecord:
        """The image called ``name`` in the remote catalog; NotFoundError when there is none.

        Parameters
        ----------
        name:
            The image's name in the remote catalog (its id without the product prefix).

        Returns
        -------
        ImageRecord
        """
        ...


@dataclasses.dataclass(frozen=True)
class SourceKind:
    """How products of one source kind (say ``"stac"``) find their images.

    Parameters
    ----------
    open_source:
        ``open_source(product, spec)``: the :class:`ImageSource` of a stored product, from
        the ``spec`` dict it was created with (``Catalog.create_product(source=(kind,
        spec))``).
    resolve_product:
        ``resolve_product(catalog, product_id)``, ``catalog`` a
        :class:`tiles.data.store.Catalog`: define a product on first use of a
        well-known id (say ``"earth-search:sentinel-2-l2a"``) and return it, or return None
        when the id is not one of this kind's. None when the kind has no such ids.
    """

    open_source: Callable[[Product, Mapping[str, Any]], ImageSource]
    resolve_product: Callable[[Any, str], Product | None] | None = None


_SOURCE_KINDS: dict[str, SourceKind] = {}


def register_source_kind(
    kind: str,
    open_source: Callable[[Product, Mapping[str, Any]], ImageSource],
    resolve_product: Callable[[Any, str], Product | None] | None = None,
) -> None:
    """Make products stored with ``source=(kind, spec)`` searchable through ``open_source``.

    A module implementing remote products registers itself when imported (the STAC
    package does, for kind ``"stac"``); registering a kind again replaces it.

    Parameters
    ----------
    kind:
        The name stored with each product of this kind.
    open_source, resolve_product:
        See :class:`SourceKind`.

    Example
    -------
    >>> register_source_kind("stac", open_source, resolve_product)  # doctest: +SKIP
    """
    _SOURCE_KINDS[kind] = SourceKind(open_source, resolve_product)


def source_kinds() -> dict[str, SourceKind]:
    """The registered source kinds by name.

    Returns
    -------
    dict of str to SourceKind
        A copy: changing it registers nothing.
    """
    return dict(_SOURCE_KINDS)


def source_kind(kind: str) -> SourceKind:
    """The source kind called ``kind``; DataError naming the known ones when there is none."""
    found = _SOURCE_KINDS.get(kind)
    if found is None:
        raise DataError(
            f"no source kind {kind!r} is registered (known: {', '.join(sorted(_SOURCE_KINDS))})"
        )
    return found
