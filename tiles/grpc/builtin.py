"""The ``XYZ.use`` builtin: evaluate a published XYZ object with parameter values.

The original map client refers to a layer's imagery as
``["XYZ.use", "<xyz id>", {"<param>": key, ...}]``, both in the tile layers this
server registers for each XYZ and inside parameter values (an image-picker value
is another layer's ``XYZ.use``). Evaluation happens in the caller's GeoContext.
"""

from __future__ import annotations

import contextvars
from typing import Any

from tiles.builtins import REGISTRY
from tiles.builtins.registry import builtin
from tiles.errors import GraftError, GraftNameError, GraftTypeError
from tiles.graft import Closure, evaluate_graft
from tiles.grpc.store import find_graft

#: Published objects being evaluated on this thread, to refuse cycles between them.
_active: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "tiles_xyz_use_active", default=()
)


def xyz_use(xyz_id: str, **arguments: Any) -> Any:
    """The value of published XYZ ``xyz_id`` with its parameters bound to ``arguments``."""
    if not isinstance(xyz_id, str):
        raise GraftTypeError(f"XYZ.use: the XYZ id must be a string, not {xyz_id!r}")
    active = _active.get()
    if xyz_id in active:
        chain = " -> ".join((*active, xyz_id))
        raise GraftError(f"XYZ.use: published objects refer to each other in a cycle ({chain})")
    try:
        graft = find_graft(xyz_id)
    except LookupError as exc:
        raise GraftNameError(f"XYZ.use: {exc}") from None
    token = _active.set((*active, xyz_id))
    try:
        value = evaluate_graft(graft, REGISTRY)
        if isinstance(value, Closure):
            missing = [p for p in value.parameters if p not in arguments]
            if missing:
                raise GraftTypeError(
                    f"XYZ.use: XYZ {xyz_id!r} needs a value for parameter(s) {', '.join(missing)}"
                )
            extra = sorted(set(arguments) - set(value.parameters))
            if extra:
                raise GraftTypeError(
                    f"XYZ.use: XYZ {xyz_id!r} has no parameter(s) {', '.join(extra)}; it takes "
                    f"{', '.join(value.parameters)}"
                )
            return value(**arguments)
        if arguments:
            raise GraftTypeError(
                f"XYZ.use: XYZ {xyz_id!r} takes no parameters, got {', '.join(sorted(arguments))}"
            )
        return value
    finally:
        _active.reset(token)


if "XYZ.use" not in REGISTRY:
    builtin("XYZ.use")(xyz_use)
