"""Evaluating proxies and grafts: arguments checked, GeoContext resolved, results returned."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .builtins import REGISTRY, EvaluationContext, reset_context, set_context
from .errors import GeoContextError, ParameterError, ProxyTypeError
from .geocontext import GeoContext as ConcreteGeoContext
from .graft import evaluate_graft, is_function_graft, is_graft
from .results import to_result
from .types import Function, GeoContext, Proxytype, proxify


def resolve_geoctx(geoctx: Any) -> ConcreteGeoContext | None:
    """A concrete GeoContext from a concrete one, a proxy, a dict of fields, or None."""
    if geoctx is None or isinstance(geoctx, ConcreteGeoContext):
        return geoctx
    if isinstance(geoctx, GeoContext):
        if geoctx.params:
            raise GeoContextError("a GeoContext used for computing cannot depend on parameters")
        return evaluate(geoctx.graft)
    if isinstance(geoctx, Mapping):
        return ConcreteGeoContext.from_dict(geoctx)
    raise GeoContextError(
        f"expected a GeoContext (e.g. wf.scenes.AOI, DLTile, XYZTile), got {type(geoctx).__name__}"
    )


def evaluate(graft: dict, geoctx: Any = None, arguments: Mapping[str, Any] | None = None) -> Any:
    """Evaluate ``graft`` to an engine value, in ``geoctx``, with parameter values bound."""
    context = EvaluationContext(geoctx=resolve_geoctx(geoctx))
    token = set_context(context)
    try:
        return evaluate_graft(graft, REGISTRY, arguments)
    finally:
        reset_context(token)


def decode_argument(value: Any, geoctx: Any = None) -> Any:
    """A parameter value as sent over the wire: a JSON literal, or a graft to evaluate."""
    if is_graft(value):
        return evaluate(value, geoctx)
    return value


def argument_values(obj: Proxytype, arguments: Mapping[str, Any], geoctx: Any = None) -> dict:
    """Check ``arguments`` against ``obj``'s parameters and evaluate them to Python values."""
    params = {p._name: p for p in obj.params}
    missing = [name for name in params if name not in arguments]
    if missing:
        shown = ", ".join(f"{n!r} ({type(params[n]).__name__})" for n in missing)
        raise ParameterError(f"missing a value for parameter {shown}")
    extra = [name for name in arguments if name not in params]
    if extra:
        takes = ", ".join(repr(n) for n in params) or "no parameters"
        raise ParameterError(f"unexpected argument {', '.join(map(repr, extra))}; it takes {takes}")
    values = {}
    for name, value in arguments.items():
        expected = type(params[name])
        try:
            promoted = expected._promote(value)
        except (ProxyTypeError, TypeError, ValueError) as e:
            raise ParameterError(
                f"parameter {name!r} expects {expected.__name__}, got {type(value).__name__} "
                f"{value!r}"[:300]
            ) from e
        if promoted.params:
            raise ParameterError(f"the value for parameter {name!r} cannot depend on parameters")
        values[name] = evaluate(promoted.graft, geoctx)
    return values


def function_arguments(function: Function) -> dict[str, type]:
    """Argument names of a Function proxy with the type each one is promoted to."""
    body = function.graft.get(function.graft["returns"])
    if not is_function_graft(body):
        raise ParameterError("cannot tell this Function's argument names; call it instead")
    types = type(function)._require_concrete()[:-1]
    positional = [t for t in types if not isinstance(t, dict)]
    named = next((t for t in types if isinstance(t, dict)), {})
    out = dict(zip(body["parameters"], positional, strict=False))
    out.update(named)
    return out


def _apply_function(function: Function, arguments: Mapping[str, Any]) -> Proxytype:
    """The result of calling ``function`` with ``arguments`` given by name."""
    types = function_arguments(function)
    missing = [name for name in types if name not in arguments]
    if missing:
        shown = ", ".join(f"{n!r} ({types[n].__name__})" for n in missing)
        raise ParameterError(f"missing a value for function argument {shown}")
    extra = [name for name in arguments if name not in types]
    if extra:
        takes = ", ".join(repr(n) for n in types) or "no arguments"
        raise ParameterError(f"unexpected argument {', '.join(map(repr, extra))}; it takes {takes}")
    promoted = {}
    for name, value in arguments.items():
        try:
            promoted[name] = types[name]._promote(value)
        except (ProxyTypeError, TypeError, ValueError) as e:
            raise ParameterError(
                f"argument {name!r} expects {types[name].__name__}, got {type(value).__name__} "
                f"{value!r}"[:300]
            ) from e
        if promoted[name].params:
            raise ParameterError(f"the value for argument {name!r} cannot depend on parameters")
    return function.return_type._from_apply(function, **promoted)


def compute(obj: Any, geoctx: Any = None, **arguments: Any) -> Any:
    """Compute a proxy object (in ``geoctx``) and return its Python result.

    ``arguments`` are values for the object's parameters or, for a Function, its arguments
    by name (the result is then the function's result).
    """
    obj = proxify(obj)
    if isinstance(obj, Function):
        obj, arguments = _apply_function(obj, arguments), {}
    concrete = resolve_geoctx(geoctx)
    values = argument_values(obj, arguments, concrete)
    return to_result(evaluate(obj.graft, concrete, values), concrete)


def interpret_to_result(graft: dict, geoctx: Any, arguments: Mapping[str, Any]) -> Any:
    """Evaluate a JSON graft from any client; arguments may be literals or grafts."""
    concrete = resolve_geoctx(geoctx)
    values = {name: decode_argument(v, concrete) for name, v in arguments.items()}
    return to_result(evaluate(graft, concrete, values), concrete)
