"""Kernel proxies and the module-level imagery functions concat, where and conv2d."""

from __future__ import annotations

from tiles.errors import ProxyTypeError
from tiles.types.containers import List, Tuple
from tiles.types.core import Proxytype
from tiles.types.imagery import Image, ImageCollection, ImageryMixin, _imagery_operand
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
        obj = Kernel._from_apply(
            "wf.Kernel.load", Tuple[Int, Int](dims), List[Float]([float(v) for v in data])
            if isinstance(data, (list, tuple)) else data,
        )  # fmt: skip
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
    for img in imgs:
        if not isinstance(img, ImageryMixin):
            raise ProxyTypeError(
                f"concat takes Images or ImageCollections, not {type(img).__name__}"
            )
    return ImageCollection._from_apply("wf.concat", *imgs)


def where(condition, x, y):
    """Values from ``x`` where ``condition`` is True, else from ``y`` (masks propagate)."""
    if not isinstance(condition, ImageryMixin):
        raise ProxyTypeError("where's condition must be an Image or ImageCollection")
    for value in (x, y):
        if _imagery_operand(value) is None:
            raise ProxyTypeError(f"where takes imagery or numbers, not {type(value).__name__}")
    is_ic = any(isinstance(v, ImageCollection) for v in (condition, x, y))
    return (ImageCollection if is_ic else Image)._from_apply("wf.where", condition, x, y)


def conv2d(obj, filt: Kernel):
    """2-D spatial convolution of an Image or ImageCollection with a Kernel (same shape out)."""
    if not isinstance(obj, ImageryMixin):
        raise ProxyTypeError(f"conv2d needs an Image or ImageCollection, not {type(obj).__name__}")
    if not isinstance(filt, Kernel):
        raise ProxyTypeError(f"conv2d needs a Kernel, not {type(filt).__name__}")
    return type(obj)._from_apply("wf.conv2d", obj, filt)
