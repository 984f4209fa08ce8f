"""The builtin registry: every operation name a graft may call, mapped to a Python function.

Names follow the original Workflows client (``wf.add``, ``wf.numpy.add``, ``wf.pick_bands``,
``wf.Image.load`` ...) so grafts it built evaluate here too.
"""

from tiles.builtins import core, geocontext, imagery, vector  # noqa: F401 - importing registers the builtins
from tiles.builtins.registry import (
    REGISTRY,
    EvaluationContext,
    current_context,
    reset_context,
    set_context,
)

__all__ = ["REGISTRY", "EvaluationContext", "current_context", "reset_context", "set_context"]
