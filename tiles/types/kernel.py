"""Kernel proxies and the module-level imagery functions concat, where and conv2d."""

from __future__ import annotations

from tiles.types.arguments import argument_error, promote
from tiles.types.containers import List, Tuple
from tiles.types.core import Proxytype
from tiles.types.imagery import IMAGERY, Image, ImageCollection
from tiles.types.imagery_methods import imagery_operand
from tiles.types.primitives import Float, Int


class Kernel(Proxytype):
    """A 2-D convolution kernel: ``dims`` (rows, cols) and ``data`` (row-major values).

    Example
    -------
    >>> kernel = wf.Kernel(dims=(3, 3), data=[1.0, 2.0, 1.0, 2.0, 4.0, 2.0, 1.0, 2.0, 1.0])
    >>> kernel.dims.compute()
    (3, 3)
    """

    def __init__(self, dims, data):
        """A Kernel of the given shape and values.

        Parameters
        ----------
        dims : Tuple[Int, Int]
            (rows, cols).
        data : List[Float]
            rows x cols values in row-major order.
        """
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
    """An ImageCollection of Images and ImageCollections, in order.

    Parameters
    ----------
    *imgs : Image or ImageCollection
        With identical band names; empty ones are left out.

    Returns
    -------
    ImageCollection
        Their images and properties concatenated.

    Example
    -------
    >>> dem = wf.Image.from_id("sample:dem:santa_fe")
    >>> type(wf.concat(dem, dem)).__name__
    'ImageCollection'
    """
    if not imgs:
        raise ValueError("concat needs at least one Image or ImageCollection")
    imgs = tuple(promote(img, IMAGERY, "concat", "imgs") for img in imgs)
    return ImageCollection._from_apply("wf.concat", *imgs)


def where(condition, x, y):
    """Pixel values from ``x`` where ``condition`` is True, else from ``y``.

    Parameters
    ----------
    condition : Image or ImageCollection
        Boolean imagery.
    x, y : Image, ImageCollection, Int or Float
        Where the values come from; masks propagate. A 1-band result is named
        ``<x or y>_where_<condition>``.

    Returns
    -------
    Image or ImageCollection
        An ImageCollection when any argument is one.

    Example
    -------
    >>> dem = wf.Image.from_id("sample:dem:santa_fe")
    >>> capped = wf.where(dem > 3000, 3000, dem)
    """
    condition = promote(condition, IMAGERY, "where", "condition")
    for name, value in (("x", x), ("y", y)):
        if imagery_operand(value) is None:
            raise argument_error("where", name, "Image, ImageCollection or a number", value)
    is_ic = any(isinstance(v, ImageCollection) for v in (condition, x, y))
    return (ImageCollection if is_ic else Image)._from_apply("wf.where", condition, x, y)


def conv2d(obj, filt: Kernel):
    """2-D spatial convolution of every band with a Kernel.

    Parameters
    ----------
    obj : Image or ImageCollection
    filt : Kernel
        Centred on element (rows // 2, cols // 2); masked pixels and pixels beyond the
        edges count as 0.

    Returns
    -------
    Same type as ``obj``
        Same shape; masked where the input is.

    Example
    -------
    >>> dem = wf.Image.from_id("sample:dem:santa_fe")
    >>> smooth = wf.conv2d(dem, wf.Kernel(dims=(3, 3), data=[1 / 9] * 9))
    """
    obj = promote(obj, IMAGERY, "conv2d", "obj")
    filt = promote(filt, Kernel, "conv2d", "filt")
    return type(obj)._from_apply("wf.conv2d", obj, filt)
