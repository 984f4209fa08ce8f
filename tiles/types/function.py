"""Function proxies: Python callables traced once into graft functions."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from tiles import graft as g
from tiles.errors import ProxyTypeError
from tiles.types.core import GenericProxytype, Proxytype, identifier


class Function(GenericProxytype):
    """``Function[arg_types..., return_type]``: a graft function; call it to apply it.

    Example
    -------
    >>> add_one = wf.Function.from_callable(lambda x: x + 1, wf.Int)
    >>> type(add_one).__name__
    'Function[Int, Int]'
    """

    @classmethod
    def from_callable(cls, function: Callable, *arg_types: type, return_type: type | None = None):
        """Trace ``function`` once with placeholder arguments of ``arg_types``.

        Parameters
        ----------
        function : callable
            Taking one positional argument (without default) per type; use ``wf.ifelse``
            instead of Python ``if``.
        *arg_types : type
            The proxy types of its arguments.
        return_type : type, optional
            Promote the result to this type.

        Returns
        -------
        Function

        >>> import tiles as wf
        >>> double = wf.Function.from_callable(lambda x: x * 2, wf.Int)
        >>> type(double).__name__
        'Function[Int, Int]'
        """
        names = _argument_names(function, len(arg_types))
        result, names = _trace(function, names, arg_types, return_type)
        body = result["graft"]
        fn_type = Function[(*arg_types, type(result["proxy"]))]
        return fn_type._from_graft(body, result["proxy"].params)

    @classmethod
    def from_object(cls, obj: Proxytype):
        """A Function of ``obj``'s parameters, by name, that returns ``obj``.

        Parameters
        ----------
        obj : Proxytype

        Returns
        -------
        Function
            Called with ``name=value`` for each parameter.

        Example
        -------
        >>> t = wf.parameter("t", wf.Int)
        >>> wf.Function.from_object(t * 2)(t=21).compute()
        42
        """
        names = [p._name for p in obj.params]
        graft = g.function_graft(obj.graft, *names)
        kwargs = {p._name: type(p) for p in obj.params}
        return Function[(kwargs, type(obj))]._from_graft(graft, ())

    @property
    def return_type(self) -> type:
        """The proxy type the function returns."""
        return type(self)._require_concrete()[-1]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Apply the function, promoting the arguments to its argument types.

        Parameters
        ----------
        *args, **kwargs
            Positional arguments for its positional types, keywords for its named ones.

        Returns
        -------
        Proxytype
            Of :attr:`return_type`.

        Example
        -------
        >>> double = wf.Function.from_callable(lambda x: x * 2, wf.Int)
        >>> double(21).compute()
        42
        """
        params = type(self)._require_concrete()
        positional = [p for p in params[:-1] if not isinstance(p, dict)]
        named = next((p for p in params[:-1] if isinstance(p, dict)), {})
        if len(args) > len(positional):
            raise ProxyTypeError(f"function takes {len(positional)} positional arguments")
        promoted = [t._promote(a) for t, a in zip(positional, args, strict=False)]
        promoted_kw = {}
        for name, value in kwargs.items():
            if name not in named:
                raise ProxyTypeError(f"function has no argument {name!r}")
            promoted_kw[name] = named[name]._promote(value)
        return self.return_type._from_apply(self, *promoted, **promoted_kw)


def _argument_names(function: Callable, count: int) -> list[str]:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return [f"arg{i}" for i in range(count)]
    params = [
        p
        for p in signature.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    if len(params) != count:
        raise ProxyTypeError(
            f"{getattr(function, '__name__', 'function')} must take exactly {count} "
            f"argument(s) without defaults, it takes {len(params)}"
        )
    return [p.name for p in params]


def _trace(
    function: Callable, names: list[str], arg_types: tuple, return_type: type | None = None
) -> tuple[dict, list[str]]:
    """Call ``function`` on placeholders; rename them if they would shadow parameters.

    With ``return_type``, the result is promoted to it (a ProxyTypeError if it cannot be).
    """
    from tiles.types.proxify import proxify

    for attempt in range(2):
        watermark = g.key_watermark()
        if attempt:
            names = [f"{n}_{g.guid()}" for n in names]
        placeholders = [identifier(n, t) for n, t in zip(names, arg_types, strict=True)]
        result = proxify(function(*placeholders))
        if return_type is not None:
            try:
                result = return_type._promote(result)
            except ProxyTypeError as e:
                raise ProxyTypeError(
                    f"{getattr(function, '__name__', 'function')} returns "
                    f"{type(result).__name__}, not {return_type.__name__}: {e}"
                ) from None
        if not {p._name for p in result.params} & set(names):
            graft = g.function_graft(result.graft, *names, first_guid=watermark)
            return {"graft": graft, "proxy": result}, names
    raise AssertionError("unreachable")  # renamed placeholders cannot collide


def as_function(function: Callable | Proxytype, *arg_types: type) -> Proxytype:
    """A Function proxy for a Python callable (traced) or an existing Function proxy."""
    if isinstance(function, Function):
        return function
    if callable(function):
        return Function.from_callable(function, *arg_types)
    raise ProxyTypeError(f"expected a function, got {type(function).__name__}")


def ifelse(condition: Any, true_value: Any, false_value: Any) -> Proxytype:
    """``true_value`` if ``condition`` is True, else ``false_value``: control flow for proxies.

    Parameters
    ----------
    condition : Bool
    true_value, false_value : Proxytype or Python value
        Of one type (a Python value is promoted to the other's).

    Returns
    -------
    The branches' type

    Both branches must have the same type (Python values are promoted to the other branch's
    type). Each branch becomes a function of no arguments, so only the chosen one is computed.

    >>> import tiles as wf
    >>> wf.ifelse(wf.Int(3) > 2, "big", "small").compute()
    'big'
    """
    from tiles.types.primitives import Bool
    from tiles.types.proxify import proxify

    try:
        cond = Bool._promote(condition)
    except ProxyTypeError:
        raise ProxyTypeError(
            f"ifelse condition must be a Bool, not {type(condition).__name__}"
        ) from None
    if isinstance(true_value, Proxytype) or not isinstance(false_value, Proxytype):
        a = proxify(true_value)
        b = _same_type_branch(type(a), false_value)
    else:
        b = false_value
        a = _same_type_branch(type(b), true_value)
    # Every key built so far (both branches) is hoisted out of the thunks, as the original
    # client does; the thunk bodies just return their branch.
    watermark = g.key_watermark()
    thunks = [
        Function[(type(v),)]._from_graft(g.function_graft(v.graft, first_guid=watermark), v.params)
        for v in (a, b)
    ]
    return type(a)._from_apply("wf.ifelse", cond, *thunks)


def _same_type_branch(type_: type, value: Any) -> Proxytype:
    if isinstance(value, type_):
        return value
    try:
        return type_._promote(value)
    except ProxyTypeError:
        shown = type(value).__name__
        raise ProxyTypeError(
            f"ifelse branches must have the same type: {type_.__name__} and {shown}"
        ) from None
