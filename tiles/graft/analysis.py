"""Read facts off a graft without evaluating it: which data it loads, what it calls.

The tile server uses these facts to skip work safely: a tile outside every source
footprint of a graph that cannot create pixels from nothing is empty without
computing, and graphs whose pixels depend on their neighbours are computed on a
buffered tile so adjacent tiles join without seams.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

#: Builtins that load imagery; their first argument names the image or product.
IMAGE_SOURCES = frozenset({"wf.Image.load", "wf.Image.from_id"})
COLLECTION_SOURCES = frozenset({"wf.ImageCollection.from_id", "wf.ImageCollection.load"})

#: Builtins whose output pixels are all masked where their inputs' pixels are: band
#: selection, metadata, per-pixel maths, collection structure and reductions. A graph
#: built only from these (plus literals) is empty wherever its sources have no data, so
#: such tiles need no computation. Anything else (``wf.getmask``, ``wf.mask`` with
#: ``replace``, filling masks, ...) disables that shortcut, which only costs time.
MASK_PRESERVING_PREFIXES = (
    "wf.numpy.",
    "wf.datetime.",
    "wf.timedelta.",
    "wf.constants.",
    "wf.Str.",
    "wf.dict.",
)
MASK_PRESERVING = frozenset(
    {
        "wf.pick_bands",
        "wf.pick_bands_list",
        "wf.rename_bands",
        "wf.rename_bands_positionally",
        "wf.with_bandinfo",
        "wf.without_bandinfo",
        "wf.with_properties",
        "wf.without_properties",
        "wf.concat_bands",
        "wf.concat",
        "wf.nbands",
        "wf.length",
        "wf.Float.cast",
        "wf.Int.cast",
        "wf.Slice.create",
        "wf.Ellipsis",
        "wf.list",
        "wf.tuple",
        "wf.filter",
        "wf.sorted",
        "wf.reversed",
        "wf.getattr",
        "wf.get",
        "wf.contains",
        "wf.ImageCollection.head",
        "wf.ImageCollection.tail",
        "wf.ImageCollection.sortby_composite",
        "wf.map_bands",
        "wf.map_bands_imagery",
        "wf.map_imagery",
        "wf.reduction",
        "wf.mosaic",
        "wf.min",
        "wf.max",
        "wf.mean",
        "wf.median",
        "wf.sum",
        "wf.std",
        "wf.add",
        "wf.sub",
        "wf.mul",
        "wf.div",
        "wf.truediv",
        "wf.floordiv",
        "wf.mod",
        "wf.divmod",
        "wf.pow",
        "wf.square",
        "wf.neg",
        "wf.pos",
        "wf.abs",
        "wf.invert",
        "wf.lshift",
        "wf.rshift",
        "wf.eq",
        "wf.ne",
        "wf.lt",
        "wf.le",
        "wf.gt",
        "wf.ge",
        "wf.and",
        "wf.or",
        "wf.xor",
        "wf.log",
        "wf.log2",
        "wf.log10",
        "wf.log1p",
        "wf.sqrt",
        "wf.exp",
        "wf.cos",
        "wf.sin",
        "wf.tan",
        "wf.arccos",
        "wf.arcsin",
        "wf.arctan",
        "wf.arctan2",
        "wf.debugging.sleep",
    }
)

#: Builtin name fragments whose output pixel depends on neighbouring pixels.
NEIGHBOURHOOD_FRAGMENTS = ("conv2d", "convolve")
#: Halo in pixels computed around a tile for neighbourhood operations; covers kernels up
#: to 33x33 and every GDAL resampling kernel.
HALO_PIXELS = 16
NEAREST = frozenset({"near", "nearest"})


@dataclasses.dataclass(frozen=True)
class GraftFacts:
    """What a graft loads and calls, found by walking its JSON."""

    functions: frozenset[str]
    image_ids: tuple[str, ...]
    product_ids: tuple[str, ...]
    #: False when a source id is computed or a parameter, so sources are not all known.
    sources_known: bool
    needs_halo: bool

    @property
    def footprint_bounded(self) -> bool:
        """Whether the result is empty outside the sources' footprints (see MASK_PRESERVING)."""
        if not self.sources_known or not (self.image_ids or self.product_ids):
            return False
        return all(
            f in MASK_PRESERVING
            or f in IMAGE_SOURCES
            or f in COLLECTION_SOURCES
            or f.startswith(MASK_PRESERVING_PREFIXES)
            for f in self.functions
        )

    @property
    def halo(self) -> int:
        """Pixels to add around a tile before computing it (0 when pixels are independent)."""
        return HALO_PIXELS if self.needs_halo else 0


def _scopes(graft: dict) -> Iterator[tuple[dict, tuple[dict, ...]]]:
    """Yield every (sub)graft with the chain of its enclosing grafts, innermost first."""
    stack: list[tuple[dict, tuple[dict, ...]]] = [(graft, ())]
    while stack:
        body, parents = stack.pop()
        yield body, parents
        for value in body.values():
            for nested in _nested_grafts(value):
                stack.append((nested, (body, *parents)))


