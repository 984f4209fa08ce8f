"""Check an installed wheel as a user would meet it, away from any source checkout.

Run with the Python of a fresh virtual environment holding the built wheel (and
playwright), from a folder outside the checkout:

    venv/bin/python /path/to/.ci/installed_wheel.py

It checks that ``tiles`` and ``mapwidget`` import from that environment, that the viewer
and the ``.proto`` files are installed as package data, then runs ``python -m tiles demo``
with its gRPC endpoint, drives the viewer in headless Chromium until it has drawn real
tiles, registers a layer over gRPC with the installed protobuf modules and fetches a tile of
it. Exits non-zero with a message on the first failure.
"""

from __future__ import annotations

import importlib.resources
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
DEADLINE = 300  # seconds for the whole check; generous for a loaded 2-core machine


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=120) as response:
        return response.status, response.headers.get("Content-Type", ""), response.read()


def check_installed_files() -> None:
    """The packages come from this environment and carry their data files."""
    import mapwidget
    import tiles

    for module in (tiles, mapwidget):
        where = Path(module.__file__).resolve()
        if not where.is_relative_to(Path(sys.prefix).resolve()):
            sys.exit(f"{module.__name__} imported from {where}, not from the installed wheel")
    viewer = importlib.resources.files("tiles.server") / "viewer"
    for name in ("index.html", "viewer.js", "viewer.css", "vendor/leaflet/leaflet.js"):
        if not (viewer / name).is_file():
            sys.exit(f"the wheel lacks the viewer's {name}")
    protos = [p.name for p in importlib.resources.files("tiles.grpc.protos").iterdir()]
    if "xyz.proto" not in protos or "types.proto" not in protos:
        sys.exit(f"the wheel lacks the .proto files: {sorted(protos)}")


def start_demo(workdir: Path) -> tuple[subprocess.Popen, str, int]:
    """``python -m tiles demo`` with its gRPC endpoint, on free loopback ports."""
    port, grpc_port = _free_port(), _free_port()
    env = {**os.environ, "TILES_CATALOG": str(workdir / "catalog.sqlite")}
    server = subprocess.Popen(
        [sys.executable, "-m", "tiles", "demo", "--port", str(port), "--grpc-port", str(grpc_port)],
        cwd=workdir,
        env=env,
        stdout=LOG,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    while time.monotonic() < START + DEADLINE:
        if server.poll() is not None:
            sys.exit(f"the demo server exited with {server.returncode}")
        try:
            if _get(base + "/health")[0] == 200:
                return server, base, grpc_port
        except OSError:
            time.sleep(0.5)
    sys.exit("the demo server did not answer /health")


def check_viewer(base: str) -> None:
    """The viewer page loads the demo's layers and draws PNG tiles with content."""
    from PIL import Image
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1000, "height": 700})
        responses = []

        def on_response(response):
            if "/layers/" in response.url and ".png" in response.url:
                responses.append(response)

        page.on("response", on_response)
        page.goto(base + "/")
        page.wait_for_selector("#layers li.selected", timeout=DEADLINE * 1000)
        names = page.inner_text("#layers")
        # The selected layer's status line says how many tiles loaded once all have answered.
        page.wait_for_function(
            """() => {
                const s = document.querySelector("#layers li.selected .layer-status");
                return s && /^\\d+ (of \\d+ )?tiles (loaded|failed)/.test(s.textContent);
            }""",
            timeout=DEADLINE * 1000,
        )
        page.remove_listener("response", on_response)
        statuses = [r.status for r in responses]
        drawn = [r.body() for r in responses if r.status == 200]
        browser.close()
    if "NDVI" not in names:
        sys.exit(f"the viewer does not list the demo's layers: {names!r}")
    if not drawn:
        sys.exit(f"the viewer got no tiles: {statuses}")
    alpha = [Image.open(io.BytesIO(body)).convert("RGBA").getchannel("A") for body in drawn]
    if not any(a.getextrema()[1] > 0 for a in alpha):
        sys.exit("every tile the viewer drew is empty")


def check_grpc(base: str, grpc_port: int) -> None:
    """A layer registered through the installed ``.proto`` modules serves a tile."""
    import grpc
    import mercantile

    from tiles.grpc.protos import typespec_pb2, xyz_pb2, xyz_pb2_grpc

    graft = {
        "0": "sample:s2:20230714_z13",
        "1": ["wf.Image.load", "0"],
        "2": "red",
        "3": ["wf.pick_bands", "1", "2"],
        "returns": "3",
    }
    request = xyz_pb2.CreateXYZRequest(
        serialized_graft=json.dumps(graft),
        typespec=typespec_pb2.Typespec(type="Image"),
        name="installed",
        channel="v0-19",
        client_version="1.12.1",
    )
    with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        xyz = xyz_pb2_grpc.XYZAPIStub(channel).CreateXYZ(request, timeout=120)
    tile = mercantile.tile(-105.78, 35.70, 12)
    url = xyz.url_template.format(z=tile.z, x=tile.x, y=tile.y)
    status, ctype, body = _get(url + ("&" if "?" in url else "?") + "session_id=ci")
    if status != 200 or ctype != "image/png" or not body.startswith(b"\x89PNG"):
        sys.exit(f"the gRPC layer's tile {url} answered {status} {ctype}")


START = time.monotonic()
LOG = tempfile.TemporaryFile()  # the demo server's output, shown when a check fails


def main() -> None:
    check_installed_files()
    with tempfile.TemporaryDirectory() as tmp:
        server, base, grpc_port = start_demo(Path(tmp))
        try:
            check_viewer(base)
            check_grpc(base, grpc_port)
        except BaseException:
            LOG.seek(0)
            sys.stderr.write(LOG.read().decode(errors="replace")[-6000:])
            raise
        finally:
            server.terminate()
            server.wait(timeout=60)
    print("installed wheel: viewer and gRPC endpoint OK")


if __name__ == "__main__":
    main()
