"""The graft: the JSON graph language proxies build and the engine evaluates.

Build (:mod:`.client`), canonicalise and hash (:mod:`.canonical`), evaluate
(:mod:`.interpreter`). :func:`interpret` evaluates any graft with this package's builtins.
"""

from __future__ import annotations

from typing import Any

from .canonical import canonicalize, content_hash
from .client import (
    apply_graft,
    function_graft,
    guid,
    isolate_keys,
    key_watermark,
    keyref_graft,
    value_graft,
)
from .interpreter import Closure, evaluate_graft
from .syntax import is_function_graft, is_graft

__all__ = [
    "Closure",
    "apply_graft",
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


def interpret(graft: dict, geoctx: Any = None, **arguments: Any) -> Any:
    """Evaluate a graft given as a JSON-like dict and return what ``compute()`` would.

    ``arguments`` are values for the graft's free parameters (Python values or grafts).
    """
    from ..evaluation import interpret_to_result

    return interpret_to_result(graft, geoctx, arguments)
