"""Canonical form of a graft: keys renumbered by position, unreachable keys dropped.

Two grafts that compute the same thing with different key numbering have the same
canonical form, hence the same content hash (used for caching and layer ids).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from tiles.errors import GraftSyntaxError
from tiles.graft.syntax import is_application, is_graft, is_quoted_json


class _Counter:
    """Hands out the new key names, skipping names the graft uses verbatim.

    Parameter names and free names (builtins, parameters of the whole graft) are kept as they
    are, so a new key must never equal one of them, or a reference to a key and a reference
    to that name would look the same.
    """

    def __init__(self, reserved: frozenset[str] = frozenset()):
        self.next = 0
        self.reserved = reserved
        self.verbatim: set[str] = set()

    def new_key(self) -> str:
        while str(self.next) in self.reserved:
            self.next += 1
        key = str(self.next)
        self.next += 1
        return key


class _Renamer:
    """Renames the keys of one graft body; unknown keys are looked up in the parent."""

    def __init__(self, body: dict, parent: _Renamer | None, counter: _Counter):
        self.body = body
        self.parent = parent
        self.counter = counter
        self.names: dict[str, str] = {}
        self.out: dict[str, Any] = {}
        self.local = set(body.get("parameters", ()))
        counter.verbatim.update(self.local)

    def ref(self, key: str) -> str:
        if key in self.local:
            return key
        if key in self.names:
            if not self.names[key]:
                raise GraftSyntaxError(f"key {key!r} depends on itself")
            return self.names[key]
        if self.is_key(key):
            self.name_with_uses(key)
            return self.names[key]
        if self.parent is not None:
            return self.parent.ref(key)
        self.counter.verbatim.add(key)
        return key  # a builtin or free parameter name

    def is_key(self, name: str) -> bool:
        return (
            name not in self.local and name in self.body and name not in ("parameters", "returns")
        )

    def name_with_uses(self, key: str) -> None:
        """Name ``key`` after the keys of this body its application uses, depth first.

        The walk is iterative, so that a chain of thousands of keys needs no deeper
        recursion than one key, and it names keys in the order a recursive walk would:
        the numbering, hence every content hash, is the same.
        """
        self.names[key] = ""  # marks "in progress" to catch cycles
        path = [key]
        walks = [iter(self.uses(key))]
        while walks:
            name = next(walks[-1], None)
            if name is None:
                walks.pop()
                done = path.pop()
                expr = self.expr(self.body[done])  # what it uses is named already
                new = self.counter.new_key()
                self.names[done] = new
                self.out[new] = expr
            elif self.names.get(name) == "":
                raise GraftSyntaxError(f"key {name!r} depends on itself")
            elif name not in self.names:
                self.names[name] = ""
                path.append(name)
                walks.append(iter(self.uses(name)))

    def uses(self, key: str) -> list[str]:
        """The keys of this body that ``key``'s application refers to, in :meth:`expr`'s order."""
        expr = self.body[key]
        if is_quoted_json(expr) or not is_application(expr):
            return []
        names = [expr[0]]
        for arg in expr[1:]:
            if isinstance(arg, dict):
                names.extend(v for _, v in sorted(arg.items()))
            else:
                names.append(arg)
        return [n for n in names if isinstance(n, str) and self.is_key(n)]

    def expr(self, expr: Any) -> Any:
        if is_quoted_json(expr) or not isinstance(expr, (list, dict)):
            return expr
        if is_graft(expr):
            return canonical_body(expr, self, self.counter)
        if is_application(expr):
            out: list = [self.ref(expr[0])]
            for arg in expr[1:]:
                if isinstance(arg, dict):
                    out.append({name: self.ref(k) for name, k in sorted(arg.items())})
                else:
                    out.append(self.ref(arg))
            return out
        raise GraftSyntaxError(f"not a graft expression: {json.dumps(expr)[:200]}")


def canonical_body(graft: dict, parent: _Renamer | None, counter: _Counter) -> dict:
    """One graft scope with its keys renamed canonically (nested scopes share ``counter``).

    Parameters
    ----------
    graft:
        The scope's graft.
    parent:
        The renamer of the enclosing scope, or None at the top.
    counter:
        The running key counter shared by all scopes.

    Returns
    -------
    dict
        The scope with canonical keys.
    """
    renamer = _Renamer(graft, parent, counter)
    returns = renamer.ref(graft["returns"])
    result = dict(renamer.out)
    if "parameters" in graft:
        result["parameters"] = list(graft["parameters"])
    result["returns"] = returns
    return result


def canonicalize(graft: dict) -> dict:
    """The canonical form of ``graft`` (a new dict; the input is not modified)."""
    if not is_graft(graft):
        raise GraftSyntaxError("a graft must be a JSON object with a 'returns' key")
    first = _Counter()
    result = canonical_body(graft, None, first)
    clashing = frozenset(name for name in first.verbatim if name.isdigit())
    if clashing:
        # Number again, leaving out the names the graft uses verbatim.
        result = canonical_body(graft, None, _Counter(clashing))
    return result


def content_hash(graft: dict) -> str:
    """Stable hex digest of what ``graft`` computes, ignoring key numbering."""
    text = json.dumps(canonicalize(graft), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
