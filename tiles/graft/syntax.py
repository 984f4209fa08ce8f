"""The shape of the graft JSON graph language: what counts as a key, literal, application or graft."""

from __future__ import annotations

from typing import Any

RESERVED = frozenset({"parameters", "returns"})
LITERAL_TYPES = (str, int, float, bool, type(None))


def is_literal(expr: Any) -> bool:
    """A JSON scalar: string, number, boolean or null."""
    return isinstance(expr, LITERAL_TYPES)


def is_quoted_json(expr: Any) -> bool:
    """A one-element list holding a JSON list or object: the value is that JSON, unevaluated."""
    return isinstance(expr, list) and len(expr) == 1 and isinstance(expr[0], (list, dict))


def is_application(expr: Any) -> bool:
    """``[function_key, arg_key..., {name: key}]``."""
    return isinstance(expr, list) and len(expr) >= 1 and isinstance(expr[0], str)


def is_graft(expr: Any) -> bool:
    """A JSON object with a ``returns`` key (a value, or a function when it has ``parameters``)."""
    return isinstance(expr, dict) and "returns" in expr


def is_function_graft(expr: Any) -> bool:
    """Whether ``expr`` is a graft of a function (a graft with ``parameters``).

    Parameters
    ----------
    expr:
        Any value.

    Returns
    -------
    bool
    """
    return is_graft(expr) and "parameters" in expr
