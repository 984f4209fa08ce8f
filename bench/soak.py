"""Soak: clients mixing valid, heavy, hostile and malformed requests against a real server.

``python -m tiles serve`` runs in its own process on the built-in sample catalog; ``--clients``
threads (8) send requests for ``--minutes`` (5): tiles, values and TileJSON of ordinary
layers, heavy tiles (a convolution of a median, a median of a whole year) and small jobs,
hostile requests (a graft that would run for days, whose client hangs up after a few
seconds; parameter values asking for huge strings) and malformed ones (bad coordinates,
bad JSON, bad grafts). A poller in a process of its own (so that its timings do not include
waits for the clients' GIL) asks ``/health`` four times a second the whole time. Reported:
answers by kind and status, the 5xx answers other than the deliberate 503/504 busy answers
(target 0), ``/health`` latency (p50, p99, max) and failures, the server's memory (the PSS of
its process group, see ``servers._Process.pss_mb``) after a fifth of the run, half of it and
at the end, and the machine's load average during the run.

Run: .venv/bin/python bench/soak.py [--minutes 5] [--clients 8] [--seed 1]
"""

from __future__ import annotations

import argparse
import collections
import json
import multiprocessing
import os
import random
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import mercantile

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from servers import REPO, _Process  # noqa: E402

import tiles as wf  # noqa: E402

IMAGE = "sample:s2:20230115_z13"
DEM = "sample:dem:santa_fe"
#: Seconds a client waits for one answer (a loaded machine is slow, never this slow).
CLIENT_TIMEOUT = 300
#: Seconds between two samples of the server's memory.
SAMPLE_SECONDS = 5


class SoakServer(_Process):
    """``python -m tiles serve --workers 1`` from this checkout on ``catalog``, with the
    settings of ``env`` on top."""

    name = "tiles"

    def __init__(self, catalog: Path, workdir: Path, env: dict | None = None) -> None:
        env = {
            "TILES_CATALOG": str(catalog),
            "TILES_SERVER_DB": str(workdir / "layers.sqlite"),
            "TILES_JOBS_DB": str(workdir / "jobs.sqlite"),
            "TILES_WORKFLOWS_DB": str(workdir / "workflows.sqlite"),
            "PYTHONPATH": str(REPO),
            **(env or {}),
        }
        argv = [sys.executable, "-m", "tiles", "serve", "--port", "{port}", "--workers", "1"]
        super().__init__(argv, env, workdir, "/health")


def request(method: str, url: str, body: object = None, timeout: float = CLIENT_TIMEOUT):
    """(status, body bytes) of one request; status 0 when the connection failed."""
    data = (
        None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    )
    headers = {"Content-Type": "application/json"} if data is not None else {}
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, OSError) as exc:
        return 0, str(exc).encode()


def endless_image() -> wf.Image:
    """An image whose graft would loop in Python for days before its first pixel."""
    r = wf.range(10_000)
    endless = r.map(lambda x: r.map(lambda y: r.map(lambda z: z).length()).length()).length()
    img = wf.Image.from_id(IMAGE).pick_bands("red")
    return wf.ifelse(endless > 0, img, img)


def hang_up_after(url: str, seconds: float) -> None:
    """Ask for ``url`` and close the connection after ``seconds``, as a panning map does."""
    parts = urllib.parse.urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode())
        time.sleep(seconds)


