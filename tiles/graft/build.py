"""Building grafts: literals, applications of builtins or functions, and function bodies.

Keys are stringified integers from one process-wide counter, so grafts built separately
never collide and can be merged by plain dict union.
"""

from __future__ import annotations

import itertools
from typing import Any

from tiles.graft.syntax import is_function_graft, is_graft, is_literal

_counter = itertools.count()


def guid() -> str:
    """A fresh, process-unique key."""
    return str(next(_counter))


def key_watermark() -> int:
    """A number above every key made so far and below every key made later."""
    return next(_counter)


def quote(value: Any) -> Any:
    """The expression for a Python literal: JSON scalars as-is, lists and dicts quoted."""
    if is_literal(value):
        return value
    if isinstance(value, (list, tuple, dict)):
        return [_jsonable(value)]
    raise TypeError(f"cannot put {type(value).__name__} {value!r} into a graft")


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if is_literal(value):
        return value
    raise TypeError(f"cannot put {type(value).__name__} {value!r} into a graft")


def value_graft(value: Any) -> dict:
    """Graft returning a literal value: ``{"0": 1, "returns": "0"}``."""
    key = guid()
    return {key: quote(value), "returns": key}


def keyref_graft(name: str) -> dict:
    """Graft returning whatever ``name`` means in scope (a parameter or builtin)."""
    return {"returns": name}


def _insert(graft: dict, arg: Any) -> str:
    """Merge ``arg`` into ``graft`` and return the key under which it is found."""
    if is_graft(arg):
        if is_function_graft(arg):
            key = guid()
            graft[key] = arg
            return key
        for k, v in arg.items():
            if k != "returns":
                graft[k] = v
        return arg["returns"]
    key = guid()
    graft[key] = quote(arg)
    return key


def apply_graft(function: str | dict, *args: Any, **kwargs: Any) -> dict:
    """Graft applying ``function`` (a builtin name or a graft of a function) to arguments.

    Arguments are grafts (merged in) or Python literals (inserted under fresh keys).

    >>> from tiles.graft import build
    >>> g = build.apply_graft("wf.numpy.add", build.value_graft(1), 1)
    >>> sorted(g) == sorted(set(g))
    True
    """
    graft: dict = {}
    function_key = function if isinstance(function, str) else _insert(graft, function)
    arg_keys = [_insert(graft, arg) for arg in args]
    kwarg_keys = {name: _insert(graft, value) for name, value in kwargs.items()}
    expr: list = [function_key, *arg_keys]
    if kwarg_keys:
        expr.append(kwarg_keys)
    key = guid()
    graft[key] = expr
    graft["returns"] = key
    return graft


def function_graft(result: dict, *parameters: str, first_guid: int | None = None) -> dict:
    """Value graft of a function with the given parameter names whose body is ``result``.

    Keys created before ``first_guid`` (values captured from the enclosing code) are hoisted
    out of the body into the enclosing graft, which is how closures are expressed.
    """
    hoisted: dict = {}
    body: dict = {}
    for key, expr in result.items():
        if key == "returns":
            continue
        if first_guid is not None and key.isdigit() and int(key) < first_guid:
            hoisted[key] = expr
        else:
            body[key] = expr
    body["parameters"] = list(parameters)
    body["returns"] = result["returns"]
    key = guid()
    return {**hoisted, key: body, "returns": key}


def isolate_keys(graft: dict) -> dict:
    """Wrap a stored graft so its keys cannot collide with keys built in this process."""
    inner_key, call_key = guid(), guid()
    return {inner_key: {**graft, "parameters": []}, call_key: [inner_key], "returns": call_key}
