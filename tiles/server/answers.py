"""How every HTTP answer that is not a success is written, and the access log.

Every handler of the server derives from :class:`JSONErrors`, so any exception it raises
is answered with the status :func:`tiles.errors.status_of` gives and the one JSON body of
:func:`tiles.errors.error_body`; unknown URLs and static files answer the same way. The
access log never shows a ``token=`` value.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import tornado.web

from tiles.errors import NotFoundError, error_body, status_of

logger = logging.getLogger(__name__)

access_log = logging.getLogger("tornado.access")
#: Longest request URI written to the access log.
MAX_LOGGED_URI = 300
_TOKEN_IN_QUERY = re.compile(r"(?i)([?&]token=)[^&#]*")


def log_request(handler: tornado.web.RequestHandler) -> None:
    """One access-log line per request, with any ``token=`` value blanked out."""
    status = handler.get_status()
    level = logging.INFO if status < 400 else logging.WARNING if status < 500 else logging.ERROR
    if access_log.isEnabledFor(level):
        request = handler.request
        uri = _TOKEN_IN_QUERY.sub(r"\1***", request.uri or "")
        if len(uri) > MAX_LOGGED_URI:  # one request must not flood the log
            uri = uri[:MAX_LOGGED_URI] + f"...({len(uri)} characters)"
        access_log.log(
            level,
            "%d %s %s (%s) %.2fms",
            status,
            request.method,
            uri,
            request.remote_ip,
            1000.0 * request.request_time(),
        )


class JSONErrors(tornado.web.RequestHandler):
    """Every error answered with its status from :data:`tiles.errors.STATUSES` and one body."""

    #: True where anonymous clients read the answers: error messages lose file paths.
    public_errors = False

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Answer any exception with its status from the table and the one JSON error body."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if exc is None or isinstance(exc, tornado.web.HTTPError):
            # Tornado's own refusals (unknown route, method not allowed, malformed request).
            body = {"error": self._reason, "error_type": "HTTPError", "status": status_code}
        else:
            status = status_of(exc)
            self.set_status(status.http)
            if status.retry_after is not None:
                self.set_header("Retry-After", str(status.retry_after))
            body = error_body(exc, status, public=self.public_errors)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(body))

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        """Log server faults with their traceback; refusals and busy answers need one line."""
        if value is not None and not isinstance(value, tornado.web.HTTPError):
            status = status_of(value).http
            if status != 500:
                level = logging.DEBUG if status < 500 else logging.WARNING
                path = self.request.path[:MAX_LOGGED_URI]
                logger.log(level, "%s %s: %d %s", self.request.method, path, status, value)
                return
        super().log_exception(typ, value, tb)


class NotFoundHandler(JSONErrors):
    """What unknown URLs get: a 404 in the same JSON shape as every other error."""

    def prepare(self) -> None:
        """Answer every request with a 404 naming the path."""
        raise NotFoundError(f"no such endpoint: {self.request.path[:200]}")


class StaticHandler(JSONErrors, tornado.web.StaticFileHandler):
    """The viewer's files, with errors in the same JSON shape."""
