"""Where the shared tile cache keeps its bytes: a folder store keeps, expires and bounds
them and locks by token, stores are named by their URL, and the private folder of a server's
processes goes to shared memory when it fits and is removed with its server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

from tiles import settings
from tiles.server.cache_stores import FolderStore, RedisStore, open_store


def test_a_folder_store_keeps_bytes_expires_them_and_locks_by_token(tmp_path):
    store = FolderStore(tmp_path / "cache", 2**20)
    assert store.get("k") is None
    store.set("k", b"tile", ttl=60)
    assert store.get("k") == b"tile"
    store.set("short", b"gone soon", ttl=1)
    time.sleep(1.5)  # expiry is by the clock: only "at least a second later" matters
    assert store.get("short") is None
    assert store.lock("l", "mine", 30) and not store.lock("l", "theirs", 30)
    store.unlock("l", "theirs")  # not the holder: nothing happens
    assert not store.lock("l", "theirs", 30)
    store.unlock("l", "mine")
    assert store.lock("l", "theirs", 30)
    assert store.describe() == (tmp_path / "cache").as_uri()
    store.close()


def test_a_folder_store_stays_within_its_bound_dropping_the_oldest(tmp_path):
    bound = 2**20
    store = FolderStore(tmp_path / "cache", bound)
    rng = np.random.default_rng(3)
    values = [rng.bytes(100_000) for _ in range(40)]  # 4 MB into a 1 MB folder
    for i, value in enumerate(values):
        store.set(f"v{i}", value, ttl=60)
    assert store.cache.volume() <= bound + 200_000  # culled at each store: within one value
    files = sum(f.stat().st_size for f in (tmp_path / "cache").rglob("*.val"))
    assert files <= bound
    assert store.get("v0") is None and store.get("v39") == values[39]
    store.close()


def test_the_store_is_named_by_its_url(tmp_path):
    folder = tmp_path / "cache"
    for url in (str(folder), folder.as_uri(), f"{folder}?prefix=team"):
        store, prefix = open_store(url)
        assert isinstance(store, FolderStore) and store.folder == folder
        assert prefix == ("team" if url.endswith("team") else "tiles")
        store.close()
    redis_store, prefix = open_store("redis://127.0.0.1:1/0?prefix=x")
    assert isinstance(redis_store, RedisStore) and prefix == "x"
    for bad in ("cache", "memcached://host:11211", "http://cache.internal/"):
        with pytest.raises(ValueError, match="TILES_CACHE"):
            open_store(bad)
        os.environ["TILES_CACHE"] = bad  # as a setting: ignored with a warning
        try:
            assert settings.CACHE.get() is None
        finally:
            del os.environ["TILES_CACHE"]


@pytest.mark.parametrize("shared_memory", ["fits", "too small", "none"])
def test_a_private_folder_is_removed_with_its_server_and_after_a_killed_one(
    tmp_path, monkeypatch, shared_memory
):
    import tiles.server.cache_stores as cache_stores

    shm = tmp_path / "shm"
    if shared_memory != "none":
        shm.mkdir()
    if shared_memory == "too small":  # a bound larger than the free space there
        free = shutil.disk_usage(tmp_path).free
        monkeypatch.setenv("TILES_CACHE_FOLDER_MB", str(2 * free // 2**20))
    shared_memory = shared_memory == "fits"
    monkeypatch.setattr(cache_stores, "SHARED_MEMORY", shm)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home-cache"))
    expected = (
        shm / f"tiles-server-cache-{os.getuid()}"
        if shared_memory
        else tmp_path / "home-cache" / "tiles" / "server-cache"
    )
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (expected / str(dead.pid)).mkdir(parents=True)  # left by a server that was killed
    (expected / str(os.getppid())).mkdir()  # a running server's: kept
    with cache_stores.private_folder() as folder:
        assert folder.is_dir() and folder.parent == expected
        assert not (expected / str(dead.pid)).exists()
        assert (expected / str(os.getppid())).exists()
        if shared_memory:
            assert (expected.stat().st_mode & 0o777) == 0o700
    assert not folder.exists()
