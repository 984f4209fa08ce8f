"""Soak: clients mixing valid, heavy, hostile and malformed requests against a real server.

``python -m tiles serve`` runs in its own process on the built-in sample catalog; ``--clients``
threads (8) send requests for ``--minutes`` (5): tiles, values and TileJSON of ordinary
layers, heavy tiles (a convolution of a median, a median of a whole year) and small jobs,
hostile requests (a graft that would run for days, whose client hangs up after a few
seconds; parameter values asking for huge strings) and malformed ones (bad coordinates,
bad JSON, bad grafts). A separate poller asks ``/health`` four times a second the whole
time. Reported: answers by kind and status, the 5xx answers other than the deliberate
503/504 busy answers (target 0), ``/health`` latency (p50, p99, max) and failures, and the
server's resident memory after the first fifth of the run and at the end.

Run: .venv/bin/python bench/soak.py [--minutes 5] [--clients 8] [--seed 1]
"""

from __future__ import annotations

import argparse
import collections
import json
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


class SoakServer(_Process):
    """``python -m tiles serve --workers 1`` from this checkout on ``catalog``."""

    name = "tiles"

    def __init__(self, catalog: Path, workdir: Path) -> None:
        env = {
            "TILES_CATALOG": str(catalog),
            "TILES_SERVER_DB": str(workdir / "layers.sqlite"),
            "TILES_JOBS_DB": str(workdir / "jobs.sqlite"),
            "TILES_WORKFLOWS_DB": str(workdir / "workflows.sqlite"),
            "PYTHONPATH": str(REPO),
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
        self.health_ms: list[float] = []
        self.health_failures = 0
        self.stop = threading.Event()
        self._register()

    def _register(self) -> None:
        from tiles.server import register_layer

        s2 = wf.ImageCollection.from_id("sample:s2", "2023-01-01", "2024-01-01")
        red, nir = s2.unpack_bands("red nir")
        ndvi = ((nir - red) / (nir + red)).median(axis="images")
        kernel = wf.Kernel(dims=(9, 9), data=[1 / 81] * 81)
        r = wf.range(10_000)
        endless = r.map(lambda x: r.map(lambda y: r.map(lambda z: z).length()).length()).length()
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
        self.endless = layer(wf.ifelse(endless > 0, img, img), "endless")
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

    def health(self) -> None:
        while not self.stop.is_set():
            started = time.monotonic()
            status, _ = request("GET", self.base + "/health", timeout=60)
            elapsed = (time.monotonic() - started) * 1000
            with self.lock:
                if status == 200:
                    self.health_ms.append(elapsed)
                else:
                    self.health_failures += 1
            self.stop.wait(0.25)


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
    try:
        soak = Soak(server.base_url, args.seed)
        threads = [threading.Thread(target=soak.health, daemon=True)]
        threads += [threading.Thread(target=soak.client, daemon=True) for _ in range(args.clients)]
        for thread in threads:
            thread.start()
        seconds = args.minutes * 60
        time.sleep(seconds / 5)
        rss_warm = server.rss_mb()
        time.sleep(seconds * 4 / 5)
        rss_end = server.rss_mb()
        soak.stop.set()
        for thread in threads:
            thread.join(timeout=CLIENT_TIMEOUT)
        status, health = request("GET", server.base_url + "/health", timeout=60)
        queue = json.loads(health)["queue"] if status == 200 else {}
        report(soak, args, rss_warm, rss_end, server.proc.poll() is None, queue)
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def report(
    soak: Soak,
    args: argparse.Namespace,
    rss_warm: float,
    rss_end: float,
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
    ms = sorted(soak.health_ms)
    if ms:
        p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))]
        print(
            f"/health: {len(ms)} answers, p50 {statistics.median(ms):.0f} ms, "
            f"p99 {p99:.0f} ms, max {ms[-1]:.0f} ms, failures {soak.health_failures}"
        )
    print(
        f"server RSS: {rss_warm:.0f} MB after the first fifth, {rss_end:.0f} MB at the end "
        f"(growth {rss_end - rss_warm:+.0f} MB); server alive at the end: {alive}"
    )
    print(f"work queue at the end: {queue}")


if __name__ == "__main__":
    main()
