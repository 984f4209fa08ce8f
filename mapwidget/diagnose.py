"""``wf.interactive.diagnose()``: which route tiles take to the browser, and what may block them."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
from typing import Any

from mapwidget import routing
from tiles import settings
from tiles.compute.http import ApiClient
from tiles.errors import WorkflowsError

#: Seconds to wait for the tile server's ``/health``.
HEALTH_TIMEOUT = 5


@dataclasses.dataclass
class Diagnosis:
    """What :func:`diagnose` found; ``str()`` of it is a readable report.

    Attributes
    ----------
    server_url : str
        The tile server layers are registered on (kernel side).
    server_ok : bool
        Whether it answered ``/health``.
    server_message : str
        Its answer, or why there was none.
    route : routing.Route
        How the browser reaches it, and why.
    environment : list of str
        Settings found that affect the route.
    hints : list of str
        What to try when tiles do not show.
    layers : list of str
        One line per layer of the map: state, tile URL, last message.
    """

    server_url: str
    server_ok: bool
    server_message: str
    route: routing.Route
    environment: list[str]
    hints: list[str]
    layers: list[str]

    def __str__(self) -> str:
        """The report, one finding per line."""
        lines = [
            f"tile server (kernel side): {self.server_url} - {self.server_message}",
            f"route to the browser: {self.route.kind} -> {self.route.public_base}",
            f"  because {self.route.reason}",
        ]
        if self.environment:
            lines.append("environment: " + "; ".join(self.environment))
        lines += [f"layer {line}" for line in self.layers]
        lines += [f"hint: {h}" for h in self.hints]
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


#: Variables that say which notebook host this is (each routes browser requests its own way).
NOTEBOOK_HOSTS = (
    "JUPYTERHUB_SERVICE_PREFIX",
    "BINDER_SERVICE_HOST",
    "VSCODE_PID",
    "COLAB_RELEASE_TAG",
)


def _environment() -> list[str]:
    found = [
        f"{setting.name}={setting.get()}"
        for setting in (settings.PUBLIC_URL, settings.SERVER_URL)
        if setting.is_set()
    ]
    found += [f"{var}={os.environ[var]}" for var in NOTEBOOK_HOSTS if os.environ.get(var)]
    if routing.state.page_url:
        found.append(f"map page {routing.state.page_url}")
    return found


def _check_server(base: str) -> tuple[bool, str]:
    try:
        health = ApiClient(base, timeout=HEALTH_TIMEOUT).json("GET", "/health")
        return True, f"answering ({health.get('status', 'ok')})"
    except (WorkflowsError, OSError, ValueError, AttributeError) as exc:
        # OSError: a timeout while reading; the others: an answer that is not /health's.
        return False, f"not answering: {exc}"


def _layer_lines(map_app: Any) -> list[str]:
    from mapwidget.layer import WorkflowsLayer

    lines = []
    for lyr in getattr(map_app, "layers", ()):
        if not isinstance(lyr, WorkflowsLayer):
            continue
        state = "hidden" if not lyr.visible else ("no URL" if not lyr.url else "ok")
        line = f"{lyr.name!r}: {state}"
        if lyr.url:
            line += f", tiles at {lyr.url.split('?', 1)[0]}"
        if lyr.log_messages:
            line += f"; last message: {lyr.log_messages[-1]}"
        lines.append(line)
    return lines


def diagnose(map: Any = None) -> Diagnosis:  # noqa: A002
    """Say where the tile server is, how the browser reaches it and why tiles may not show.

    Parameters
    ----------
    map : MapApp or Map, optional
        The map whose layers are reported (default ``wf.map``).

    Returns
    -------
    Diagnosis

    Examples
    --------
    >>> print(wf.interactive.diagnose())     # doctest: +SKIP
    """
    from mapwidget.app import get_map
    from tiles.server.client import server_url

    base = server_url()
    ok, message = _check_server(base)
    route = routing.resolve(base)
    hints = []
    if not ok:
        hints.append("the kernel cannot reach the tile server; restart the kernel")
    if route.kind == "jupyter-proxy":
        if importlib.util.find_spec("jupyter_server_proxy") is None:
            hints.append(
                "this route needs jupyter-server-proxy in the Jupyter server's environment "
                "(pip install jupyter-server-proxy, then restart Jupyter)"
            )
        hints.append(
            f"open {route.public_base}/health in a browser tab of this Jupyter: it should "
            'answer {"status": "ok"}; if not, set TILES_PUBLIC_URL to a URL that reaches '
            "the kernel machine's tile server"
        )
    elif route.kind == "direct" and os.environ.get("VSCODE_PID"):
        hints.append(
            "in VS Code connected to a remote machine, forward the tile server's port or set "
            "TILES_PUBLIC_URL"
        )
    elif route.kind == "direct" and not routing.state.page_url:
        hints.append(
            "if the browser runs on another machine than this kernel, tiles cannot load from "
            f"{base}: set TILES_PUBLIC_URL, e.g. to '<jupyter base url>proxy/{{port}}' with "
            "jupyter-server-proxy installed"
        )
    target = map if map is not None else get_map()
    return Diagnosis(base, ok, message, route, _environment(), hints, _layer_lines(target))
