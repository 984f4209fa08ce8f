"""Broadcasting and band alignment of imagery operands (the "broadcasting rules").

1. scalars broadcast to everything;
2. an Image broadcasts to an ImageCollection (applied to every image);
3. 1-band imagery broadcasts to N-band imagery;
4. two N-band operands (N > 1) must have the same set of band names;
5. two ImageCollections must have the same length;
6. bands are paired **by name**, never by position (the result follows the left operand's order).

Band names of the result:

* two 1-band operands with the same name keep it; with different names the band becomes
  ``<a>_<label>_<b>`` (e.g. ``nir_sub_red``);
* 1-band with N-band: the N-band operand's names *and* bandinfo are kept unchanged, so
  ``img + img.pick_bands("red")`` still has bands ``red green blue nir`` and downstream
  ``pick_bands`` keep working;
* N-band with N-band: the shared names, each band's info merged (fields equal on both sides);
* with a scalar: the imagery's names and bandinfo.

Properties of the result: Image with Image merged (keys equal in both); Image with scalar
unchanged; collection with collection pairwise; collection with Image each image merged with
the Image.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from tiles.engine.imagery import CollectionValue, ImageryError, ImageryTypeError, ImageValue
from tiles.engine.metadata import merge_bandinfo, merge_properties

__all__ = ["Operand", "align", "is_imagery", "is_scalar", "make_result", "operand"]

Kind = Literal["scalar", "image", "collection"]


def is_scalar(x: Any) -> bool:
    """True for Python/numpy numbers and booleans (which broadcast to everything)."""
    return isinstance(x, (numbers.Number, np.number, np.bool_)) and not isinstance(x, np.ndarray)


def is_imagery(x: Any) -> bool:
    """True for ImageValue and CollectionValue."""
    return isinstance(x, (ImageValue, CollectionValue))


@dataclass
class Operand:
    """One operand prepared for an element-wise operation.

    ``data`` / ``mask`` are numpy arrays for imagery (``(b, r, c)`` or ``(n, b, r, c)``) and the
    scalar / ``False`` for scalars. ``names`` is ``None`` for scalars.
    """

    kind: Kind
    data: Any
    mask: Any
    names: list[str] | None = None
    bandinfo: dict[str, dict] | None = None
    properties: Any = None  # dict for an Image, list of dicts for a collection
    length: int = 0

    @property
    def band_axis(self) -> int:
        """The axis of the operand's bands: 0 for an image, 1 for a collection."""
        return 0 if self.kind == "image" else 1


def operand(x: Any, what: str = "operand") -> Operand:
    """Wrap a value as an :class:`Operand`, reading its pixels (empties must be handled first)."""
    if isinstance(x, ImageValue):
        arr = x.ndarray
        return Operand(
            "image", np.ma.getdata(arr), np.ma.getmaskarray(arr), x.band_names, x.bandinfo,
            x.properties,
        )  # fmt: skip
    if isinstance(x, CollectionValue):
        arr = x.ndarray
        return Operand(
            "collection", np.ma.getdata(arr), np.ma.getmaskarray(arr), x.band_names,
            x.bandinfo, x.properties, len(x),
        )  # fmt: skip
    if is_scalar(x):
        return Operand("scalar", x, False)
    raise ImageryTypeError(
        f"{what} must be an Image, ImageCollection or number, not {type(x).__name__}"
    )


def result_kind(*values: Any) -> Kind:
    """Kind of the result of an element-wise operation over ``values``."""
    kinds = {
        "collection" if isinstance(v, CollectionValue) else "image" for v in values if is_imagery(v)
    }
    if "collection" in kinds:
        return "collection"
    return "image" if kinds else "scalar"


def empty_of(kind: Kind) -> ImageValue | CollectionValue:
    """The empty value of an imagery kind."""
    return CollectionValue.empty() if kind == "collection" else ImageValue.empty()


def _reorder(op: Operand, names: list[str]) -> Any:
    """``op.data``/``op.mask`` with bands reordered to ``names`` (a permutation of op.names)."""
    if op.names == names:
        return op.data, op.mask
    order = [op.names.index(n) for n in names]
    return op.data[..., order, :, :], op.mask[..., order, :, :]