class Soak:
    """The layers, the request mix and the tallies of one run."""

    def __init__(self, base: str, seed: int) -> None:
        self.base = base
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.counts: collections.Counter[tuple[str, int]] = collections.Counter()
        self.server_errors: list[str] = []
        self.stop = threading.Event()
        self._register()

    def _register(self) -> None:
        from tiles.server import register_layer

        s2 = wf.ImageCollection.from_id("sample:s2", "2023-01-01", "2024-01-01")
        red, nir = s2.unpack_bands("red nir")
        ndvi = ((nir - red) / (nir + red)).median(axis="images")
        kernel = wf.Kernel(dims=(9, 9), data=[1 / 81] * 81)
        img = wf.Image.from_id(IMAGE).pick_bands("red")
        word = wf.parameter("word", wf.Str)

        def layer(obj, name, **options):
            return register_layer(obj, name, server=self.base, **options).url_template

        self.valid = [
            layer(img, "red", scales=[[0, 0.3]]),
            layer(ndvi, "ndvi", scales=[[-0.2, 0.8]], colormap="RdYlGn"),
            layer(wf.Image.from_id(DEM), "dem", scales=[[1500, 3500]], colormap="terrain"),
        ]
        self.heavy = [
            layer(wf.conv2d(ndvi, kernel), "smooth", scales=[[-0.2, 0.8]], colormap="viridis"),
            layer(
                s2.pick_bands("red green blue").median(axis="images"), "rgb", scales=[[0, 0.3]] * 3
            ),
        ]
        self.endless = layer(endless_image(), "endless")
        self.worded = layer(
            wf.ifelse(word.length() > 0, img, img), "worded", word="x", scales=[[0, 0.3]]
        )
        w, s, e, n = (-106.35, 35.35, -105.6, 36.05)  # around the sample scenes, and beyond
        self.tiles = [t for z in range(8, 14) for t in mercantile.tiles(w, s, e, n, [z])]
        self.malformed = self._malformed(self.valid[0])

    @staticmethod
    def _malformed(template: str) -> list[tuple[str, str, object]]:
        base_layer = template.split("/{z}")[0]
        path = urllib.parse.urlsplit(base_layer).path
        bad_graft = urllib.parse.quote(json.dumps({"returns": "a", "a": ["wf.neg", "a"]}))
        return [
            ("GET", f"{path}/99/0/0.png", None),
            ("GET", f"{path}/a/b/c.png", None),
            ("GET", f"{path}/9/105/201.png?scales=[[1,2],[3]]", None),
            ("GET", f"{path}/9/105/201.png?colormap=nope", None),
            ("GET", f"{path}/9/105/201.png?band=swir", None),
            ("GET", f"{path}/9/105/201.png?zz=1", None),
            ("GET", f"{path}/value?x=abc&y=1", None),
            ("GET", f"{path}/errors?level=bogus", None),
            ("GET", "/layers/nope/1/1/1.png", None),
            ("GET", "/jobs/nope", None),
            ("GET", "/nowhere", None),
            ("POST", "/layers", b"{"),
            ("POST", "/layers", {"graft": {"returns": 3}}),
            ("POST", "/layers", {"graft": {"returns": "a", "a": ["wf.neg", "a"]}}),
            ("POST", "/layers", {"graft": {"returns": "a", "a": ["wf.os.system", "a"]}}),
            ("POST", "/layers", {"graft": {"0": 1, "returns": "0"}, "name": "n" * 1000}),
            ("POST", "/jobs", {"graft": {"0": 1, "returns": "0"}, "num_retries": 10**9}),
            ("POST", "/jobs", {"graft": {"0": 1, "returns": "0"}, "type": 5}),
            ("POST", "/jobs", {"graft": {"0": 1, "returns": "0"}, "geoctx": {"bogus": 1}}),
            ("POST", "/workflows", {"id": 5, "version": "1", "graft": 5, "typespec": 5}),
            ("POST", "/layers", b"[" * 50_000),
            ("GET", f"{path}/9/105/201.png?word={bad_graft}", None),
        ]

    def _tile_url(self, template: str) -> str:
        t = self.random.choice(self.tiles)
        return template.format(z=t.z, x=t.x, y=t.y)

    def _tally(self, kind: str, status: int, body: bytes, what: str) -> None:
        with self.lock:
            self.counts[(kind, status)] += 1
            if status >= 500 and status not in (503, 504) or status == 0:
                self.server_errors.append(f"{status} {kind} {what[:120]}: {body[:200]!r}")

    def one(self) -> None:
        """One request of the mix."""
        roll = self.random.random()
        if roll < 0.45:
            url = self._tile_url(self.random.choice(self.valid))
            self._tally("valid", *request("GET", url), url)
        elif roll < 0.52:
            x, y = self.random.uniform(-11.83e6, -11.75e6), self.random.uniform(4.2e6, 4.32e6)
            url = self.valid[self.random.randrange(3)].split("/{z}")[0] + f"/value?x={x}&y={y}"
            self._tally("valid", *request("GET", url), url)
        elif roll < 0.55:
            url = self.valid[self.random.randrange(3)].split("/{z}")[0] + "/tilejson.json"
            self._tally("valid", *request("GET", url), url)
        elif roll < 0.65:
            url = self._tile_url(self.random.choice(self.heavy))
            self._tally("heavy", *request("GET", url), url)
        elif roll < 0.70:
            self._job()
        elif roll < 0.74:
            hang_up_after(self._tile_url(self.endless), self.random.uniform(1, 4))
            self._tally("hostile", 499, b"", "hung up")
        elif roll < 0.77:
            huge = urllib.parse.quote(json.dumps((wf.Str("x") * 300_000_000).graft))
            url = self._tile_url(self.worded) + f"?word={huge}"
            self._tally("hostile", *request("GET", url), "huge word")
        else:
            method, path, body = self.random.choice(self.malformed)
            self._tally("malformed", *request(method, self.base + path, body), path)

    def _job(self) -> None:
        aoi = {
            "bounds": [-105.95, 35.65, -105.9, 35.7],
            "bounds_crs": "EPSG:4326",
            "crs": "EPSG:32613",
            "resolution": 60,
        }
        body = {
            "graft": wf.Image.from_id(IMAGE).pick_bands("red").graft,
            "geoctx": aoi,
            "type": "Image",
            "format": "npy",
        }
        status, answer = request("POST", self.base + "/jobs", body)
        self._tally("heavy", status, answer, "POST /jobs")
        if status != 201:
            return
        job = json.loads(answer)["id"]
        deadline = time.monotonic() + CLIENT_TIMEOUT
        while time.monotonic() < deadline and not self.stop.is_set():
            status, answer = request("GET", f"{self.base}/jobs/{job}")
            if status != 200 or json.loads(answer)["done"]:
                break
            time.sleep(0.5)
        self._tally("heavy", *request("GET", f"{self.base}/jobs/{job}/result"), "job result")

    def client(self) -> None:
        while not self.stop.is_set():
            try:
                self.one()
            except Exception as exc:  # a client bug must not end the run silently
                self._tally("client", -1, repr(exc).encode(), "client error")


