"""Check a whole graft from a client before storing or evaluating it, without evaluating it.

Anything wrong that its JSON alone shows is refused up front with a message naming the
problem: nesting deeper than :data:`MAX_DEPTH`, malformed expressions, names that are
neither keys, parameters nor builtins, keys that depend on themselves, and calls with a
number or names of arguments the called builtin or graft function cannot take.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any

from tiles.errors import GraftNameError, GraftSyntaxError, GraftTypeError
from tiles.graft.syntax import RESERVED, is_literal, is_quoted_json

#: Deepest nesting of JSON arrays and objects accepted in a graft (geometries included).
MAX_DEPTH = 64


def json_depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """Nesting depth of JSON ``value`` (a scalar is 0), counted without recursion.

    Counting stops once ``limit`` is passed, so a hostile value costs little.

    Example
    -------
    >>> json_depth({"a": [1, [2]]})
    3
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Collection = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth) for child in children)
    return deepest


def check_graft(
    graft: Any,
    builtins: Mapping[str, Any] | Collection[str],
    free_names: Collection[str] = (),
    what: str = "graft",
) -> None:
    """Raise a :class:`~tiles.errors.GraftError` naming the first problem of ``graft``.

    Parameters
    ----------
    graft:
        The graft as decoded JSON.
    builtins:
        The names an evaluation can call; a mapping to the functions also lets argument
        counts and keyword names be checked against their signatures.
    free_names:
        Further names bound when the graft is evaluated (a layer's parameters).
    what:
        How messages name the graft (``"graft"``, ``"parameter 't'"``...).

    Example
    -------
    >>> check_graft({"a": ["wf.neg", "a"], "returns": "a"}, {"wf.neg": abs})
    Traceback (most recent call last):
    ...
    tiles.errors.GraftSyntaxError: graft: key 'a' depends on itself (a -> a)
    """
    if not isinstance(graft, dict) or "returns" not in graft:
        raise GraftSyntaxError(f"{what} must be a JSON object with a 'returns' key")
    if json_depth(graft) > MAX_DEPTH:
        raise GraftSyntaxError(f"{what} is nested more than {MAX_DEPTH} levels deep")
    checker = _Checker(builtins, frozenset(free_names), what)
    checker.body(graft, ())
    checker.check_cycles()