def _check_shapes(a: Operand, b: Operand) -> None:
    if a.data.shape[-2:] != b.data.shape[-2:]:
        raise ImageryError(
            f"imagery has different pixel shapes {a.data.shape[-2:]} and {b.data.shape[-2:]}"
        )
    if a.kind == b.kind == "collection" and a.length != b.length:
        raise ImageryError(
            f"ImageCollections must have the same length, got {a.length} and {b.length}"
        )


def align(a: Operand, b: Operand, label: str) -> tuple[Operand, Operand, Operand]:
    """Align two operands by band name.

    Returns ``(a', b', meta)``: the operands with band axes reordered/broadcastable against each
    other, and ``meta`` (data/mask unset) carrying the result's kind, names, bandinfo,
    properties and length. ``label`` is the word used in renamed bands (``add``, ``where`` ...).
    """
    if a.kind == "scalar" and b.kind == "scalar":
        return a, b, Operand("scalar", None, False)
    if b.kind == "scalar":
        return a, b, Operand(a.kind, None, None, a.names, a.bandinfo, a.properties, a.length)
    if a.kind == "scalar":
        return a, b, Operand(b.kind, None, None, b.names, b.bandinfo, b.properties, b.length)
    _check_shapes(a, b)
    kind: Kind = "collection" if "collection" in (a.kind, b.kind) else "image"
    length = a.length if a.kind == "collection" else b.length
    if len(a.names) == 1 and len(b.names) == 1:
        na, nb = a.names[0], b.names[0]
        name = na if na == nb else f"{na}_{label}_{nb}"
        names = [name]
        bandinfo = {name: merge_bandinfo(a.bandinfo[na], b.bandinfo[nb])}
    elif len(b.names) == 1:
        names, bandinfo = a.names, a.bandinfo
    elif len(a.names) == 1:
        names, bandinfo = b.names, b.bandinfo
    else:
        if set(a.names) != set(b.names):
            raise ImageryError(
                f"cannot combine imagery with bands {a.names} and {b.names}: multi-band "
                "operands need the same band names (or one side must have a single band)"
            )
        names = a.names
        bandinfo = {n: merge_bandinfo(a.bandinfo[n], b.bandinfo[n]) for n in names}
        bd, bm = _reorder(b, names)
        b = Operand(b.kind, bd, bm, names, b.bandinfo, b.properties, b.length)
    a, b = _expand_image(a, kind), _expand_image(b, kind)
    properties = _merge_props(a, b)
    return a, b, Operand(kind, None, None, names, bandinfo, properties, length)


def _expand_image(op: Operand, kind: Kind) -> Operand:
    """Give an Image a leading images axis when the result is a collection (numpy broadcasts it)."""
    if kind == "collection" and op.kind == "image":
        return Operand(
            "image", op.data[np.newaxis], op.mask[np.newaxis], op.names, op.bandinfo,
            op.properties,
        )  # fmt: skip
    return op


def _merge_props(a: Operand, b: Operand) -> Any:
    if a.kind == b.kind == "image":
        return merge_properties(a.properties, b.properties)
    if a.kind == b.kind == "collection":
        return [merge_properties(pa, pb) for pa, pb in zip(a.properties, b.properties, strict=True)]
    coll, img = (a, b) if a.kind == "collection" else (b, a)
    return [merge_properties(p, img.properties) for p in coll.properties]


def make_result(meta: Operand, data: np.ndarray, mask: np.ndarray) -> ImageValue | CollectionValue:
    """Build the result value of kind ``meta.kind`` from computed ``data`` and ``mask``."""
    mask = np.broadcast_to(mask, data.shape)
    array = np.ma.MaskedArray(data, mask=np.array(mask, dtype=bool), copy=False)
    if meta.kind == "collection":
        if array.ndim == 3:  # only scalars and Images were broadcast: never happens, but be safe
            array = array[np.newaxis]
        return CollectionValue(array, meta.properties, meta.bandinfo)
    return ImageValue(array, meta.properties, meta.bandinfo)