def _nested_grafts(expr: Any) -> Iterator[dict]:
    # Function and value grafts appear as the bound expression of a key.
    if isinstance(expr, dict) and "returns" in expr:
        yield expr


def _resolve(key: Any, scope: tuple[dict, ...]) -> Any:
    """The expression bound to ``key`` in the nearest enclosing scope, or a sentinel."""
    if not isinstance(key, str):
        return _UNKNOWN
    for body in scope:
        if key in body and key not in ("returns", "parameters"):
            return body[key]
        if key in body.get("parameters", ()):
            return _UNKNOWN
    return _UNKNOWN


_UNKNOWN = object()


def analyse(graft: dict) -> GraftFacts:
    """Walk ``graft`` and collect the facts the tile server needs.

    >>> g = {"0": "sample:s2", "1": ["wf.ImageCollection.from_id", "0"], "returns": "1"}
    >>> facts = analyse(g)
    >>> facts.product_ids, facts.footprint_bounded, facts.halo
    (('sample:s2',), True, 0)
    """
    functions: set[str] = set()
    image_ids: list[str] = []
    product_ids: list[str] = []
    sources_known = True
    needs_halo = False
    for body, parents in _scopes(graft):
        scope = (body, *parents)
        local_names = {k for b in scope for k in b} | {
            p for b in scope for p in b.get("parameters", ())
        }
        for expr in body.values():
            if not (isinstance(expr, list) and expr and isinstance(expr[0], str)):
                continue
            if len(expr) == 1 and isinstance(expr[0], list | dict):
                continue
            name, *args = expr
            kwargs = args.pop() if args and isinstance(args[-1], dict) else {}
            if name in local_names:
                continue  # a call to a function defined in the graft; its body is walked too
            functions.add(name)
            if name in IMAGE_SOURCES or name in COLLECTION_SOURCES:
                first = _resolve(args[0], scope) if args else _UNKNOWN
                if isinstance(first, str):
                    (image_ids if name in IMAGE_SOURCES else product_ids).append(first)
                else:
                    sources_known = False
            if any(fragment in name for fragment in NEIGHBOURHOOD_FRAGMENTS):
                needs_halo = True
            if "resample" in name or "resampler" in kwargs:
                resampler = _resolve(kwargs.get("resampler"), scope)
                if resampler is _UNKNOWN and len(args) >= 2:
                    resampler = _resolve(args[-1], scope)
                # null is the default resampler, nearest; a parameter could be anything.
                if not (resampler is None or (isinstance(resampler, str) and resampler in NEAREST)):
                    needs_halo = True
    return GraftFacts(
        functions=frozenset(functions),
        image_ids=tuple(dict.fromkeys(image_ids)),
        product_ids=tuple(dict.fromkeys(product_ids)),
        sources_known=sources_known,
        needs_halo=needs_halo,
    )


@dataclasses.dataclass(frozen=True)
class CollectionSource:
    """A product a graft searches, with its date range where the graft gives it literally.

    ``start``/``end`` are the ISO texts given to ``from_id``; None when not given or not
    known without evaluating (a parameter, a computed date).
    """

    product_id: str
    start: str | None
    end: str | None


def _literal_date(key: Any, scope: tuple[dict, ...]) -> str | None:
    """An ISO date bound to ``key``: a string, or ``wf.datetime.from_string`` of one."""
    expr = _resolve(key, scope)
    if isinstance(expr, str):
        return expr
    if isinstance(expr, list) and len(expr) == 2 and expr[0] == "wf.datetime.from_string":
        text = _resolve(expr[1], scope)
        return text if isinstance(text, str) else None
    return None


def collection_sources(graft: dict) -> list[CollectionSource]:
    """The products ``graft`` searches with ``ImageCollection.from_id`` and literal ids.

    >>> g = {"0": "sample:s2", "1": "2023-01-01", "2": ["wf.datetime.from_string", "1"],
    ...      "3": ["wf.ImageCollection.from_id", "0", {"start_datetime": "2"}], "returns": "3"}
    >>> collection_sources(g)
    [CollectionSource(product_id='sample:s2', start='2023-01-01', end=None)]
    """
    found: list[CollectionSource] = []
    for body, parents in _scopes(graft):
        scope = (body, *parents)
        for expr in body.values():
            if not (isinstance(expr, list) and expr and isinstance(expr[0], str)):
                continue
            if expr[0] not in COLLECTION_SOURCES:
                continue
            _, *args = expr
            kwargs = args.pop() if args and isinstance(args[-1], dict) else {}
            product = _resolve(args[0], scope) if args else _UNKNOWN
            if not isinstance(product, str):
                continue
            start = kwargs.get("start_datetime", args[1] if len(args) > 1 else None)
            end = kwargs.get("end_datetime", args[2] if len(args) > 2 else None)
            found.append(
                CollectionSource(product, _literal_date(start, scope), _literal_date(end, scope))
            )
    return list(dict.fromkeys(found))