class _Checker:
    def __init__(self, builtins: Mapping[str, Any] | Collection[str], free: frozenset, what: str):
        self.builtins = builtins
        self.free = free
        self.what = what
        #: (id(body), key) -> (body, key) nodes each evaluated key needs first.
        self.edges: dict[tuple[int, str], list[tuple[dict, str]]] = {}

    def fail(self, error: type[Exception], message: str) -> None:
        raise error(f"{self.what}: {message}")

    def body(self, body: dict, parents: tuple[dict, ...]) -> None:
        returns = body.get("returns")
        if not isinstance(returns, str):
            self.fail(
                GraftSyntaxError, f"'returns' must be a key (a string), not {_short(returns)}"
            )
        params = body.get("parameters", [])
        if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            self.fail(
                GraftSyntaxError, f"'parameters' must be a list of names, not {_short(params)}"
            )
        bad = [p for p in params if p in RESERVED]
        if bad:
            self.fail(GraftSyntaxError, f"{bad[0]!r} cannot be a parameter name")
        scope = (body, *parents)
        self.resolve(returns, scope, "'returns'")
        for key, expr in body.items():
            if key not in RESERVED:
                self.edges[(id(body), key)] = list(self.expression(key, expr, scope))

    def expression(self, key: str, expr: Any, scope: tuple[dict, ...]) -> Iterator[tuple]:
        """Check one key's expression; yield the keys its evaluation needs first."""
        if is_literal(expr) or is_quoted_json(expr):
            return
        if isinstance(expr, dict):
            if "returns" not in expr:
                self.fail(GraftSyntaxError, f"key {key!r}: a nested graft needs a 'returns' key")
            self.body(expr, scope)
            if "parameters" not in expr:  # a function's body runs later, when it is called
                yield from self.needs(expr["returns"], (expr, *scope))
            return
        if not isinstance(expr, list) or not expr or not isinstance(expr[0], str):
            self.fail(
                GraftSyntaxError,
                f"key {key!r}: {_short(expr)} is not a literal, quoted JSON, function "
                "application or nested graft",
            )
        function, *args = expr
        kwargs: dict = args.pop() if args and isinstance(args[-1], dict) else {}
        for arg in [*args, *kwargs.values()]:
            if not isinstance(arg, str):
                self.fail(
                    GraftSyntaxError,
                    f"key {key!r}: arguments must be keys (strings), got {_short(arg)} "
                    f"in {_short(expr)}",
                )
        for name in kwargs:
            if not name.isidentifier():
                self.fail(GraftSyntaxError, f"key {key!r}: invalid keyword name {_short(name)}")
        where = self.resolve(function, scope, f"key {key!r}")
        for arg in [*args, *kwargs.values()]:
            self.resolve(arg, scope, f"key {key!r}")
        self.check_call(key, function, where, scope, len(args), list(kwargs))
        for name in (function, *args, *kwargs.values()):
            yield from self.needs(name, scope)

    def resolve(self, name: str, scope: tuple[dict, ...], where: str) -> Any:
        """What ``name`` is bound to: ``("key", body)``, "parameter", "free" or "builtin"."""
        for body in scope:
            if name in body and name not in RESERVED:
                return ("key", body)
            if name in body.get("parameters", ()):
                return "parameter"
        if name in self.free:
            return "free"
        if name in self.builtins:
            return "builtin"
        if name.startswith(("wf.", "XYZ.")) or "." in name:
            self.fail(GraftNameError, f"{where}: unknown builtin {name!r}: no such function")
        self.fail(
            GraftNameError, f"{where}: unknown name {name!r}: not a key, parameter or builtin"
        )

    def needs(self, name: str, scope: tuple[dict, ...]) -> Iterator[tuple[dict, str]]:
        for body in scope:
            if name in body.get("parameters", ()):
                return
            if name in body and name not in RESERVED:
                yield (body, name)
                return

    def check_call(
        self, key: str, name: str, where: Any, scope: tuple, nargs: int, kwargs: list[str]
    ) -> None:
        """Argument counts and keyword names, where the called function is known."""
        if where == "builtin" and isinstance(self.builtins, Mapping):
            function = self.builtins[name]
            if not callable(function):
                self.fail(GraftTypeError, f"key {key!r}: {name!r} is not a function")
            signature = _signature(function)
            if signature is not None:
                try:
                    signature.bind(*([None] * nargs), **dict.fromkeys(kwargs))
                except TypeError as exc:
                    self.fail(GraftTypeError, f"key {key!r}: {name}: {exc}")
        elif isinstance(where, tuple):
            target = where[1][name]
            if isinstance(target, dict) and "parameters" in target:
                params = target["parameters"]
                given = params[:nargs] + kwargs
                if nargs > len(params) or set(given) != set(params) or len(given) != len(params):
                    self.fail(
                        GraftTypeError,
                        f"key {key!r}: function {name!r} takes ({', '.join(params)}), "
                        f"called with {nargs} positional argument(s) and {kwargs or 'no'} "
                        "keyword(s)",
                    )
            elif is_literal(target) or is_quoted_json(target):
                self.fail(GraftTypeError, f"key {key!r}: {name!r} is a value, not a function")

    def check_cycles(self) -> None:
        """Refuse keys whose evaluation needs their own value (found depth-first, iteratively)."""
        done: set[tuple[int, str]] = set()
        for start in self.edges:
            if start in done:
                continue
            path, on_path = [start], {start}
            iterators = [iter(self.edges[start])]
            while iterators:
                step = next(iterators[-1], None)
                if step is None:
                    iterators.pop()
                    finished = path.pop()
                    on_path.discard(finished)
                    done.add(finished)
                    continue
                node = (id(step[0]), step[1])
                if node in on_path:
                    loop = [key for _, key in path[path.index(node) :]] + [step[1]]
                    self.fail(
                        GraftSyntaxError,
                        f"key {step[1]!r} depends on itself ({' -> '.join(loop)})",
                    )
                if node not in done:
                    path.append(node)
                    on_path.add(node)
                    iterators.append(iter(self.edges.get(node, ())))


_signatures: dict[Any, inspect.Signature | None] = {}


def _signature(function: Callable) -> inspect.Signature | None:
    try:
        return _signatures[function]
    except KeyError:
        pass
    except TypeError:  # unhashable callables are simply not checked
        return None
    try:
        signature: inspect.Signature | None = inspect.signature(function)
    except (TypeError, ValueError):
        signature = None
    _signatures[function] = signature
    return signature


def _short(value: Any) -> str:
    text = json.dumps(value, default=repr)
    return text if len(text) <= 120 else text[:117] + "..."
