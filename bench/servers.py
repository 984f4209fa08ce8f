"""The two servers the benchmarks compare, each in its own process, and a keep-alive client.

* :class:`TilesServer` runs ``python -m tiles serve`` from this checkout on a catalog of the
  benchmark scenes;
* :class:`TiTiler` runs titiler.core (one COG) and titiler.mosaic (a MosaicJSON of all the
  scenes, for the per-pixel median) on uvicorn, from the venv ``make_titiler_venv.sh`` makes,
  with the GDAL settings TiTiler's documentation recommends;
* :func:`fetch_all` fetches URLs over persistent connections at a given concurrency.

Both servers are started fresh for every cold measurement and stopped after it.
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

TITILER_APP = """
from cogeo_mosaic.backends import FileBackend
from fastapi import FastAPI
from titiler.core.factory import TilerFactory
from titiler.mosaic.factory import MosaicTilerFactory

app = FastAPI()
app.include_router(TilerFactory().router, prefix="/cog")
app.include_router(MosaicTilerFactory(backend=FileBackend).router, prefix="/mosaic")
"""

#: TiTiler's documented performance settings (its "Performance tuning" page).
TITILER_ENV = {
    "GDAL_CACHEMAX": "200",
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "GDAL_HTTP_MERGE_CONSECUTIVE_RANGES": "YES",
    "GDAL_HTTP_MULTIPLEX": "YES",
    "VSI_CACHE": "TRUE",
    "VSI_CACHE_SIZE": "5000000",
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Process:
    """A server subprocess on 127.0.0.1:``port``; ready once ``ready_path`` answers 200."""

    name = "server"

    def __init__(self, argv: Sequence[str], env: dict, cwd: Path, ready_path: str) -> None:
        self.port = free_port()
        argv = [a.replace("{port}", str(self.port)) for a in argv]
        self.proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{argv[0]} exited with {self.proc.returncode}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", ready_path)
                if conn.getresponse().status == 200:
                    conn.close()
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{argv} did not start")
            time.sleep(0.1)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pids(self) -> list[int]:
        """The server's processes: its whole process group (forked workers included).

        The server starts in a session of its own, so its group id is its pid.
        """
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # ended meanwhile
            if int(fields[2]) == self.proc.pid:
                pids.append(int(stat.parent.name))
        return pids

    def pss_mb(self) -> float:
        """The memory the server's process group holds, in MiB: the sum of its processes'
        proportional set sizes (PSS, ``/proc/PID/smaps_rollup``).

        PSS charges each page shared between processes (forked workers share their parent's
        pages until written) in equal parts to its sharers, so the sum counts every page
        once, where a sum of resident sizes would count shared pages once per process.
        """
        kib = 0
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/smaps_rollup") as f:
                    kib += next(int(line.split()[1]) for line in f if line.startswith("Pss:"))
            except (OSError, StopIteration):
                continue  # ended meanwhile, or a zombie
        return kib / 1024

    def cpu_seconds(self) -> float:
        """User plus system CPU time the server's process group has used so far.

        Each living process counts its own time and that of its ended children it waited
        for (a worker the parent restarted), so every process is counted once.
        """
        ticks = 0
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class TilesServer(_Process):
    """``python -m tiles serve`` from this checkout, on ``catalog``, with ``env`` settings."""

    name = "tiles"

    def __init__(self, catalog: Path, workdir: Path, env: dict | None = None) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        env = {
            "TILES_CATALOG": str(catalog),
            "TILES_SERVER_DB": str(workdir / "layers.sqlite"),
            "PYTHONPATH": str(REPO),
            **(env or {}),
        }
        argv = [sys.executable, "-m", "tiles", "serve", "--port", "{port}"]
        super().__init__(argv, env, workdir, "/health")

    def pss_mb(self) -> float:
        """The process group's PSS plus the tiles its processes share in shared memory (the
        private cache folder ``serve`` makes in ``/dev/shm``: memory, but no process's)."""
        folder = Path("/dev/shm") / f"tiles-server-cache-{os.getuid()}" / str(self.proc.pid)
        held = 0
        for path in folder.rglob("*"):
            try:
                held += path.stat().st_size if path.is_file() else 0
            except OSError:
                continue  # evicted meanwhile
        return super().pss_mb() + held / 2**20

    def register(self, obj, name: str, **options):
        """Register ``obj`` as a layer; ``.url(**look)`` gives its tile URL template."""
        from tiles.server import register_layer

        return register_layer(obj, name, server=self.base_url, **options)


class TiTiler(_Process):
    """TiTiler on uvicorn from ``venv``, serving files by path and a MosaicJSON."""

    name = "titiler"

    def __init__(self, venv: Path, workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "titiler_app.py").write_text(TITILER_APP)
        argv = [str(venv / "bin" / "uvicorn"), "titiler_app:app", "--port", "{port}"]
        argv += ["--no-access-log", "--log-level", "warning"]
        super().__init__(argv, TITILER_ENV, workdir, "/docs")

    @staticmethod
    def make_mosaic(venv: Path, paths: Sequence[Path], out: Path) -> Path:
        """A MosaicJSON of ``paths`` (made once, with cogeo-mosaic from TiTiler's venv)."""
        if not out.exists():
            code = (
                "import json, sys\n"
                "from cogeo_mosaic.mosaic import MosaicJSON\n"
                "m = MosaicJSON.from_urls(sys.argv[2:], minzoom=8, maxzoom=14)\n"
                "open(sys.argv[1], 'w').write(m.model_dump_json(exclude_none=True))\n"
            )
            argv = [str(venv / "bin" / "python"), "-c", code, str(out), *map(str, paths)]
            subprocess.run(argv, check=True)
        json.loads(out.read_text())  # fail here, not in the middle of a run, when unreadable
        return out

    def cog_url(self, path: Path, query: list[tuple[str, str]]) -> str:
        q = urllib.parse.urlencode([("url", str(path)), *query])
        return f"{self.base_url}/cog/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}.png?{q}"

    def mosaic_url(self, mosaic: Path, query: list[tuple[str, str]]) -> str:
        q = urllib.parse.urlencode([("url", str(mosaic)), *query])
        return f"{self.base_url}/mosaic/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}.png?{q}"


def fetch_all(urls: Sequence[str], concurrency: int) -> dict:
    """GET every URL once over ``concurrency`` keep-alive connections.

    Returns p50/p95 latency in ms, tiles/s over the wall time, and the bodies' total bytes.
    Every answer must be a 200 PNG.
    """
    todo: queue.SimpleQueue[str] = queue.SimpleQueue()
    for url in urls:
        todo.put(url)
    latencies: list[float] = []
    errors: list[str] = []
    size = [0]
    lock = threading.Lock()

    def client() -> None:
        conn = None
        while True:
            try:
                url = todo.get_nowait()
            except queue.Empty:
                break
            parts = urllib.parse.urlsplit(url)
            if conn is None:
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
            t0 = time.perf_counter()
            conn.request("GET", f"{parts.path}?{parts.query}")
            resp = conn.getresponse()
            body = resp.read()
            elapsed = time.perf_counter() - t0
            with lock:
                latencies.append(elapsed)
                size[0] += len(body)
                if resp.status != 200 or body[:4] != b"\x89PNG":
                    errors.append(f"{resp.status} {url}: {body[:200]!r}")
        if conn is not None:
            conn.close()

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    if errors:
        raise RuntimeError(f"{len(errors)} failed requests, first: {errors[0]}")
    latencies.sort()
    return {
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))],
        "tiles_per_s": len(urls) / wall,
        "bytes": size[0],
    }
