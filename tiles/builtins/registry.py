"""The one table of operations a graft may call, and the evaluation context they share.

Every registered builtin runs inside the request's cost budget
(:mod:`tiles.engine.budget`): before it starts, the request must not be cancelled and must
have time left; after, what it returns must be within the budget's size limits.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tiles.engine import budget
from tiles.errors import GeoContextError

REGISTRY: dict[str, Any] = {}


def builtin(*names: str) -> Callable[[Callable], Callable]:
    """Register a function under one or more builtin names (``wf.add``, ``wf.numpy.add``...).

    Graft evaluation calls it through :func:`budgeted`; the function itself is returned
    unchanged for direct use.
    """

    def register(function: Callable) -> Callable:
        checked = budgeted(function, names[0])
        for name in names:
            if name in REGISTRY:
                raise ValueError(f"builtin {name!r} is registered twice")
            REGISTRY[name] = checked
        return function

    return register


def budgeted(function: Callable, name: str) -> Callable:
    """``function`` checked against the active budget before and after every call.

    Parameters
    ----------
    function:
        The builtin.
    name:
        How budget errors name it.

    Returns
    -------
    Callable
        The same signature (``inspect.signature`` follows it to ``function``).
    """

    @functools.wraps(function)
    def checked(*args: Any, **kwargs: Any) -> Any:
        limits = budget.current()
        limits.checkpoint(name)
        result = function(*args, **kwargs)
        limits.check_value(result, name)
        return result

    return checked


def constant(name: str, value: Any) -> None:
    """Register a value looked up by name (e.g. ``wf.constants.pi``)."""
    REGISTRY[name] = value


@dataclass
class EvaluationContext:
    """What builtins may need beyond their arguments: the GeoContext of this evaluation, and
    the most images one collection may load (None: no limit beyond ``from_id``'s own)."""

    geoctx: Any = None
    max_images: int | None = None

    def require_geoctx(self, what: str) -> Any:
        """The GeoContext of this evaluation; a clear error naming ``what`` when there is none.

        A GeoContext whose grid has more pixels than the budget allows is refused too.

        Parameters
        ----------
        what:
            What needs the GeoContext (for the message).

        Returns
        -------
        GeoContext
        """
        if self.geoctx is None:
            raise GeoContextError(
                f"{what} needs a GeoContext: pass one to compute(), e.g. "
                "compute(wf.scenes.AOI(bounds=..., resolution=..., crs=...))"
            )
        try:
            shape = self.geoctx.arr_shape
        except GeoContextError:
            shape = None  # no grid (bounds only): nothing to count
        if shape is not None:
            budget.current().check_pixels(shape, what)
        return self.geoctx


_current: contextvars.ContextVar[EvaluationContext | None] = contextvars.ContextVar(
    "tiles_evaluation_context", default=None
)


def current_context() -> EvaluationContext:
    """The context of the evaluation running in this thread (an empty one outside any)."""
    return _current.get() or EvaluationContext()


def set_context(context: EvaluationContext) -> contextvars.Token:
    """Make ``context`` the current evaluation context; returns the token to reset it with.

    Parameters
    ----------
    context:
        The evaluation's context.

    Returns
    -------
    contextvars.Token
    """
    return _current.set(context)


def reset_context(token: contextvars.Token) -> None:
    """Restore the evaluation context that was current before :func:`set_context`.

    Parameters
    ----------
    token:
        What :func:`set_context` returned.
    """
    _current.reset(token)
