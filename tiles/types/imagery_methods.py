"""Factories of the methods Image and ImageCollection share: element-wise operators and
functions, reductions along named axes, and the argument helpers they use.

The classes live in :mod:`tiles.types.imagery`, which imports this module; functions here
reach them through :func:`imagery_types` when called.
"""

from __future__ import annotations

from typing import Any as _Any

from tiles.errors import ProxyTypeError
from tiles.types.core import Proxytype, describe
from tiles.types.primitives import Any, Bool, Float, Number


def imagery_types() -> tuple[type, type]:
    """``(Image, ImageCollection)``, defined in :mod:`tiles.types.imagery` on this mixin."""
    from tiles.types.imagery import Image, ImageCollection

    return Image, ImageCollection


def collection_type() -> type:
    """The ImageCollection class (see :func:`imagery_types`)."""
    return imagery_types()[1]


def normalize_axis(axis: _Any, allowed: tuple) -> _Any:
    """An ``axis`` argument as the graft carries it: None, a name, or a list of names.

    Parameters
    ----------
    axis : None, str, or tuple of str
        What the caller gave.
    allowed : tuple
        The axes (names or sorted tuples of names) the type supports.

    Returns
    -------
    None, str or list of str
        The axis, a tuple given as a sorted list.
    """
    if axis is None or isinstance(axis, str):
        key = axis
    elif isinstance(axis, (tuple, list)) and all(isinstance(a, str) for a in axis):
        key = tuple(sorted(set(axis)))
        if len(key) == 1:
            key = key[0]
    else:
        raise ProxyTypeError(
            f"argument 'axis' expects None, a name or a tuple of names, got {describe(axis)}"
        )
    if key not in allowed:
        shown = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"invalid axis {axis!r}; expected one of {shown}")
    return list(key) if isinstance(key, tuple) else key


def imagery_operand(other: _Any) -> _Any:
    """``other`` if it may meet imagery in an operation (imagery, numbers, booleans), else None.

    Parameters
    ----------
    other : object
        The other operand.

    Returns
    -------
    object or None
        The operand (an ``Any`` is taken as a Float), or None when it cannot be used.
    """
    if isinstance(other, (*imagery_types(), Number, Bool)):
        return other
    if isinstance(other, Any):
        return Float._from_graft(other.graft, other.params)
    if isinstance(other, (int, float)) and not isinstance(other, str):
        return other
    return None


def binary_method(builtin: str, reflected: bool = False):
    """An operator method applying ``builtin`` to imagery and the other operand.

    Parameters
    ----------
    builtin : str
        The graft builtin, e.g. ``"wf.add"``.
    reflected : bool, default False
        For ``__radd__`` and the like: the other operand comes first.

    Returns
    -------
    callable
        The method; it returns NotImplemented for proxies imagery cannot meet.
    """

    def method(self, other):
        operand = imagery_operand(other)
        if operand is None:
            if isinstance(other, Proxytype):
                return NotImplemented
            raise ProxyTypeError(
                f"unsupported operand for {type(self).__name__}: {type(other).__name__} {other!r}"
            )
        collection = collection_type()
        either = isinstance(self, collection) or isinstance(operand, collection)
        result = collection if either else imagery_types()[0]
        a, b = (operand, self) if reflected else (self, operand)
        return result._from_apply(builtin, a, b)

    method.__name__ = builtin
    method.__doc__ = (
        f"Element-wise ``{builtin}`` with a number or imagery (bands paired by name; an Image "
        "meets every image of an ImageCollection, one band every band)."
    )
    return method


def unary_method(builtin: str, operator: bool = False):
    """An element-wise method applying ``builtin`` to every pixel, documented.

    Parameters
    ----------
    builtin : str
        The graft builtin, e.g. ``"wf.log"``.
    operator : bool, default False
        For ``__neg__`` and the like (no example in the docstring).

    Returns
    -------
    callable
        The method.
    """
    name = builtin.rsplit(".", 1)[-1]

    def method(self):
        return type(self)._from_apply(builtin, self)

    method.__name__ = name
    method.__doc__ = (
        f"Element-wise ``{name}`` of every pixel.\n\n"
        "Returns\n-------\nSame type as self\n"
        "    Same bands and metadata; the empty stays empty.\n"
    )
    if not operator:
        method.__doc__ += (
            f'\nExample\n-------\n>>> img = wf.Image.from_id("sample:dem:santa_fe")\n'
            f">>> type(img.{name}()).__name__\n'Image'\n"
        )
    return method


def reduction_method(operation: str):
    """A ``min``/``max``/... method: ``self._reduce(operation, axis)``, documented.

    Parameters
    ----------
    operation : str
        One of ``tiles.display.REDUCTIONS``.

    Returns
    -------
    callable
        The method.
    """

    def method(self, axis=None):
        return self._reduce(operation, axis)

    method.__name__ = operation
    method.__doc__ = (
        f"The {operation} of pixel values along ``axis``; masked pixels are left out.\n\n"
        "Parameters\n----------\naxis : None, str or tuple of str\n"
        '    None (every pixel of every band: a Float), "pixels" (per band: a Dict of band '
        'name to Float), "bands" (one band named after the operation per pixel); an '
        'ImageCollection also takes "images" (a composite Image) and tuples of these.\n\n'
        "Returns\n-------\nFloat, Dict, List, Image or ImageCollection\n"
        "    Depending on ``axis``; an empty input gives an empty result of that type.\n\n"
        f'Example\n-------\n>>> img = wf.Image.from_id("sample:dem:santa_fe")\n'
        f">>> type(img.{operation}(axis=\"pixels\")).__name__\n'Dict[Str, Float]'\n"
    )
    return method


def band_names(bands: _Any) -> list | None:
    """Band names given as a space-separated string or a list of strings; None otherwise.

    Parameters
    ----------
    bands : object
        What the caller gave.

    Returns
    -------
    list of str or None
        The names.
    """
    if isinstance(bands, str):
        return bands.split()
    if isinstance(bands, (list, tuple)) and all(isinstance(b, str) for b in bands):
        return list(bands)
    return None
