"""Kernel proxies and the module-level imagery functions concat, where and conv2d."""

from __future__ import annotations

from tiles.types.arguments import argument_error, promote
from tiles.types.containers import List, Tuple
from tiles.types.core import Proxytype
from tiles.types.imagery import IMAGERY, Image, ImageCollection, _imagery_operand
from tiles.types.primitives import Float, Int


class Kernel(Proxytype):
    """A 2-D convolution kernel: ``dims`` (rows, cols) and ``data`` (row-major values)."""

    def __init__(self, dims, data):
        if isinstance(dims, (tuple, list)):
            if len(dims) != 2 or not all(isinstance(d, int) and d > 0 for d in dims):
                raise ValueError(f"Kernel dims must be two positive ints, got {dims!r}")
            if isinstance(data, (list, tuple)) and len(data) != dims[0] * dims[1]:
                raise ValueError(
                    f"Kernel data has {len(data)} values but dims {tuple(dims)} need "
                    f"{dims[0] * dims[1]}"
                )
        dims = promote(dims, Tuple[Int, Int], "Kernel", "dims")
        data = promote(data, List[Float], "Kernel", "data")
        obj = Kernel._from_apply("wf.Kernel.load", dims, data)
        self.graft, self.params = obj.graft, obj.params

    @property
    def dims(self) -> Tuple:
        """The kernel's (rows, cols), a ``Tuple[Int, Int]``."""
        return Tuple[Int, Int]._from_apply("wf.getattr", self, "dims")

    @property
    def data(self) -> List:
        """The kernel's values in row-major order, a ``List[Float]``."""
        return List[Float]._from_apply("wf.getattr", self, "data")


def concat(*imgs) -> ImageCollection:
    """ImageCollection of ``imgs`` (Images or ImageCollections) concatenated in order."""
    if not imgs:
        raise ValueError("concat needs at least one Image or ImageCollection")
    imgs = tuple(promote(img, IMAGERY, "concat", "imgs") for img in imgs)
    return ImageCollection._from_apply("wf.concat", *imgs)


def where(condition, x, y):
    """Values from ``x`` where ``condition`` is True, else from ``y`` (masks propagate)."""
    condition = promote(condition, IMAGERY, "where", "condition")
    for name, value in (("x", x), ("y", y)):
        if _imagery_operand(value) is None:
            raise argument_error("where", name, "Image, ImageCollection or a number", value)
    is_ic = any(isinstance(v, ImageCollection) for v in (condition, x, y))
    return (ImageCollection if is_ic else Image)._from_apply("wf.where", condition, x, y)


def conv2d(obj, filt: Kernel):
    """2-D spatial convolution of an Image or ImageCollection with a Kernel (same shape out)."""
    obj = promote(obj, IMAGERY, "conv2d", "obj")
    filt = promote(filt, Kernel, "conv2d", "filt")
    return type(obj)._from_apply("wf.conv2d", obj, filt)