def poll_health(base: str, stop, results) -> None:
    """Ask ``base``/health every 0.25 s until ``stop`` is set; send back the latencies.

    Runs in a process of its own; ``results`` (a pipe's end) receives the milliseconds of
    each 200 answer and the number of failures.
    """
    ms: list[float] = []
    failures = 0
    while not stop.is_set():
        started = time.monotonic()
        status, _ = request("GET", base + "/health", timeout=60)
        if status == 200:
            ms.append((time.monotonic() - started) * 1000)
        else:
            failures += 1
        stop.wait(0.25)
    results.send((ms, failures))


def prepare_catalog(path: Path) -> None:
    """Register the sample products in a new catalog (minutes of generation on first use)."""
    os.environ["TILES_CATALOG"] = str(path)
    from tiles.data.default_catalog import default_catalog

    default_catalog()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="tiles-soak-"))
    catalog = workdir / "catalog.sqlite"
    print(f"preparing the sample catalog in {workdir} ...", flush=True)
    prepare_catalog(catalog)
    server = SoakServer(catalog, workdir)
    # Spawned, not forked: a fork would copy this process's threads' locks mid-use.
    mp = multiprocessing.get_context("spawn")
    poller_stop = mp.Event()
    results, poller_end = mp.Pipe(duplex=False)
    poller = mp.Process(target=poll_health, args=(server.base_url, poller_stop, poller_end))
    try:
        soak = Soak(server.base_url, args.seed)
        poller.start()
        threads = [threading.Thread(target=soak.client, daemon=True) for _ in range(args.clients)]
        for thread in threads:
            thread.start()
        memory, loads = sample_memory(server, args.minutes * 60)
        soak.stop.set()
        poller_stop.set()
        health_ms, health_failures = results.recv()
        poller.join()
        for thread in threads:
            thread.join(timeout=CLIENT_TIMEOUT)
        status, health = request("GET", server.base_url + "/health", timeout=60)
        queue = json.loads(health)["queue"] if status == 200 else {}
        alive = server.proc.poll() is None
        report(soak, args, (health_ms, health_failures), memory, loads, alive, queue)
    finally:
        if poller.is_alive():
            poller.terminate()
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def sample_memory(server: SoakServer, seconds: float) -> tuple[list[tuple[float, float]], list]:
    """The server's memory every :data:`SAMPLE_SECONDS` for ``seconds`` as (seconds, MiB),
    and the 1-minute load averages seen meanwhile."""
    started = time.monotonic()
    memory, loads = [], []
    for due in range(0, int(seconds) + 1, SAMPLE_SECONDS):
        time.sleep(max(0.0, started + due - time.monotonic()))
        memory.append((due, server.pss_mb()))
        loads.append(os.getloadavg()[0])
    return memory, loads


def report(
    soak: Soak,
    args: argparse.Namespace,
    health: tuple[list[float], int],
    memory: list[tuple[float, float]],
    loads: list[float],
    alive: bool,
    queue: dict,
) -> None:
    print(f"\n{args.clients} clients for {args.minutes:g} min, seed {args.seed}")
    kinds = sorted({kind for kind, _ in soak.counts})
    for kind in kinds:
        by_status = {s: n for (k, s), n in sorted(soak.counts.items()) if k == kind}
        print(f"  {kind:<10} {sum(by_status.values()):>6}  {by_status}")
    busy = sum(n for (_, s), n in soak.counts.items() if s in (503, 504))
    print(f"5xx other than busy 503/504: {len(soak.server_errors)}  (busy answers: {busy})")
    for line in soak.server_errors[:10]:
        print("   ", line)
    ms, failures = sorted(health[0]), health[1]
    if ms:
        p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))]
        print(
            f"/health: {len(ms)} answers, p50 {statistics.median(ms):.0f} ms, "
            f"p99 {p99:.0f} ms, max {ms[-1]:.0f} ms, failures {failures}"
        )
    end = memory[-1][0]
    marks = [next(mb for t, mb in memory if t >= end * share) for share in (0.2, 0.5)]
    print(
        f"server memory (PSS, MiB): {marks[0]:.0f} after a fifth, {marks[1]:.0f} at half time, "
        f"{memory[-1][1]:.0f} at the end (peak {max(mb for _, mb in memory):.0f}); "
        f"server alive at the end: {alive}"
    )
    minutes = [f"{mb:.0f}" for t, mb in memory if t % 60 == 0 and t > 0]
    print(f"  at the end of each minute: {' '.join(minutes)}")
    print(
        f"load average (1 min) during the run: mean {statistics.mean(loads):.1f}, "
        f"max {max(loads):.1f}"
    )
    print(f"work queue at the end: {queue}")


if __name__ == "__main__":
    main()
