"""The builtin registry: every operation name a graft may call, mapped to a Python function.

Names follow the original Workflows client (``wf.add``, ``wf.numpy.add``, ``wf.pick_bands``,
``wf.Image.load`` ...) so grafts it built evaluate here too.
"""

from . import core, geocontext, imagery, vector  # noqa: F401 - importing registers the builtins
from .registry import REGISTRY, EvaluationContext, current_context, reset_context, set_context

# isort: split
# ``XYZ.use`` (layers stored through the gRPC endpoint, by id) registers itself into the
# registry above, so it is imported last; the module needs no grpc.
from ..grpc import builtin as _xyz_use  # noqa: F401

__all__ = ["REGISTRY", "EvaluationContext", "current_context", "reset_context", "set_context"]
