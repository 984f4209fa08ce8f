"""Promoting a method's arguments when the graph is built, with errors naming the argument.

``ic.head("a")`` fails right there, not when computed::

    ProxyTypeError: ImageCollection.head: argument 'n' expects Int, got str 'a'

Methods declare what each argument accepts with :func:`typecheck`; each value is promoted to
the first accepted kind that takes it (a Python ``3`` for an ``Int`` argument becomes
``Int(3)``), so the method body sees proxies.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from tiles.errors import ProxyTypeError
from tiles.graft.syntax import is_literal
from tiles.types.core import Proxytype, describe
from tiles.types.function import Function


class Kind:
    """One kind of value an argument accepts: its name in messages and how to promote to it.

    Parameters
    ----------
    name : str
        How error messages call it, e.g. ``"a function"``.
    promote : callable
        Takes the value and returns it promoted; raises ProxyTypeError, TypeError or
        ValueError when the value is not of this kind.
    """

    def __init__(self, name: str, promote: Callable[[Any], Any]) -> None:
        """See the class docstring."""
        self.name = name
        self.promote = promote

    def __repr__(self) -> str:
        """``Kind('a function')``."""
        return f"Kind({self.name!r})"


def _function(value: Any) -> Any:
    if isinstance(value, Function):
        return value
    if callable(value) and not isinstance(value, (Proxytype, type)):
        return value
    raise ProxyTypeError("not a function")


def _any_value(value: Any) -> Any:
    from tiles.types.proxify import proxify

    return proxify(value)


def _mapping(value: Any) -> Any:
    from tiles.types.containers import Dict
    from tiles.types.proxify import proxify

    if isinstance(value, Dict) or isinstance(value, Mapping):
        return proxify(value)
    raise ProxyTypeError("not a mapping")


#: A Python callable or a Function proxy (traced later with the right argument types).
FUNCTION = Kind("a function", _function)
#: Any value that can be put in a graph (numbers, strings, lists, dicts, dates, proxies).
ANY_VALUE = Kind("a value a graph can hold", _any_value)
#: A dict or a Dict proxy.
MAPPING = Kind("a dict", _mapping)

Accepted = Any  # a proxy type, a Kind, None (None passes as is), or a tuple of those


def _kinds(accepted: Accepted) -> tuple:
    return accepted if isinstance(accepted, tuple) else (accepted,)


def _kind_name(kind: Any) -> str:
    if kind is None:
        return "None"
    if isinstance(kind, Kind):
        return kind.name
    return kind.__name__


def expected_names(accepted: Accepted) -> str:
    """``"Int or Float or None"`` for the kinds ``accepted``."""
    return " or ".join(_kind_name(k) for k in _kinds(accepted))


def promote(value: Any, accepted: Accepted, where: str, argument: str) -> Any:
    """``value`` promoted to the first of the ``accepted`` kinds that takes it.

    Parameters
    ----------
    value : object
        What the caller passed.
    accepted : type, Kind, None or tuple of those
        The proxy types (or kinds) the argument accepts, in order of preference; None
        means None is accepted unchanged.
    where : str
        The method, e.g. ``"ImageCollection.head"``.
    argument : str
        The argument's name.

    Returns
    -------
    object
        The promoted value (a proxy, a callable for :data:`FUNCTION`, or None).

    Raises
    ------
    ProxyTypeError
        Naming the method, the argument, the accepted types and what was received.

    Example
    -------
    >>> import tiles as wf
    >>> from tiles.types.arguments import promote
    >>> type(promote(3, (wf.Int, wf.Float), "ImageCollection.head", "n")).__name__
    'Int'
    """
    for kind in _kinds(accepted):
        if kind is None:
            if value is None:
                return None
            continue
        promote_to = kind.promote if isinstance(kind, Kind) else kind._promote
        try:
            return promote_to(value)
        except (ProxyTypeError, TypeError, ValueError):
            continue
    raise argument_error(where, argument, expected_names(accepted), value)


def argument_error(where: str, argument: str, expected: str, value: Any) -> ProxyTypeError:
    """The error for a wrong argument: method, argument, what it expects, what it got.

    Parameters
    ----------
    where : str
        The method, e.g. ``"Image.pick_bands"``.
    argument : str
        The argument's name.
    expected : str
        What it accepts, e.g. ``"Str or List[Str]"``.
    value : object
        What it received.

    Returns
    -------
    ProxyTypeError
        To raise.
    """
    return ProxyTypeError(
        f"{where}: argument {argument!r} expects {expected}, got {describe(value)}"
    )


def literal(value: Any) -> Any:
    """The Python value of a proxy built from a literal (``Int(3)`` gives 3), else ``value``.

    Lets value checks (a negative count, an unknown name) run at build time whether the
    caller passed a Python value or a proxy of one.

    Parameters
    ----------
    value : object
        A Python value or a proxy.

    Returns
    -------
    object
        The literal, or ``value`` itself when it is not a proxy of a literal.

    Example
    -------
    >>> import tiles as wf
    >>> from tiles.types.arguments import literal
    >>> literal(wf.Int(3)), literal(3)
    (3, 3)
    """
    if isinstance(value, Proxytype) and not value.params:
        graft = value.graft
        if len(graft) == 2 and is_literal(graft.get(graft.get("returns"), ())):
            return graft[graft["returns"]]
    return value


def typecheck(**accepted: Accepted) -> Callable[[Callable], Callable]:
    """Decorator: promote the named arguments of a method or function on every call.

    A ``*args`` or ``**kwargs`` parameter's kinds apply to each of its values. The method's
    name in messages is ``<class of self (or cls)>.<function name>``.

    Parameters
    ----------
    **accepted
        For each parameter name, the kinds it accepts (see :func:`promote`).

    Returns
    -------
    callable
        The decorator; the decorated function keeps its signature.

    Example
    -------
    >>> import tiles as wf
    >>> wf.ImageCollection.from_id("sample:s2").head("a")
    Traceback (most recent call last):
    ...
    tiles.errors.ProxyTypeError: ImageCollection.head: argument 'n' expects Int, got str 'a'
    """

    def decorate(function: Callable) -> Callable:
        signature = inspect.signature(function)
        unknown = set(accepted) - set(signature.parameters)
        if unknown:
            raise TypeError(f"{function.__qualname__} has no parameter(s) {sorted(unknown)}")
        first = next(iter(signature.parameters), None)

        @functools.wraps(function)
        def checked(*args: Any, **kwargs: Any) -> Any:
            where = _where(function, first, args)
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError as e:
                raise TypeError(f"{where}: {e}") from None
            for name, kinds in accepted.items():
                if name not in bound.arguments:
                    continue
                value = bound.arguments[name]
                kind = signature.parameters[name].kind
                if kind is inspect.Parameter.VAR_POSITIONAL:
                    value = tuple(promote(v, kinds, where, name) for v in value)
                elif kind is inspect.Parameter.VAR_KEYWORD:
                    value = {k: promote(v, kinds, where, k) for k, v in value.items()}
                else:
                    value = promote(value, kinds, where, name)
                bound.arguments[name] = value
            return function(*bound.args, **bound.kwargs)

        return checked

    return decorate


def _where(function: Callable, first: str | None, args: tuple) -> str:
    if first == "self" and args and function.__name__ == "__init__":
        return type(args[0]).__name__  # a constructor is named by its class
    if first == "self" and args:
        return f"{type(args[0]).__name__}.{function.__name__}"
    if first == "cls" and args:
        return f"{args[0].__name__}.{function.__name__}"
    return function.__name__
