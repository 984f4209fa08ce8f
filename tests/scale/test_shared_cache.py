"""The tile cache shared by server processes, in a real Redis server or a folder: tiles
computed by one process are served by another from it (counted), a new tile is computed
once across processes, arrays round-trip exactly, catalog changes make new keys, a writer
too far behind skips values, and a store that does not answer only costs the cache."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.scale.processes import ServeProcess, free_port
from tests.server.support import decode_png, http, image_graft, register, tile_over, tile_url
from tiles.data.store import Catalog
from tiles.server.cache_stores import FolderStore, prepare_store
from tiles.server.pipeline import TileData
from tiles.server.shared_cache import SharedCache, decode_tile_data, encode_tile_data

IMAGE = "sample:s2:20230115_z12"


def _health(server: ServeProcess) -> dict:
    return json.loads(http("GET", f"{server.url}/health")[2])


def test_tile_arrays_round_trip_exactly():
    rng = np.random.default_rng(5)
    values = rng.normal(size=(3, 16, 16))
    mask = rng.random((3, 16, 16)) < 0.3
    data = TileData(np.ma.MaskedArray(values, mask=mask), ("a", "b", "c"), ((0, 1), None, (2, 5)))
    back = decode_tile_data(encode_tile_data(data))
    np.testing.assert_array_equal(back.array.data, values)
    np.testing.assert_array_equal(np.ma.getmaskarray(back.array), mask)
    assert back.array.dtype == values.dtype
    assert back.bandnames == data.bandnames and back.ranges == data.ranges
    empty = decode_tile_data(encode_tile_data(TileData(None)))
    assert empty.array is None and empty.bandnames == ()


def test_a_tile_is_computed_and_stored_once_and_its_keys_expire(redis_url):
    cache = SharedCache.from_url(redis_url)
    made = []

    def compute() -> bytes:
        made.append(1)
        return b"pixels"

    assert cache.get_or_compute("t", ("k", 1), compute, bytes, bytes) == b"pixels"
    cache.flush()  # stored by the writer thread
    assert cache.get_or_compute("t", ("k", 1), compute, bytes, bytes) == b"pixels"
    assert made == [1]
    assert cache.counts["misses"] == 1 and cache.counts["hits"] == 1
    key = cache.key("t", ("k", 1))
    assert key.startswith(cache.prefix + ":t:")
    assert 0 < cache.store.client.ttl(key) <= cache.ttl
    assert not cache.store.client.exists(key + ":lock")  # released


_RACE = """
import sys, time
from tiles.server.shared_cache import SharedCache
cache = SharedCache.from_url(sys.argv[1])
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))

def compute():
    with open(sys.argv[3], "a") as log:  # one line per computation, from any process
        log.write("computed\\n")
    time.sleep(1.0)
    return b"the tile"

