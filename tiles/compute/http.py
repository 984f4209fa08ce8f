"""One HTTP client for the tile server's API: a base URL, a bearer token, JSON in and out.

Everything in the package that talks to a tile server goes through :class:`ApiClient`:
computing and publishing after ``wf.connect`` (:mod:`tiles.compute.remote`) and
registering map layers (:mod:`tiles.server.client`). A server's error answer comes back as
this package's exception: the class the answer names in ``error_type`` when it is one of
ours, else one chosen by status (400 :class:`~tiles.errors.ParameterError`, 404
:class:`~tiles.errors.NotFoundError`, anything else :class:`~tiles.errors.WorkflowsError`).

>>> client = ApiClient("http://127.0.0.1:8000")                 # doctest: +SKIP
>>> client.json("GET", "/health")["status"]                      # doctest: +SKIP
'ok'
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from tiles import settings
from tiles.errors import NotFoundError, ParameterError, WorkflowsError

#: Seconds to wait for one HTTP answer.
HTTP_TIMEOUT = 60
#: The exception for an error answer that names no class of this package.
_BY_STATUS: dict[int, type[WorkflowsError]] = {400: ParameterError, 404: NotFoundError}


def _package_error(name: Any) -> type[WorkflowsError] | None:
    """The loaded exception class of this package called ``name``, if any."""
    pending = [WorkflowsError]
    while pending:
        cls = pending.pop()
        if cls.__name__ == name:
            return cls
        pending.extend(cls.__subclasses__())
    return None


def error_from_json(
    answer: Mapping[str, Any], fallback: str = "", status: int | None = None
) -> WorkflowsError:
    """The exception a server reported in an error answer (or a failed job's record).

    Parameters
    ----------
    answer : mapping
        The answer's ``error`` (message) and optional ``error_type`` (class name).
    fallback : str
        The message when the answer has none.
    status : int, optional
        The HTTP status, which chooses the class when ``error_type`` names none of ours.

    Returns
    -------
    WorkflowsError
        An instance of the named class, else of the class for ``status``.
    """
    message = answer.get("error") or fallback
    cls = _package_error(answer.get("error_type"))
    if cls is None and status is not None and status not in _BY_STATUS:
        message = f"tile server answered {status}: {message}"
    cls = cls or _BY_STATUS.get(status, WorkflowsError)
    try:
        return cls(message)
    except TypeError:  # a class whose constructor takes more than a message
        return WorkflowsError(message)


class ApiClient:
    """A tile server's JSON API at ``url``.

    Parameters
    ----------
    url : str
        The server's base URL, such as ``http://127.0.0.1:8000``.
    token : str, optional
        Sent as ``Authorization: Bearer``; default ``TILES_TOKEN`` (see
        :mod:`tiles.settings`), read at each request.
    timeout : float
        Seconds to wait for each answer.
    """

    def __init__(self, url: str, token: str | None = None, timeout: float = HTTP_TIMEOUT) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    def request(self, method: str, path: str, body: Any = None) -> tuple[bytes, str]:
        """Send one request and return the answer's bytes and content type.

        Parameters
        ----------
        method : str
            ``GET``, ``POST``, ``DELETE``, ...
        path : str
            Appended to the base URL, starting with ``/`` (query included).
        body : object, optional
            Sent as JSON.

        Returns
        -------
        (bytes, str)

        Raises
        ------
        WorkflowsError
            The server's error as one of this package's exceptions (see
            :func:`error_from_json`), or naming the server when it cannot be reached.
        """
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        token = self.token or settings.TOKEN.get()
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return resp.read(), resp.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                answer = json.loads(raw)
            except ValueError:
                answer = None
            if not isinstance(answer, dict):
                answer = {"error": raw.decode("utf-8", "replace")[:500] or exc.reason}
            raise error_from_json(answer, str(exc.reason), exc.code) from None
        except urllib.error.URLError as exc:
            raise WorkflowsError(
                f"cannot reach the tile server at {self.url}: {exc.reason}"
            ) from None

    def json(self, method: str, path: str, body: Any = None) -> Any:
        """Like :meth:`request`, with the answer decoded from JSON (empty: None)."""
        raw, _ = self.request(method, path, body)
        return json.loads(raw or b"null")
