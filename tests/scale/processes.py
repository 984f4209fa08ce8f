"""Tile server processes for the scale-out tests: ``python -m tiles serve`` in a subprocess
with its own environment, started and stopped by the tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

#: Seconds a server gets to answer /health after starting (generous: the machine is shared).
START_TIMEOUT = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServeProcess:
    """``python -m tiles serve`` on a free loopback port with extra environment variables.

    Parameters
    ----------
    env:
        Variables added to this process's environment (TILES_REGISTRY, TILES_CACHE...).
    args:
        Extra command-line arguments (``--workers 2``...).
    log:
        Where the server's output goes.
    """

    def __init__(self, env: dict[str, str], args: tuple[str, ...] = (), log: Path | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **env}
        self.args = args
        self.log = log
        self.proc: subprocess.Popen | None = None

    def start(self) -> ServeProcess:
        cmd = [sys.executable, "-m", "tiles", "serve", "--port", str(self.port), *self.args]
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        # Its own process group, so stopping it also stops any worker processes it forked.
        self.proc = subprocess.Popen(
            cmd, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=5):
                    return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited at start: {self.output()}") from None
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not answer /health: {self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log else ""

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def __enter__(self) -> ServeProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
