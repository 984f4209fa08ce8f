"""Exception types shared by every layer of the package."""

from __future__ import annotations


class WorkflowsError(Exception):
    """Base class of every error raised by tiles."""


class ProxyTypeError(WorkflowsError, TypeError):
    """An operation on proxy objects is not valid for their types (known before computing)."""


class GraftError(WorkflowsError):
    """Base class of errors found while evaluating a graft."""


class GraftSyntaxError(GraftError, SyntaxError):
    """A graft is not well-formed JSON graph language."""


class GraftNameError(GraftError, NameError):
    """A graft refers to a key, parameter or builtin that does not exist."""


class GraftTypeError(GraftError, TypeError):
    """A builtin or function in a graft was called with the wrong arguments."""


class ParameterError(WorkflowsError, ValueError):
    """A parameter value is missing, unexpected, or of the wrong type."""


class DisplayOptionError(ParameterError):
    """A display option (scales, colormap, reduction, checkerboard) is invalid.

    Parameters
    ----------
    option : str
        The option at fault, e.g. ``"scales"``.
    value : object
        The value given for it.
    message : str
        What is wrong, naming the option and the value.
    """

    def __init__(self, option: str, value: object, message: str) -> None:
        super().__init__(message)
        self.option = option
        self.value = value

    def __reduce__(self) -> tuple:
        return (type(self), (self.option, self.value, str(self)))


class NotFoundError(WorkflowsError, LookupError):
    """A product, image, band, layer or workflow does not exist."""


class DataError(WorkflowsError, OSError):
    """Source data could not be read (a file is missing or unreadable)."""


class GeoContextError(WorkflowsError, ValueError):
    """A GeoContext is missing, incomplete or invalid for the requested work."""


class ResourceLimitError(WorkflowsError):
    """A request needs more work than the server allows (say, too many images in one tile)."""


class JobTimeoutError(WorkflowsError, TimeoutError):
    """A computation did not finish within its timeout."""
