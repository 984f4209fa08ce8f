"""Evaluating a graft: lexical scopes, closures and memoised keys; no geography.

Names resolve in the current graft body (and the function's parameters), then in the
enclosing grafts, then in the builtins mapping. Nothing is ever evaluated from text:
applications can only call builtins or functions defined by the graft itself.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Mapping
from typing import Any

from tiles.errors import GraftError, GraftNameError, GraftSyntaxError, GraftTypeError
from tiles.graft.syntax import RESERVED, is_application, is_graft, is_literal, is_quoted_json

_PENDING = object()


class Closure:
    """A function defined in a graft, with the scope it was defined in."""

    def __init__(self, graft: dict, scope: Scope):
        params = graft.get("parameters")
        if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            raise GraftSyntaxError("'parameters' must be a list of names")
        self.graft = graft
        self.scope = scope
        self.parameters: list[str] = params

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Apply the function to positional and keyword arguments bound to its parameters.

        Returns
        -------
        Any
            The value of the function's body with those bindings.
        """
        if len(args) > len(self.parameters):
            raise GraftTypeError(
                f"function takes {len(self.parameters)} arguments ({', '.join(self.parameters)}) "
                f"but {len(args)} were given"
            )
        bindings = dict(zip(self.parameters, args, strict=False))
        for name, value in kwargs.items():
            if name not in self.parameters:
                raise GraftTypeError(f"function has no parameter {name!r}")
            if name in bindings:
                raise GraftTypeError(f"function got two values for parameter {name!r}")
            bindings[name] = value
        missing = [p for p in self.parameters if p not in bindings]
        if missing:
            raise GraftTypeError(f"function is missing a value for parameter(s) {missing}")
        return Scope(self.graft, self.scope, bindings, self.scope.builtins).value()

    def __repr__(self) -> str:
        return f"<graft function ({', '.join(self.parameters)})>"


class Scope:
    """One graft body being evaluated, with its parameter bindings and parent scope."""

    def __init__(
        self,
        graft: dict,
        parent: Scope | None,
        bindings: Mapping[str, Any],
        builtins: Mapping[str, Callable],
    ):
        self.graft = graft
        self.parent = parent
        self.bindings = bindings
        self.builtins = builtins
        self.memo: dict[str, Any] = {}

    def value(self) -> Any:
        """The value of the scope's ``returns`` key.

        Returns
        -------
        Any
        """
        returns = self.graft["returns"]
        if not isinstance(returns, str):
            raise GraftSyntaxError(f"'returns' must be a key, not {returns!r}")
        return self.lookup(returns)

    def lookup(self, key: str) -> Any:
        """The value bound to ``key`` in this scope or the nearest enclosing one.

        Parameters
        ----------
        key:
            A graft key.

        Returns
        -------
        Any
        """
        scope: Scope | None = self
        while scope is not None:
            if key in scope.bindings:
                return scope.bindings[key]
            if key in scope.graft and key not in RESERVED:
                return scope.evaluate_key(key)
            scope = scope.parent
        if key in self.builtins:
            return self.builtins[key]
        raise GraftNameError(f"unknown name {key!r}: not a key, parameter or builtin")

    def evaluate_key(self, key: str) -> Any:
        """Evaluate the expression at ``key`` once; a key that depends on itself is an error.

        The keys of this body that the expression uses, and theirs, are evaluated first by an
        iterative walk in the order the applications look their names up, with the same
        checks at the same moments: a chain of thousands of keys recurses no deeper than
        one key, and errors come in the same order as from a recursive evaluation.

        Parameters
        ----------
        key:
            A key of this scope's graft.

        Returns
        -------
        Any
        """
        cached = self.memo.get(key, None)
        if cached is _PENDING:
            raise GraftSyntaxError(f"key {key!r} depends on itself")
        if key in self.memo:
            return cached
        path: list[tuple[str, bool]] = [(key, False)]  # (key, used as a function)
        self.memo[key] = _PENDING
        try:
            walks = [iter(self._names_used_by(key))]
            while walks:
                step = next(walks[-1], None)
                if step is None:
                    walks.pop()
                    if len(path) > 1:
                        done, as_function = path.pop()
                        self._check_function(done, self._evaluate_now(done), as_function)
                    continue
                name, as_function = step
                if not self._is_own_key(name):
                    self._check_function(name, self.lookup(name), as_function)
                elif self.memo.get(name, None) is _PENDING:
                    raise GraftSyntaxError(f"key {name!r} depends on itself")
                elif name in self.memo:
                    self._check_function(name, self.memo[name], as_function)
                else:
                    self.memo[name] = _PENDING
                    path.append((name, as_function))
                    walks.append(iter(self._names_used_by(name)))
            return self._evaluate_now(key)
        except BaseException:
            for pending, _ in path:
                if self.memo.get(pending, None) is _PENDING:
                    del self.memo[pending]
            raise

    def _evaluate_now(self, key: str) -> Any:
        """Evaluate ``key``, whose keys of this body are evaluated already, and keep its value."""
        result = self.evaluate(self.graft[key])
        self.memo[key] = result
        return result

    def _is_own_key(self, name: str) -> bool:
        """Whether :meth:`lookup` finds ``name`` among this very body's keys."""
        return name not in self.bindings and name in self.graft and name not in RESERVED

    def _names_used_by(self, key: str) -> list[tuple[str, bool]]:
        """The names ``key``'s application looks up, in :meth:`apply`'s order, each with
        whether it is the function; none when :meth:`apply` would refuse the expression
        before looking anything up."""
        expr = self.graft[key]
        if is_literal(expr) or is_quoted_json(expr) or not is_application(expr):
            return []
        function_key, *rest = expr
        kwarg_keys = rest.pop() if rest and isinstance(rest[-1], dict) else {}
        arguments = [*rest, *kwarg_keys.values()]
        if not all(isinstance(name, str) for name in arguments):
            return []
        return [(function_key, True)] + [(name, False) for name in arguments]

    @staticmethod
    def _check_function(name: str, value: Any, as_function: bool) -> None:
        if as_function and not callable(value):
            raise GraftTypeError(f"{name!r} is not a function")

    def evaluate(self, expr: Any) -> Any:
        """Evaluate one graft expression: a literal, quoted JSON, a nested graft or an application.

        Parameters
        ----------
        expr:
            The expression.

        Returns
        -------
        Any
        """
        if is_literal(expr):
            return expr
        if is_quoted_json(expr):
            return expr[0]
        if isinstance(expr, dict):
            if not is_graft(expr):
                raise GraftSyntaxError(f"nested graft without 'returns': {_short(expr)}")
            if "parameters" in expr:
                return Closure(expr, self)
            return Scope(expr, self, {}, self.builtins).value()
        if is_application(expr):
            return self.apply(expr)
        raise GraftSyntaxError(f"not a valid graft expression: {_short(expr)}")

    def apply(self, expr: list) -> Any:
        """Call the builtin or function an application names with its evaluated arguments.

        Parameters
        ----------
        expr:
            ``[function_key, *argument_keys, {name: key}?]``.

        Returns
        -------
        Any
        """
        function_key, *rest = expr
        kwarg_keys: dict = {}
        if rest and isinstance(rest[-1], dict):
            kwarg_keys = rest.pop()
        for key in [*rest, *kwarg_keys.values()]:
            if not isinstance(key, str):
                raise GraftSyntaxError(
                    f"arguments must be keys (strings), got {key!r} in {_short(expr)}"
                )
        function = self.lookup(function_key)
        if not callable(function):
            raise GraftTypeError(f"{function_key!r} is not a function")
        args = [self.lookup(k) for k in rest]
        kwargs = {name: self.lookup(k) for name, k in kwarg_keys.items()}
        if not isinstance(function, Closure):
            _check_signature(function_key, function, args, kwargs)
        try:
            return function(*args, **kwargs)
        except GraftError:
            raise
        except TypeError as e:
            if isinstance(e, GraftTypeError):
                raise
            raise GraftTypeError(f"{function_key}: {e}") from e