print(cache.get_or_compute("race", ("tile", 7), compute, bytes, bytes).decode())
"""


@pytest.mark.parametrize("store", ["redis", "folder"])
def test_processes_asked_for_the_same_new_tile_at_once_compute_it_once(store, tmp_path, request):
    url = request.getfixturevalue("redis_url") if store == "redis" else str(tmp_path / "cache")
    if store == "folder":
        prepare_store(url)
    computations = tmp_path / "computations.txt"
    start = time.time() + 2.0
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _RACE, url, str(start), str(computations)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [out.strip() for out, _ in outputs] == ["the tile"] * 4, outputs
    assert computations.read_text().splitlines() == ["computed"], [err for _, err in outputs]


def test_a_tile_stored_between_the_look_and_the_lock_is_not_computed_again(tmp_path):
    class Interleaved(FolderStore):
        """Another process stores the tile and lets go of its lock just before ours."""

        def lock(self, key: str, token: str, seconds: float) -> bool:
            self.set(key.removesuffix(":lock"), b"theirs", ttl=60)
            return super().lock(key, token, seconds)

    store = Interleaved(tmp_path / "cache", 2**20)
    cache = SharedCache(store)
    made = []
    value = cache.get_or_compute("t", ("k", 1), lambda: made.append(1) or b"ours", bytes, bytes)
    assert value == b"theirs" and made == []
    assert store.lock(cache.key("t", ("k", 1)) + ":lock", "next", 30)  # ours was released
    store.close()


def test_a_writer_too_far_behind_skips_values_and_still_releases_its_locks(tmp_path, monkeypatch):
    import tiles.server.shared_cache as shared_cache

    monkeypatch.setattr(shared_cache, "WRITE_BACKLOG_BYTES", 1000)
    cache = SharedCache(FolderStore(tmp_path / "cache", 2**20))
    big = b"x" * 5000
    assert cache.get_or_compute("t", ("big", 1), lambda: big, bytes, bytes) == big
    cache.put("png", ("big", 2), big)
    cache.put("png", ("small", 3), b"small")
    cache.flush()
    assert cache.counts["skipped"] == 2 and cache.counts["stored"] == 1
    assert cache.get("t", ("big", 1)) is None and cache.get("png", ("small", 3)) == b"small"
    lock = cache.key("t", ("big", 1)) + ":lock"
    assert cache.store.lock(lock, "another process", 30)  # released although not stored


def test_a_folder_locked_by_another_process_costs_only_the_cache(tmp_path):
    import sqlite3

    cache = SharedCache(FolderStore(tmp_path / "cache", 2**20))
    holder = sqlite3.connect(tmp_path / "cache" / "cache.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # as a process stuck inside a write would
    try:
        cache.put("png", ("tile", 1), b"png")
        cache.flush()  # the write waited STORE_TIMEOUT, then gave up: no thread left waiting
        assert cache.counts["errors"] == 1 and cache.stats()["available"] is False
        made = []
        value = cache.get_or_compute("t", ("tile", 2), lambda: made.append(1) or b"v", bytes, bytes)
        assert value == b"v" and made == [1]  # computed without the store
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_catalog_versions_change_with_each_product_s_images(tmp_path):
    import rasterio
    from rasterio.transform import from_origin

    tif = tmp_path / "scene_20200105.tif"
    with rasterio.open(
        tif,
        "w",
        driver="GTiff",
        width=8,
        height=8,
        count=1,
        dtype="uint8",
        crs="EPSG:32613",
        transform=from_origin(400000, 3950000, 30, 30),
    ) as dst:
        dst.write(np.ones((1, 8, 8), "uint8"))
    cat = Catalog(tmp_path / "catalog.sqlite")
    for name in ("a", "b"):
        cat.create_product(name, [{"name": "x", "data_range": (0, 255)}])
    assert cat.data_version(["a"]) == cat.data_version(["b"]) == 0
    image = cat.add_image("a", tif)
    a1 = cat.data_version(["a"])
    assert a1 > 0 and cat.data_version(["b"]) == 0
    assert cat.data_version(image_ids=[image.id]) == a1  # an image counts with its product
    cat.add_image("a", tif)  # replaced
    a2 = cat.data_version(["a"])
    cat.remove_image(image.id)
    a3 = cat.data_version(["a"])
    assert a1 < a2 < a3 and cat.data_version(["b"]) == 0
    assert cat.data_version(everything=True) == a3


def test_a_tile_computed_by_one_server_process_is_served_by_another_from_redis(redis_url, tmp_path):
    env = {"TILES_REGISTRY": str(tmp_path / "registry.sqlite"), "TILES_CACHE": redis_url}
    # One process each, on two ports: what one computed, the other takes from Redis.
    first = ServeProcess(env, ("--workers", "1"), log=tmp_path / "first.log")
    second = ServeProcess(env, ("--workers", "1"), log=tmp_path / "second.log")
    with first, second:
        layer = register(first.url, image_graft(IMAGE, "red", "green", "blue"), name="rgb")
        tile = tile_over(IMAGE, 12)
        status, _, from_first = http("GET", tile_url(layer, tile))
        assert status == 200 and _health(first)["computed"] == 1
        second_url = tile_url(layer, tile).replace(first.url, second.url)
        status, _, from_second = http("GET", second_url)
        assert status == 200 and from_second == from_first
        health = _health(second)
        assert health["computed"] == 0  # not computed again: the PNG came from Redis
        assert health["shared_cache"]["hits"] >= 1
        assert health["backends"]["cache"].startswith("redis://127.0.0.1:")
        # Another look of the same pixels: the second process renders it from the array
        # the first stored, still without computing.
        status, _, restyled = http("GET", second_url + "?scales=[[0,0.2],[0,0.2],[0,0.2]]")
        assert status == 200 and restyled != from_first
        assert decode_png(restyled)[..., 3].any()
        assert _health(second)["computed"] == 0


def test_without_redis_the_server_computes_tiles_and_says_the_cache_is_away(tmp_path):
    env = {
        "TILES_REGISTRY": str(tmp_path / "registry.sqlite"),
        "TILES_CACHE": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
    }
    with ServeProcess(env, ("--workers", "1"), log=tmp_path / "server.log") as server:
        layer = register(server.url, image_graft(IMAGE, "red"), name="red")
        status, _, png = http("GET", tile_url(layer, tile_over(IMAGE, 12)))
        assert status == 200 and decode_png(png)[..., 3].any()
        shared = _health(server)["shared_cache"]
        assert shared["errors"] >= 1 and shared["available"] is False
