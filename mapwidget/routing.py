"""Which URL the browser uses for tiles: straight to the kernel's server, or through Jupyter.

The tile server listens on the kernel machine's 127.0.0.1. A browser on the same
machine reaches it directly; a browser elsewhere (JupyterHub, Binder, a remote
JupyterLab) cannot, so tiles go through the Jupyter server instead, with
jupyter-server-proxy's ``{base_url}proxy/{port}/`` route. The kernel itself always
talks to 127.0.0.1 (for layer registration, logs and pixel values).

The route is chosen, first match wins, from:

1. ``TILES_PUBLIC_URL`` (or :func:`set_public_url`): the base URL the browser should use,
   where ``{port}`` is replaced by the server's port, e.g.
   ``https://hub.example.org/user/me/proxy/{port}``;
2. ``JUPYTERHUB_SERVICE_PREFIX`` (set by JupyterHub and Binder for every kernel):
   ``{prefix}proxy/{port}``;
3. the page the map is shown on (ipyleaflet reports it as ``Map.window_url``): when that
   page is not on this machine, ``{jupyter base_url}proxy/{port}``;
4. otherwise the server's own URL.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import urllib.parse

import traitlets

from tiles import settings

#: Path segments that start a Jupyter front-end route; what precedes them is the base URL.
_FRONTEND_SEGMENTS = ("lab", "notebooks", "tree", "doc", "voila", "edit", "consoles", "retro")


class RouteState(traitlets.HasTraits):
    """Inputs of the route decision, as traits so layers re-route when they change."""

    #: Explicit public base URL (overrides the environment); "" means not set.
    public_url = traitlets.Unicode("")
    #: The URL of the page showing a map, as its browser reports it; "" when unknown.
    page_url = traitlets.Unicode("")


#: The process-wide route inputs; layers observe it.
state = RouteState()


@dataclasses.dataclass(frozen=True)
class Route:
    """Where the browser fetches tiles: ``public_base`` replaces ``server_base`` in URLs.

    Attributes
    ----------
    server_base : str
        The tile server's own base URL (what the kernel uses).
    public_base : str
        The base the browser uses instead.
    kind : str
        ``"direct"``, ``"jupyter-proxy"`` or ``"configured"``.
    reason : str
        Why this route was chosen, for :func:`mapwidget.diagnose`.
    """

    server_base: str
    public_base: str
    kind: str
    reason: str

    def public(self, url: str) -> str:
        """``url`` (on the server's own base) as the browser should request it.

        Parameters
        ----------
        url : str
            A URL starting with ``server_base``.

        Returns
        -------
        str
            The same URL on ``public_base`` (other URLs are returned unchanged).

        Examples
        --------
        >>> Route("http://127.0.0.1:5000", "/proxy/5000", "jupyter-proxy", "").public(
        ...     "http://127.0.0.1:5000/layers/a/1/2/3.png")
        '/proxy/5000/layers/a/1/2/3.png'
        """
        if self.public_base != self.server_base and url.startswith(self.server_base):
            return self.public_base + url[len(self.server_base) :]
        return url


def set_public_url(url: str | None) -> None:
    """Send tiles through ``url``; every layer re-routes at once.

    Parameters
    ----------
    url : str or None
        The base URL browsers reach the tile server at; ``{port}`` is replaced by the
        server's port. None goes back to detecting the route.

    Examples
    --------
    >>> set_public_url("/user/me/proxy/{port}")   # doctest: +SKIP
    """
    state.public_url = url or ""


def _is_loopback_host(host: str | None) -> bool:
    if not host or host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def jupyter_base_url(page_url: str) -> str:
    """The Jupyter server's base URL path in a front-end page URL.

    Parameters
    ----------
    page_url : str
        The URL of a JupyterLab, Notebook or Voila page.

    Returns
    -------
    str
        The path before the front end's own segment (``lab``, ``tree``, ...), ``/`` if none.

    Examples
    --------
    >>> jupyter_base_url("https://hub.example.org/user/me/lab/tree/a.ipynb")
    '/user/me/'
    >>> jupyter_base_url("http://10.0.0.5:8888/voila/render/x.ipynb")
    '/'
    """
    parts = urllib.parse.urlsplit(page_url).path.split("/")
    for i, part in enumerate(parts):
        if part in _FRONTEND_SEGMENTS:
            return "/".join(parts[:i]) + "/"
    return "/"


def _port(server_base: str) -> str:
    return str(urllib.parse.urlsplit(server_base).port or "")


def resolve(server_base: str) -> Route:
    """The route for a tile server at ``server_base`` given the current environment.

    Parameters
    ----------
    server_base : str
        The tile server's own base URL.

    Returns
    -------
    Route
        The first that applies, in the order the module describes.
    """
    port = _port(server_base)
    explicit = state.public_url or settings.PUBLIC_URL.get() or ""
    if explicit:
        origin = "set_public_url()" if state.public_url else "TILES_PUBLIC_URL"
        base = explicit.replace("{port}", port).rstrip("/")
        return Route(server_base, base, "configured", f"{origin} is {explicit!r}")
    host = urllib.parse.urlsplit(server_base).hostname
    if not _is_loopback_host(host):
        return Route(
            server_base, server_base, "direct", f"the tile server listens on {host}, not loopback"
        )
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "")
    if prefix:
        base = prefix.rstrip("/") + f"/proxy/{port}"
        return Route(
            server_base,
            base,
            "jupyter-proxy",
            f"JUPYTERHUB_SERVICE_PREFIX is {prefix!r}: the browser is not on the kernel's machine",
        )
    page = state.page_url
    page_host = urllib.parse.urlsplit(page).hostname if page else None
    if page and urllib.parse.urlsplit(page).scheme in ("http", "https"):
        if not _is_loopback_host(page_host):
            base = jupyter_base_url(page).rstrip("/") + f"/proxy/{port}"
            return Route(
                server_base,
                base,
                "jupyter-proxy",
                f"the map is shown on {page_host}, which cannot reach this kernel's 127.0.0.1",
            )
    why = (
        f"the map is shown on {page_host}, the kernel's machine"
        if page_host
        else "no proxy is configured and the browser is assumed to run on this machine"
    )
    return Route(server_base, server_base, "direct", why)
