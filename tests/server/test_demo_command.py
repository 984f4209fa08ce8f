"""``python -m tiles demo`` on a fresh install: the sample data is built, with a progress bar,
before the server listens; once it answers, tiles are drawn without building anything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.support import free_port

#: Seconds allowed for building the sample data on a loaded machine, then serving.
BUDGET = 600


def test_demo_builds_the_sample_catalog_before_serving(tmp_path: Path):
    port = free_port()
    env = dict(os.environ, TILES_CATALOG=str(tmp_path / "fresh" / "catalog.sqlite"))
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    proc = subprocess.Popen(
        [sys.executable, "-m", "tiles", "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stderr: list[str] = []
    threading.Thread(target=lambda: stderr.extend(proc.stderr), daemon=True).start()
    try:
        viewer = proc.stdout.readline()  # printed once the catalog is ready
        assert viewer.startswith(f"Viewer: http://127.0.0.1:{port}/"), (viewer, stderr[-5:])
        built = "".join(stderr)
        assert "Building the sample catalog" in built and "100%" in built
        sample = next((tmp_path / "fresh").glob("tiles-sample-v*"))
        assert (sample / "MANIFEST.json").is_file()
        deadline = time.monotonic() + BUDGET
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/layers", timeout=30) as r:
                    layers = json.loads(r.read())["layers"]
                break
            except urllib.error.URLError:
                assert proc.poll() is None and time.monotonic() < deadline, stderr[-5:]
                time.sleep(0.2)
        elevation = next(lyr for lyr in layers if lyr["name"] == "Elevation")
        url = elevation["url_template"].format(z=10, x=210, y=403)
        with urllib.request.urlopen(url, timeout=BUDGET) as resp:
            assert resp.status == 200 and resp.read().startswith(b"\x89PNG")
        # Nothing was built after the server started.
        assert "".join(stderr).count("Building the sample catalog") == built.count(
            "Building the sample catalog"
        )
    finally:
        proc.terminate()
        proc.wait(timeout=30)
