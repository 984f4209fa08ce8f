"""Exception types shared by every layer of the package, and the one table of their statuses.

Each type survives pickling with its message and attributes, also as dask.distributed sends
it (through tblib), so an error raised on a Dask worker reaches the client as itself.

Every endpoint (HTTP handlers, ``/jobs``, the gRPC servicer) answers an exception with the
status :func:`status_of` gives and a body built by :func:`error_body`, so an error means the
same thing wherever it surfaces. Exceptions defined in higher layers subclass one of the
types here to pick their row.
"""

from __future__ import annotations

import dataclasses
import re
import sqlite3


class WorkflowsError(Exception):
    """Base class of every error raised by tiles."""

    def __reduce__(self) -> tuple:
        # The same as BaseException's, but defined here: tblib (which dask.distributed uses
        # to send a worker's exceptions) then rebuilds these errors by calling their class,
        # not by copying attributes, which would leave a SyntaxError's message None.
        return (type(self), self.args, self.__dict__ or None)


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
    message : str
        What is wrong, naming the option and the value.
    option : str, optional
        The option at fault, e.g. ``"scales"``.
    value : object, optional
        The value given for it.
    """

    def __init__(self, message: str, option: str | None = None, value: object = None) -> None:
        super().__init__(message)
        self.option = option
        self.value = value

    def __reduce__(self) -> tuple:
        return (type(self), (str(self), self.option, self.value))


class NotFoundError(WorkflowsError, LookupError):
    """A product, image, band, layer or workflow does not exist."""


class DataError(WorkflowsError, OSError):
    """Source data could not be read (a file is missing or unreadable)."""


class UnavailableError(DataError):
    """A catalog, remote source or work queue is busy or not answering; a retry may succeed.

    ``retry_after`` is the number of seconds a client should wait first.
    """

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class GeoContextError(WorkflowsError, ValueError):
    """A GeoContext is missing, incomplete or invalid for the requested work."""


class ResourceLimitError(WorkflowsError):
    """A request needs more work than the server allows (say, too many images in one tile)."""


class TooManyRequestsError(WorkflowsError):
    """Too much work is outstanding; wait for some of it to finish."""


class ConflictError(WorkflowsError):
    """A request conflicts with what is stored (say, a version published with another graph)."""


class AuthenticationError(WorkflowsError):
    """A request's credentials are missing or wrong."""


class MediaTypeError(WorkflowsError):
    """A request body is not of the media type the endpoint reads (JSON)."""


class ForbiddenError(WorkflowsError):
    """A request is not allowed from where it came (another web origin, a wrong Host)."""


class WorkCancelledError(WorkflowsError):
    """Work stopped because it was cancelled or nobody waits for its result any more."""


class JobTimeoutError(WorkflowsError, TimeoutError):
    """A computation did not finish within its timeout."""


class EmptyResultWarning(UserWarning):
    """A computation will come out empty in a way that is probably a mistake.

    Reversed dates, no images in the date range, or a GeoContext outside every image:
    the result is empty without an error, so this says why.
    """


@dataclasses.dataclass(frozen=True)
class Status:
    """How an exception is answered: HTTP status, gRPC status code name, Retry-After seconds."""

    http: int
    grpc: str
    retry_after: int | None = None


#: The one exception -> status table; the first row whose type matches wins.
STATUSES: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], Status], ...] = (
    (AuthenticationError, Status(401, "UNAUTHENTICATED")),
    (ForbiddenError, Status(403, "PERMISSION_DENIED")),
    (NotFoundError, Status(404, "NOT_FOUND")),
    (ConflictError, Status(409, "FAILED_PRECONDITION")),
    (MediaTypeError, Status(415, "INVALID_ARGUMENT")),
    ((ResourceLimitError, MemoryError), Status(413, "RESOURCE_EXHAUSTED")),
    (TooManyRequestsError, Status(429, "RESOURCE_EXHAUSTED", retry_after=5)),
    (UnavailableError, Status(503, "UNAVAILABLE", retry_after=1)),
    # A store's SQLite file is locked by another process (or unreadable) for too long.
    (sqlite3.OperationalError, Status(503, "UNAVAILABLE", retry_after=5)),
    (JobTimeoutError, Status(504, "DEADLINE_EXCEEDED", retry_after=5)),
    (WorkCancelledError, Status(499, "CANCELLED")),
    # Deep JSON or grafts exhaust the interpreter's stack: the input's fault, not the server's.
    (
        (GraftError, ParameterError, GeoContextError, ProxyTypeError, RecursionError),
        Status(400, "INVALID_ARGUMENT"),
    ),
)
INTERNAL = Status(500, "INTERNAL")

#: Longest error message sent to a client (the full text goes to the server log).
MAX_MESSAGE_CHARS = 500


def status_of(exc: BaseException) -> Status:
    """The status answering ``exc``: the first matching row of :data:`STATUSES`, else 500.

    Parameters
    ----------
    exc:
        The exception a request raised.

    Returns
    -------
    Status
        HTTP status, gRPC code name and Retry-After seconds (the exception's own
        ``retry_after`` when it has one).

    Example
    -------
    >>> status_of(NotFoundError("no layer 'x'")).http
    404
    """
    for types, status in STATUSES:
        if isinstance(exc, types):
            retry = getattr(exc, "retry_after", None)
            if retry is not None:
                return dataclasses.replace(status, retry_after=int(retry))
            return status
    return INTERNAL


def describe(exc: BaseException) -> str:
    """A one-line message for ``exc``, at most :data:`MAX_MESSAGE_CHARS` long.

    Example
    -------
    >>> describe(ValueError())
    'ValueError'
    """
    if isinstance(exc, RecursionError):
        text = "the request is nested too deeply"
    else:
        text = str(exc) or type(exc).__name__
    text = " ".join(text.split())
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[: MAX_MESSAGE_CHARS - 3] + "..."
    return text


_ABSOLUTE_PATH = re.compile(r"(?<![\w:/.~-])/(?:[^\s'\"/,;()\[\]]+/)+([^\s'\"/,;()\[\]]*)")


def without_paths(text: str) -> str:
    """``text`` with absolute file paths cut to their last part (``.../name``).

    Messages shown to anonymous tile clients must not reveal the server's file layout.

    Example
    -------
    >>> without_paths("cannot read raster /srv/data/a.tif")
    'cannot read raster .../a.tif'
    """
    return _ABSOLUTE_PATH.sub(lambda m: ".../" + m.group(1), text)


def error_body(exc: BaseException, status: Status | None = None, public: bool = False) -> dict:
    """The JSON body of every error answer: ``{"error", "error_type", "status"}``.

    Parameters
    ----------
    exc:
        The exception being answered.
    status:
        Its status (default :func:`status_of`).
    public:
        True for answers anonymous clients read: absolute file paths are removed.

    Returns
    -------
    dict
        ``error`` (message), ``error_type`` (the exception's class name), ``status`` (HTTP).
    """
    message = describe(exc)
    return {
        "error": without_paths(message) if public else message,
        "error_type": type(exc).__name__,
        "status": (status or status_of(exc)).http,
    }
