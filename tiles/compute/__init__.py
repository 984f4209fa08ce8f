"""The compute layer: evaluation, windowed (chunked) computing, jobs, output formats,
publishing and the client of a remote server.

Importing it attaches ``compute``, ``inspect`` and ``publish`` to every proxy and the
evaluator behind :func:`tiles.graft.interpret`: those live here, above the proxies and the
graft language, which never import this package.
"""

from __future__ import annotations

from typing import Any

from tiles.compute.evaluation import compute, inspect, interpret_to_result
from tiles.compute.workflows import publish
from tiles.graft import attach_interpreter
from tiles.types.core import attach_backend


def _publish(obj: Any, id: str, version: str, **options: Any) -> Any:  # noqa: A002
    return publish(id, version, obj, **options)


attach_backend("compute", compute)
attach_backend("inspect", inspect)
attach_backend("publish", _publish)
attach_interpreter(interpret_to_result)

__all__ = ["compute", "inspect", "publish"]
