"""STAC sources: a static catalog load and a paged API search, this tree against another
checkout of the project, in one run.

A local tornado server (127.0.0.1, a thread of this process, HTTP/1.1) serves the real STAC items of
``../shared/data/stac`` and ``../shared/data/optical``: as a static catalog (catalog ->
collection -> one file per item) and as a small STAC API (landing page, collection, item
search answering ``limit``/``bbox``/``token`` with ``next`` links). Each tree
runs in its own process, alternating, and times ``load_static`` of the catalog and a
``Catalog.search`` over the API (cache cleared each time, so every page is fetched, parsed
and turned into image records). Prints medians and the ratio::

    git worktree add /tmp/before <rev>
    python bench/stac_bench.py --baseline /tmp/before
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import urllib.parse
from collections.abc import Callable
from pathlib import Path

import tornado.httpserver
import tornado.netutil
import tornado.web

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"

WORKER = r"""
import json, sys, time
from tiles.data import stac
from tiles.data.catalog import Catalog

static_url, api_url, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
cat = Catalog("catalog.sqlite")
stac.add_stac_product("b:api", api_url, collection="sentinel-2-l2a", bands=["B04", "SCL"],
                      page_size=10, catalog=cat)
out = {}
for case in ("static", "api"):
    times, count = [], 0
    for _ in range(repeats):
        stac.clear_cache()
        t0 = time.perf_counter()
        if case == "static":
            count = len(stac.load_static(static_url)[0])
        else:
            count = len(cat.search("b:api", "2020-01-01", "2021-01-01"))
        times.append(time.perf_counter() - t0)
    out[case] = {"seconds": min(times), "items": count}
print(json.dumps(out))
"""


def stored_items() -> list[dict]:
    """Every real STAC item among the stored documents (lists, collections or single)."""
    found = []
    for path in sorted([*(DATA / "stac").rglob("*.json"), *(DATA / "stac").rglob("*.geojson")]):
        doc = json.loads(path.read_text())
        docs = doc if isinstance(doc, list) else doc.get("features", [doc])
        found += [d for d in docs if isinstance(d, dict) and d.get("type") == "Feature"]
    return found


def make_site(root: Path, copies: int) -> list[dict]:
    """Writes the static catalog under ``root``; returns the API's items."""
    items = stored_items()
    links = []
    for n in range(copies):
        for item in items:
            doc = copy.deepcopy(item)
            doc["id"] = f"{item['id']}-{n}"
            (root / "items" / f"{doc['id']}.json").write_text(json.dumps(doc))
            links.append({"rel": "item", "href": f"./items/{doc['id']}.json"})
    collection = {
        "type": "Collection", "id": "stored", "stac_version": "1.0.0", "license": "various",
        "description": "the stored real items",
        "extent": {"spatial": {"bbox": [[-180, -90, 180, 90]]}, "temporal": {"interval": [[None, None]]}},
        "links": links,
    }  # fmt: skip
    (root / "collection.json").write_text(json.dumps(collection))
    catalog = {
        "type": "Catalog", "id": "bench", "stac_version": "1.0.0", "description": "bench",
        "links": [{"rel": "child", "href": "./collection.json"}],
    }  # fmt: skip
    (root / "catalog.json").write_text(json.dumps(catalog))
    pc = DATA / "stac" / "planetary_computer"
    api_items = []
    for name in ("site1-20200606-tall-strip-africa.geojson", "site2-2020_jun_jul-35MNM.geojson"):
        api_items += json.loads((pc / name).read_text())["features"]
    return [{**copy.deepcopy(i), "id": f"{i['id']}-{n}"} for n in range(copies) for i in api_items]