_signatures: dict[Callable, inspect.Signature | None] = {}


def _check_signature(name: str, function: Callable, args: list, kwargs: dict) -> None:
    """Reject wrong argument counts/names for builtins before calling them."""
    if function not in _signatures:
        try:
            _signatures[function] = inspect.signature(function)
        except (TypeError, ValueError):
            _signatures[function] = None
    signature = _signatures[function]
    if signature is None:
        return
    try:
        signature.bind(*args, **kwargs)
    except TypeError as e:
        raise GraftTypeError(f"{name}: {e}") from None


def _short(expr: Any) -> str:
    text = json.dumps(expr, default=repr)
    return text if len(text) < 200 else text[:197] + "..."


def evaluate_graft(
    graft: Any, builtins: Mapping[str, Callable], arguments: Mapping[str, Any] | None = None
) -> Any:
    """Evaluate ``graft`` with free names bound to ``arguments`` and then ``builtins``.

    When the graft's value is a function (a graft with ``parameters``, as the original client
    sends a published or mapped object that takes parameters) and ``arguments`` are given,
    the function is applied to them by name, as the original service did; without
    arguments the function itself is returned.

    Parameters
    ----------
    graft : dict
        The graft to evaluate.
    builtins : mapping
        Names the graft may call that it does not define.
    arguments : mapping, optional
        Values of the graft's free names, and of the function's parameters.

    Returns
    -------
    object
        The value, or a :class:`Closure` when the graft is a function given no arguments.

    Example
    -------
    >>> import operator
    >>> graft = {"parameters": ["x"], "1": ["add", "x", "x"], "returns": "1"}
    >>> evaluate_graft(graft, {"add": operator.add}, {"x": 2})
    4
    """
    if not is_graft(graft):
        raise GraftSyntaxError("a graft must be a JSON object with a 'returns' key")
    bound = dict(arguments or {})
    try:
        if "parameters" in graft:
            value = Closure(graft, Scope({"returns": None}, None, bound, builtins))
        else:
            value = Scope(graft, None, bound, builtins).value()
        if isinstance(value, Closure) and bound:
            return _apply_by_name(value, bound)
        return value
    except RecursionError:
        raise GraftError(
            "graft evaluation nested too deeply (a function that keeps calling itself?)"
        ) from None


def _apply_by_name(function: Closure, arguments: Mapping[str, Any]) -> Any:
    """Call ``function`` with the ``arguments`` named like its parameters."""
    missing = [p for p in function.parameters if p not in arguments]
    if missing:
        raise GraftTypeError(
            f"the graft is a function of ({', '.join(function.parameters)}); "
            f"no value given for {', '.join(missing)}"
        )
    return function(**{p: arguments[p] for p in function.parameters})
