"""Check a graft sent for publishing before storing it, without evaluating it.

A published graft is evaluated later for every tile, so anything wrong that can be
seen from its JSON alone is refused up front with a message naming the problem:
text that is not a graft, malformed expressions, names that are neither keys,
parameters nor builtins, and data sources named by a file path or URL instead of a
catalog id (the server only reads imagery it has catalogued).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from typing import Any

from tiles.graft.syntax import RESERVED, is_literal, is_quoted_json

#: Largest graft accepted, in bytes of JSON text.
MAX_GRAFT_BYTES = 48 * 1024 * 1024
#: Builtins whose first argument names a catalogued source.
SOURCE_BUILTINS = frozenset(
    {
        "wf.Image.load",
        "wf.Image.from_id",
        "wf.ImageCollection.from_id",
        "wf.ImageCollection.load",
        "wf.FeatureCollection.from_vector",
    }
)
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


class InvalidGraft(ValueError):
    """A graft that cannot be published; the message says why."""


def looks_like_path(source_id: str) -> bool:
    """Whether a source id is a file path or URL rather than a catalog id like ``product:name``."""
    return bool(
        "/" in source_id
        or "\\" in source_id
        or source_id.startswith((".", "~"))
        or _URL_SCHEME.match(source_id)
        or "\x00" in source_id
    )


def parse_graft(text: str) -> dict:
    """Parse published graft JSON text into a graft dict (InvalidGraft when it is not one)."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_GRAFT_BYTES:
        raise InvalidGraft(f"graft is larger than {MAX_GRAFT_BYTES // (1024 * 1024)} MiB")
    if not text.strip():
        raise InvalidGraft("serialized_graft is empty")
    try:
        graft = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise InvalidGraft(f"serialized_graft is not valid JSON: {exc}") from None
    if not isinstance(graft, dict) or "returns" not in graft:
        raise InvalidGraft("serialized_graft must be a JSON object with a 'returns' key")
    return graft


def check_graft(graft: dict, builtins: Collection[str], free_names: Collection[str] = ()) -> None:
    """Raise InvalidGraft if ``graft`` is malformed, names an unknown builtin or reads a path.

    ``builtins`` are the names an evaluation can call; ``free_names`` are further names
    bound at evaluation time (parameters of a graft that is not a function).
    """
    _Checker(builtins, free_names).check(graft)


class _Checker:
    def __init__(self, builtins: Collection[str], free_names: Collection[str]) -> None:
        self.builtins = builtins
        self.free = frozenset(free_names)

    def check(self, graft: dict) -> None:
        try:
            self._body(graft, ())
        except RecursionError:
            raise InvalidGraft("graft is nested too deeply") from None

    def _body(self, body: dict, parents: tuple[dict, ...]) -> None:
        returns = body.get("returns")
        if not isinstance(returns, str):
            raise InvalidGraft(f"'returns' must be a key (a string), not {_short(returns)}")
        params = body.get("parameters", [])
        if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            raise InvalidGraft(f"'parameters' must be a list of names, not {_short(params)}")
        bad = [p for p in params if p in RESERVED]
        if bad:
            raise InvalidGraft(f"{bad[0]!r} cannot be a parameter name")
        scope = (body, *parents)
        self._resolve(returns, scope, "'returns'")
        for key, expr in body.items():
            if key in RESERVED:
                continue
            self._expression(key, expr, scope)

    def _expression(self, key: str, expr: Any, scope: tuple[dict, ...]) -> None:
        if is_literal(expr) or is_quoted_json(expr):
            return
        if isinstance(expr, dict):
            if "returns" not in expr:
                raise InvalidGraft(f"key {key!r}: a nested graft needs a 'returns' key")
            self._body(expr, scope)
            return
        if not isinstance(expr, list) or not expr or not isinstance(expr[0], str):
            raise InvalidGraft(
                f"key {key!r}: {_short(expr)} is not a literal, quoted JSON, function "
                "application or nested graft"
            )
        function, *args = expr
        kwargs: Mapping[str, Any] = args.pop() if args and isinstance(args[-1], dict) else {}
        for arg in [*args, *kwargs.values()]:
            if not isinstance(arg, str):
                raise InvalidGraft(
                    f"key {key!r}: arguments must be keys (strings), got {_short(arg)} "
                    f"in {_short(expr)}"
                )
        for name in kwargs:
            if not isinstance(name, str) or not name:
                raise InvalidGraft(f"key {key!r}: invalid keyword argument name {_short(name)}")
        where = self._resolve(function, scope, f"key {key!r}")
        for arg in [*args, *kwargs.values()]:
            self._resolve(arg, scope, f"key {key!r}")
        if where == "builtin" and function in SOURCE_BUILTINS and args:
            source = _literal(args[0], scope)
            if isinstance(source, str) and looks_like_path(source):
                raise InvalidGraft(
                    f"{function} reads {source!r}, which is a file path or URL: give the "
                    "id of a catalogued image or product (such as 'product:image'); add "
                    "files to the server's catalog with 'python -m tiles catalog'"
                )

    def _resolve(self, name: str, scope: tuple[dict, ...], where: str) -> str:
        """Where ``name`` is bound: 'key', 'parameter', 'free' or 'builtin'."""
        for body in scope:
            if name in body and name not in RESERVED:
                return "key"
            if name in body.get("parameters", ()):
                return "parameter"
        if name in self.free:
            return "free"
        if name in self.builtins:
            return "builtin"
        if name.startswith(("wf.", "XYZ.")) or "." in name:
            raise InvalidGraft(
                f"{where}: unknown builtin {name!r}: this server has no such function"
            )
        raise InvalidGraft(f"{where}: unknown name {name!r}: not a key, parameter or builtin")


def _literal(name: str, scope: tuple[dict, ...]) -> Any:
    """The literal a key is bound to in the nearest scope, or None if it is not one."""
    for body in scope:
        if name in body.get("parameters", ()):
            return None
        if name in body and name not in RESERVED:
            value = body[name]
            return value if isinstance(value, str) else None
    return None


def _short(value: Any) -> str:
    text = json.dumps(value, default=repr)
    return text if len(text) <= 120 else text[:117] + "..."
