"""The graft: the JSON graph language proxies build and the engine evaluates.

Build (:mod:`.build`), canonicalise and hash (:mod:`.canonical`), evaluate
(:mod:`.interpreter`). :func:`interpret` evaluates any graft with this package's builtins.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tiles.graft.build import (
    apply_graft,
    function_graft,
    guid,
    isolate_keys,
    key_watermark,
    keyref_graft,
    value_graft,
)
from tiles.graft.canonical import canonicalize, content_hash
from tiles.graft.interpreter import Closure, evaluate_graft
from tiles.graft.syntax import is_function_graft, is_graft

__all__ = [
    "Closure",
    "apply_graft",
    "attach_interpreter",
    "canonicalize",
    "content_hash",
    "evaluate_graft",
    "function_graft",
    "guid",
    "interpret",
    "is_function_graft",
    "is_graft",
    "isolate_keys",
    "key_watermark",
    "keyref_graft",
    "value_graft",
]


#: Evaluation lives above the graft layer (it needs the builtins and the engine);
#: :mod:`tiles.compute` attaches it here at import.
_interpreter: list[Callable[[dict, Any, Mapping[str, Any]], Any]] = []


def attach_interpreter(function: Callable[[dict, Any, Mapping[str, Any]], Any]) -> None:
    """Make ``function(graft, geoctx, arguments)`` the evaluator behind :func:`interpret`.

    Parameters
    ----------
    function:
        Evaluates a graft in a GeoContext with argument values and returns a result.
    """
    _interpreter[:] = [function]


def interpret(graft: dict, geoctx: Any = None, **arguments: Any) -> Any:
    """Evaluate a graft given as a JSON-like dict and return what ``compute()`` would.

    Parameters
    ----------
    graft:
        The graft, as the original client or this package builds it.
    geoctx:
        The GeoContext (or anything ``compute`` accepts as one) for geospatial values.
    **arguments:
        Values for the graft's free parameters (Python values or grafts).

    Returns
    -------
    Any
        The result ``compute()`` would give: an ``ImageResult``, a number, a list ...

    Example
    -------
    >>> from tiles.graft import interpret
    >>> interpret({"returns": "r", "a": 1, "b": 2, "r": ["wf.add", "a", "b"]})
    3
    """
    if not _interpreter:
        raise RuntimeError("interpret() needs the evaluation layer: import tiles first")
    return _interpreter[0](graft, geoctx, arguments)
