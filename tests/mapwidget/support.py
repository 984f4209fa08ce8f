"""Shared inputs of the map tests: a sample NDVI composite and the tile over it, headless
Chromium (Debian's build, launched for a closed network) for the browser tests, and notebook
kernels and JupyterLab on 127.0.0.1 for the end-to-end ones.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
import pytest

import tiles as wf
from tests.support import free_port

if TYPE_CHECKING:
    from playwright.sync_api import Page

#: A zoom-10 tile (z, x, y) over Santa Fe, inside the sample scenes.
TILE = (10, 210, 403)


def ndvi_image() -> wf.Image:
    """The median NDVI of the sample Sentinel-2 scenes through 2023."""
    s2 = wf.ImageCollection.from_id("sample:s2", "2023-01-01", "2024-01-01")
    red, nir = s2.unpack_bands("red nir")
    return ((nir - red) / (nir + red)).median(axis="images")


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: Headless, no sandbox (tests run as root), and no background traffic to outside hosts.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")


# -- notebooks in kernels and in JupyterLab ------------------------------------------------

#: Milliseconds to wait for JupyterLab, the kernel and tiles (they compute on first use).
WAIT_MS = 240_000

#: IPython startup code for kernels when the installed tiles package does not route its
#: interactive names (map, widgets, interactive) itself.
ROUTE_INTERACTIVE = """\
import tiles, mapwidget
if "__getattr__" not in vars(tiles):
    tiles.__getattr__ = mapwidget.tiles_attribute
"""


def kernel_env(tmp_path: Path) -> dict[str, str]:
    """Environment for notebook kernels: this Python, the test catalog, interactive names."""
    env = dict(os.environ)
    if "__getattr__" not in vars(wf):
        ipython_dir = tmp_path / "ipython"
        startup = ipython_dir / "profile_default" / "startup"
        startup.mkdir(parents=True)
        (startup / "00-tiles-interactive.py").write_text(ROUTE_INTERACTIVE)
        env["IPYTHONDIR"] = str(ipython_dir)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def write_notebook(path: Path, cells: list[str]) -> Path:
    """A notebook of code ``cells`` for the python3 kernel, written to ``path``."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3"}}
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    nbformat.write(nb, path)
    return path


class JupyterLab:
    """A JupyterLab server on 127.0.0.1 in its own process; stopped on leaving a ``with``."""

    def __init__(self, root: Path, base_url: str, env: dict[str, str]) -> None:
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.base_url = base_url
        home = root / "home"
        home.mkdir()
        env = dict(env)
        env.update(
            HOME=str(home),
            JUPYTER_CONFIG_DIR=str(home / "config"),
            JUPYTER_RUNTIME_DIR=str(home / "runtime"),
            JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        )
        cmd = [
            sys.executable, "-m", "jupyterlab", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0", "--allow-root", f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={root}", f"--ServerApp.base_url={base_url}",
            "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        self.log: list[str] = []
        ready = threading.Event()

        def read() -> None:
            for line in self.proc.stderr:
                self.log.append(line)
                if f"127.0.0.1:{self.port}" in line:  # the "is running at" address
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        ready.wait(WAIT_MS / 1000)
        if self.proc.poll() is not None or not any(f":{self.port}" in x for x in self.log):
            self.stop()
            raise RuntimeError("JupyterLab did not start:\n" + "".join(self.log[-40:]))

    def __enter__(self) -> JupyterLab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.origin}{self.base_url}{path}?token={self.token}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@contextlib.contextmanager
def chromium_page(profile: Path, width: int, height: int) -> Iterator[Page]:
    """A page of headless Chromium with its own profile folder, closed on leaving."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": width, "height": height},
        )
        try:
            yield context.new_page()
        finally:
            context.close()


def is_tile(url: str) -> bool:
    """Whether ``url`` is a map tile of a registered layer."""
    return re.search(r"/layers/[0-9a-zA-Z_-]+/\d+/\d+/\d+\.png", url) is not None
