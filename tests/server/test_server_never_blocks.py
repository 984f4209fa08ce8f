"""The event loop never waits on a locked catalog or a slow remote catalog.

A real SQLite lock held by another process and a local HTTP server standing in for a STAC
API that answers only when the test lets it: while tile requests are stuck on them,
``/health`` keeps answering, and each stuck request ends with a 503 and ``Retry-After``
(or its tile, once the catalog answers), never a frozen server. No duration is asserted:
only that answers come at all while the catalog is stuck.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.server.support import decode_png, http, image_graft, register, tile_over, tile_url
from tests.support import catalog_beside_sample
from tiles.data import catalog
from tiles.server import RunningServer

IMAGE = "sample:s2:20230115_z13"
DEM = "sample:dem:santa_fe"
#: Generous: a loaded 2-core machine may take seconds to answer anything.
PATIENCE = 120


@pytest.fixture()
def own_catalog(tmp_path: Path, sample_folder: Path, monkeypatch) -> Path:
    """A catalog of this test only, with the sample products registered."""
    path = catalog_beside_sample(tmp_path, sample_folder)
    monkeypatch.setenv("TILES_CATALOG", str(path))
    catalog.default_catalog()
    return path


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[RunningServer]:
    srv = RunningServer("127.0.0.1", 0, db_path=tmp_path / "layers.sqlite")
    yield srv
    srv.stop()


class LockedCatalog:
    """Another process that fills a new catalog, then holds an exclusive lock on its file.

    The lock is taken before this process opens the file (a process holding the file open
    would keep the lock from being taken), and held until :meth:`release`.
    """

    def __init__(self, path: Path) -> None:
        script = textwrap.dedent(
            """
            import sqlite3, sys
            from tiles.data.catalog import default_catalog
            default_catalog().close()  # the sample products registered, then let go
            conn = sqlite3.connect(sys.argv[1], isolation_level=None)
            conn.execute("PRAGMA locking_mode=EXCLUSIVE")
            conn.execute("BEGIN EXCLUSIVE")
            conn.execute("CREATE TABLE IF NOT EXISTS held (x)")
            print("locked", flush=True)
            sys.stdin.read()
            """
        )
        env = {**os.environ, "TILES_CATALOG": str(path)}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", script, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self.proc.stdout.readline().strip() == "locked"

    def release(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=PATIENCE)


def assert_health_answers(server: RunningServer, times: int = 3) -> None:
    for _ in range(times):
        status, _, body = http("GET", server.base_url + "/health", timeout=PATIENCE)
        assert status == 200 and json.loads(body)["status"] == "ok"


def test_a_locked_catalog_gives_503s_while_health_answers(
    server, tmp_path, sample_folder, monkeypatch
):
    layer = register(server.base_url, image_graft(IMAGE, "red"), scales=[[0, 0.3]])
    tiles = [tile_over(IMAGE, 12, dx=dx) for dx in range(4)]  # from the session's catalog
    urls = [tile_url(layer, tile) for tile in tiles]
    path = catalog_beside_sample(tmp_path, sample_folder)
    lock = LockedCatalog(path)
    monkeypatch.setenv("TILES_CATALOG", str(path))
    # A request waits this long for the lock, then gets its 503 (30 s by default).
    monkeypatch.setenv("TILES_DB_TIMEOUT", "2")
    try:
        with ThreadPoolExecutor(len(urls)) as pool:
            answers = [pool.submit(http, "GET", url, timeout=PATIENCE) for url in urls]
            assert_health_answers(server)
            results = [answer.result() for answer in answers]
        for status, headers, body in results:
            assert status == 503, body[:300]
            assert int(headers["Retry-After"]) > 0
            error = json.loads(body)
            assert "locked" in error["error"] and error["status"] == 503
        assert_health_answers(server)
    finally:
        lock.release()
    # With the lock gone the same tiles render.
    status, _, body = http("GET", urls[0], timeout=PATIENCE)
    assert status == 200 and decode_png(body).shape == (256, 256, 4)


class StandInStac:
    """A STAC API on 127.0.0.1 whose searches wait while the gate is closed.

    It serves one item whose asset is a sample raster on disk, so a product can be defined
    from it; ``searching`` is set once a search is waiting at the closed gate.
    """

    def __init__(self, item: dict) -> None:
        self.item = item
        self.gate = threading.Event()
        self.gate.set()
        self.searching = threading.Event()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _json(self, doc: dict) -> None:
                data = json.dumps(doc).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                base = f"http://127.0.0.1:{stand_in.port}"
                if self.path.startswith("/search"):
                    if not stand_in.gate.is_set():
                        stand_in.searching.set()
                        stand_in.gate.wait(PATIENCE * 5)
                    self._json({"type": "FeatureCollection", "features": [stand_in.item]})
                elif self.path.startswith("/collections/c"):
                    self._json({"type": "Collection", "id": "c", "links": []})
                else:
                    links = [{"rel": "search", "href": f"{base}/search", "method": "GET"}]
                    self._json(
                        {
                            "type": "Catalog",
                            "id": "stand-in",
                            "stac_version": "1.0.0",
                            "description": "a STAC API that answers when told to",
                            "conformsTo": ["https://api.stacspec.org/v1.0.0/item-search"],
                            "links": links,
                        }
                    )

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.gate.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def stac(own_catalog) -> Iterator[StandInStac]:
    record = catalog.image(DEM)
    path, _ = record.files["elevation"]
    w, s, e, n = record.bounds_lonlat
    item = {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": "dem",
        "collection": "c",
        "bbox": [w, s, e, n],
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]],
        },
        "properties": {"datetime": "2023-01-01T00:00:00Z"},
        "assets": {"dem": {"href": Path(path).as_uri(), "type": "image/tiff", "roles": ["data"]}},
    }
    api = StandInStac(item)
    yield api
    api.stop()


def _define(stac: StandInStac, product_id: str, timeout: float) -> dict:
    band = {"name": "elevation", "asset": "dem", "data_range": [0, 4000], "data_type": "float32"}
    catalog.add_stac_product(
        product_id, stac.url, collection="c", bands=[band], timeout=timeout, cache_seconds=0
    )
    return {"0": product_id, "1": ["wf.ImageCollection.from_id", "0"], "returns": "1"}


def test_a_slow_remote_catalog_leaves_health_answering(server, stac):
    graft = _define(stac, "standin:slow", timeout=PATIENCE * 5)
    layer = register(server.base_url, graft, scales=[[1500, 3000]])
    url = tile_url(layer, tile_over(DEM, 11))
    stac.gate.clear()
    with ThreadPoolExecutor(1) as pool:
        answer = pool.submit(http, "GET", url, timeout=PATIENCE * 5)
        assert stac.searching.wait(PATIENCE), "the tile never asked the remote catalog"
        assert_health_answers(server)
        assert not answer.done()  # the gate is closed: the tile is still waiting on it
        stac.gate.set()
        status, _, body = answer.result()
    assert status == 200, body[:300]
    assert decode_png(body)[..., 3].any()


def test_a_remote_catalog_that_does_not_answer_gives_503(server, stac):
    graft = _define(stac, "standin:silent", timeout=1)
    layer = register(server.base_url, graft, scales=[[1500, 3000]])
    stac.gate.clear()
    status, headers, body = http("GET", tile_url(layer, tile_over(DEM, 11)), timeout=PATIENCE)
    assert status == 503, body[:300]
    assert int(headers["Retry-After"]) > 0
    assert "did not answer" in json.loads(body)["error"]
    assert_health_answers(server)