def serve(root: Path, api_items: list[dict], collection: dict) -> tuple[str, Callable]:
    """Starts the server in a thread; returns its base URL and a function stopping it."""

    class Landing(tornado.web.RequestHandler):
        def get(self) -> None:
            base = f"{self.request.protocol}://{self.request.host}/api"
            self.write({
                "type": "Catalog", "id": "api", "stac_version": "1.0.0", "description": "api",
                "conformsTo": ["https://api.stacspec.org/v1.0.0/item-search"],
                "links": [{"rel": "search", "href": f"{base}/search", "method": "GET"}],
            })  # fmt: skip

    class Collection(tornado.web.RequestHandler):
        def get(self) -> None:
            self.write(collection)

    class Search(tornado.web.RequestHandler):
        def get(self) -> None:
            q = {k: v[0].decode() for k, v in self.request.query_arguments.items()}
            found = api_items
            if "bbox" in q:
                w, s, e, n = (float(v) for v in q["bbox"].split(","))
                found = [
                    i for i in found
                    if not (i["bbox"][2] < w or i["bbox"][0] > e or i["bbox"][3] < s or i["bbox"][1] > n)
                ]  # fmt: skip
            limit, offset = int(q.get("limit", 10)), int(q.get("token", 0))
            links = []
            if offset + limit < len(found):
                url = f"{self.request.protocol}://{self.request.host}{self.request.path}"
                query = urllib.parse.urlencode({**q, "token": offset + limit})
                links.append({"rel": "next", "href": f"{url}?{query}"})
            page = found[offset : offset + limit]
            self.set_header("Content-Type", "application/geo+json")
            self.write(json.dumps({"type": "FeatureCollection", "features": page, "links": links}))

    app = tornado.web.Application([
        (r"/api/?", Landing),
        (r"/api/collections/sentinel-2-l2a", Collection),
        (r"/api/search", Search),
        (r"/(.*)", tornado.web.StaticFileHandler, {"path": str(root)}),
    ])  # fmt: skip
    ready = threading.Event()
    state: dict = {}

    def run_loop() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
        server = tornado.httpserver.HTTPServer(app)
        server.add_sockets(sockets)
        state.update(loop=loop, port=sockets[0].getsockname()[1])
        ready.set()
        loop.run_forever()
        server.stop()

    thread = threading.Thread(target=run_loop, daemon=True)
    thread.start()
    ready.wait()

    def stop() -> None:
        state["loop"].call_soon_threadsafe(state["loop"].stop)
        thread.join(timeout=30)

    return f"http://127.0.0.1:{state['port']}", stop


def run(tree: Path, static_url: str, api_url: str, repeats: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, PYTHONPATH=str(tree), TILES_CATALOG=f"{tmp}/default.sqlite")
        done = subprocess.run(
            [sys.executable, "-c", WORKER, static_url, api_url, str(repeats)],
            env=env, cwd=tmp, capture_output=True, text=True,
        )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"{tree}: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="another checkout")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--copies", type=int, default=4, help="copies of each item (new ids)")
    args = parser.parse_args()
    pc = DATA / "stac" / "planetary_computer"
    collection = json.loads((pc / "sentinel-2-l2a.collection.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "items").mkdir()
        api_items = make_site(root, args.copies)
        base, stop = serve(root, api_items, collection)
        try:
            results: dict[str, list[dict]] = {"baseline": [], "this": []}
            for _ in range(args.rounds):
                for name, tree in (("baseline", args.baseline), ("this", ROOT)):
                    results[name].append(
                        run(tree, f"{base}/catalog.json", f"{base}/api", args.repeats)
                    )
        finally:
            stop()
    for case, label in (("static", "static catalog load"), ("api", "paged API search")):
        before = statistics.median(r[case]["seconds"] for r in results["baseline"])
        after = statistics.median(r[case]["seconds"] for r in results["this"])
        counts = results["baseline"][0][case]["items"], results["this"][0][case]["items"]
        print(f"{label}: baseline {before * 1000:.1f} ms, this {after * 1000:.1f} ms, "
              f"ratio {after / before:.2f} (items {counts[0]} / {counts[1]})")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
