"""Who may change the server's state over HTTP, and from which web pages.

Tiles, TileJSON, values and other reads of public layers are readable from any web page
(maps on other sites need that). Requests that change state (registering or deleting a
layer, ``/jobs``, ``/workflows``) must come from a program, this server's own pages, or an
origin the operator listed (``--allow-origin``): a browser always names the page's origin
in ``Origin``, so a page elsewhere cannot drive a server on ``127.0.0.1``. A server on a
loopback address also answers such requests only when they name it in ``Host`` (a
loopback name, or the host of its public URL or of an allowed origin), which defeats DNS
rebinding; and their bodies must be ``application/json``, which no page can send to
another site without asking first.

Example
-------
>>> policy = AccessPolicy.for_address("127.0.0.1", allow_origins=["https://maps.example.org"])
>>> policy.origin_allowed("https://maps.example.org", "127.0.0.1:8000", "http")
True
>>> policy.origin_allowed("https://evil.example.com", "127.0.0.1:8000", "http")
False
"""

from __future__ import annotations

import dataclasses
import hmac
import ipaddress
import urllib.parse
from collections.abc import Iterable

from tiles.errors import AuthenticationError, ForbiddenError, MediaTypeError

#: Host names that always mean this machine.
LOOPBACK_NAMES = frozenset({"localhost", "ip6-localhost", "127.0.0.1", "::1"})


def _host_name(host_header: str) -> str:
    """The name in a ``Host`` header, without port or brackets, lower case."""
    host = host_header.strip().lower()
    if host.startswith("["):  # [::1]:8000
        return host[1 : host.find("]")] if "]" in host else host[1:]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host


def _is_loopback_name(name: str) -> bool:
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def normalize_origin(origin: str) -> str:
    """``scheme://host[:port]`` of an origin or URL, lower case, default ports left out.

    Example
    -------
    >>> normalize_origin("HTTPS://Maps.Example.org:443/path")
    'https://maps.example.org'
    """
    parts = urllib.parse.urlsplit(origin.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is None or (scheme, port) in (("http", 80), ("https", 443)):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


@dataclasses.dataclass(frozen=True)
class AccessPolicy:
    """The token and the origins and host names state-changing requests are accepted from.

    Parameters
    ----------
    token:
        The server's token, if it has one.
    require_token:
        Whether state changes (and reading jobs and workflows) need the token.
    allow_origins:
        Web origins (``https://maps.example.org``) whose pages may change state.
    hosts:
        Host names requests that change state must name; None accepts any (a server
        listening beyond loopback, where the token protects it).
    """

    token: str | None = None
    require_token: bool = False
    allow_origins: frozenset[str] = frozenset()
    hosts: frozenset[str] | None = LOOPBACK_NAMES

    @classmethod
    def for_address(
        cls,
        host: str,
        token: str | None = None,
        require_token: bool | None = None,
        allow_origins: Iterable[str] = (),
        public_url: str | None = None,
        loopback: bool | None = None,
    ) -> AccessPolicy:
        """The policy of a server bound to ``host``.

        Parameters
        ----------
        host:
            The bound address.
        token, allow_origins:
            As for the class.
        require_token:
            Default: when the server listens beyond loopback.
        public_url:
            The URL browsers reach the server at; its host name is accepted in ``Host``.
        loopback:
            Whether ``host`` is a loopback address (default: judged from its name).

        Returns
        -------
        AccessPolicy

        Raises
        ------
        ValueError
            For an allowed origin or public URL that is not ``http(s)://host[:port]``.
        """
        # The public URL's own pages count as this server's (behind a proxy the scheme and
        # host a browser sees are not those the server sees).
        public = [public_url] if public_url and "://" in public_url else []
        for origin in [*allow_origins, *public]:
            try:
                parts = urllib.parse.urlsplit(origin.strip())
                valid = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
                parts.port  # noqa: B018 - raises for a port beyond 65535
            except ValueError:
                valid = False
            if not valid:
                raise ValueError(
                    f"{origin!r} is not an http(s)://host[:port] URL, so no page would match it"
                )
        origins = frozenset(normalize_origin(o) for o in [*allow_origins, *public] if o)
        if loopback is None:
            loopback = _is_loopback_name(host.lower())
        if require_token is None:
            require_token = not loopback
        hosts: frozenset[str] | None = None
        if loopback:
            names = set(LOOPBACK_NAMES) | {host.lower()}
            for url in (public_url, *origins):
                if url and "://" in url:
                    name = urllib.parse.urlsplit(url).hostname
                    if name:
                        names.add(name.lower())
            hosts = frozenset(names)
        return cls(token or None, bool(require_token), origins, hosts)

    def check_host(self, host_header: str) -> None:
        """Refuse a request naming a host this server does not answer to (DNS rebinding)."""
        if self.hosts is None:
            return
        name = _host_name(host_header or "")
        if name not in self.hosts and not _is_loopback_name(name):
            raise ForbiddenError(
                f"this server does not answer to Host {host_header[:100]!r}; use "
                "http://127.0.0.1:PORT, or start it with --public-url naming this host"
            )

    def origin_allowed(self, origin: str | None, host_header: str, scheme: str) -> bool:
        """Whether a request from ``origin`` may change state (no origin: not a browser)."""
        if not origin:
            return True
        if origin == "null":  # sandboxed frames and local files
            return False
        own = normalize_origin(f"{scheme}://{host_header}")
        wanted = normalize_origin(origin)
        return wanted == own or wanted in self.allow_origins

    def check_origin(self, origin: str | None, host_header: str, scheme: str) -> None:
        """Refuse state changes from other sites' pages."""
        if not self.origin_allowed(origin, host_header, scheme):
            raise ForbiddenError(
                f"requests from pages at {origin[:100]!r} may not change this server's state; "
                "start the server with --allow-origin to let that site"
            )

    @staticmethod
    def check_json(content_type: str | None, has_body: bool) -> None:
        """Refuse a body that is not JSON (forms and text are what other pages can send)."""
        if not has_body:
            return
        kind = (content_type or "").split(";", 1)[0].strip().lower()
        if kind != "application/json":
            raise MediaTypeError(
                f"request bodies must be JSON sent as 'Content-Type: application/json', not "
                f"{kind[:80] or 'no content type'!r}"
            )

    def check_token(self, authorization: str, query_token: str) -> None:
        """Refuse a request without the server's token, when one is required.

        Tokens are compared as UTF-8 bytes (``compare_digest`` refuses non-ASCII text).
        """
        if not self.require_token:
            return
        given = authorization[7:] if authorization.startswith("Bearer ") else query_token
        if not (
            self.token
            and given
            and hmac.compare_digest(given.encode("utf-8", "replace"), self.token.encode("utf-8"))
        ):
            raise AuthenticationError(
                "this server needs a token: send 'Authorization: Bearer <token>'"
            )
