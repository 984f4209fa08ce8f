"""The one table of operations a graft may call, and the evaluation context they share."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tiles.errors import GeoContextError

REGISTRY: dict[str, Any] = {}


def builtin(*names: str) -> Callable[[Callable], Callable]:
    """Register a function under one or more builtin names (``wf.add``, ``wf.numpy.add``...)."""

    def register(function: Callable) -> Callable:
        for name in names:
            if name in REGISTRY:
                raise ValueError(f"builtin {name!r} is registered twice")
            REGISTRY[name] = function
        return function

    return register


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
