"""compute, publish and use against a real tile server process on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import tiles as wf
from tests.compute.support import dem, slow
from tests.support import free_port
from tiles.compute import jobs, remote
from tiles.compute.workflows import Workflow, WorkflowVersionError, use
from tiles.errors import NotFoundError, WorkflowsError
from tiles.geocontext import AOI

CTX = AOI(bounds=(-105.96, 35.67, -105.92, 35.71), crs="EPSG:32613", resolution=120)
WAIT = 120

# Serves the tile server's app plus the /jobs and /workflows routes (the same app
# ``python -m tiles serve`` runs once those routes are part of its table).
LAUNCHER = """
import asyncio, sys
import tornado.httpserver
from tiles.server.access import AccessPolicy
from tiles.server.app import make_app
from tiles.server.jobs_handlers import jobs_routes
from tiles.server.layers import LayerStore
from tiles.server.service import TileService

async def main():
    app = make_app(TileService(LayerStore()))
    app.add_handlers(r".*", jobs_routes(AccessPolicy()))
    server = tornado.httpserver.HTTPServer(app)
    server.listen(int(sys.argv[1]), "127.0.0.1")
    await asyncio.Event().wait()

asyncio.run(main())
"""


def _serve_has_jobs() -> bool:
    from tiles.server.access import AccessPolicy
    from tiles.server.handlers import routes
    from tiles.server.jobs_handlers import JobsHandler

    try:
        table = routes(None, AccessPolicy(), Path("."))
    except Exception:
        return False
    return any(len(r) > 1 and r[1] is JobsHandler for r in table)


class ServerProcess:
    """A tile server subprocess with its databases in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> ServerProcess:
        env = dict(
            os.environ,
            TILES_JOBS_DB=str(self.folder / "jobs.sqlite"),
            TILES_WORKFLOWS_DB=str(self.folder / "workflows.sqlite"),
            TILES_SERVER_DB=str(self.folder / "layers.sqlite"),
        )
        if _serve_has_jobs():
            cmd = [
                sys.executable,
                "-m",
                "tiles",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                "1",
            ]
        else:
            cmd = [sys.executable, "-c", LAUNCHER, str(self.port)]
        self.proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=5):
                    return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("server process exited at start") from None
                time.sleep(0.1)
        raise RuntimeError("server did not answer /health")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=WAIT)


@pytest.fixture
def server(tmp_path):
    proc = ServerProcess(tmp_path).start()
    yield proc
    remote.connect(None)
    proc.kill()


@pytest.fixture(autouse=True)
def local_registry(tmp_path, monkeypatch):
    monkeypatch.setenv("TILES_WORKFLOWS_DB", str(tmp_path / "local-workflows.sqlite"))


def test_remote_compute_gives_local_results(server):
    threshold = wf.parameter("t", wf.Float)
    obj = (dem() > threshold).rename_bands("high")
    local = obj.compute(CTX, t=2100.0)
    local_json = (wf.Int(20) * 2 + 2).compute(format="json")
    remote.connect(server.url)
    assert remote.current() is not None
    result = obj.compute(CTX, t=2100.0, cache=False)
    assert type(result) is type(local)
    np.testing.assert_array_equal(result.ndarray, local.ndarray)
    np.testing.assert_array_equal(np.ma.getmaskarray(result.ndarray), local.ndarray.mask)
    assert result.properties == local.properties
    assert result.geocontext == local.geocontext
    assert (wf.Int(20) * 2 + 2).compute(format="json") == local_json
    assert (wf.Int(20) * 2 + 2).inspect() == 42
    tif = dem().compute(CTX, format="geotiff")
    import rasterio

    with rasterio.MemoryFile(tif) as mem, mem.open() as src:
        np.testing.assert_array_equal(src.read(masked=True), dem().compute(CTX).ndarray)
    if importlib.util.find_spec("rioxarray") is not None:
        # xarray is made here from the server's result: the same as from the local one.
        da = obj.compute(CTX, t=2100.0, format="xarray", cache=False)
        np.testing.assert_array_equal(da.values, local.to_xarray().values)
        assert da.rio.crs == local.to_xarray().rio.crs


def test_remote_jobs_poll_cancel_and_fail(server):
    remote.connect(server.url)
    job = slow(wf.Int(1), 30).compute(block=False, cache=False)
    assert isinstance(job, remote.RemoteJob)
    deadline = time.monotonic() + WAIT
    while job.stage != jobs.RUNNING and time.monotonic() < deadline:
        job.refresh()
        time.sleep(0.05)
    assert job.stage == jobs.RUNNING
    with pytest.raises(wf.JobTimeoutError):
        job.wait(timeout=0.2)
    job.cancel()
    assert job.stage == jobs.CANCELLED
    with pytest.raises(jobs.JobCancelledError):
        job.result()
    with pytest.raises(WorkflowsError, match="division by zero"):
        (wf.Int(1) / 0).compute(cache=False)
    with pytest.raises(NotFoundError):
        remote.current().job("nosuchjob")


def test_remote_publish_and_use(server):
    remote.connect(server.url)
    threshold = wf.parameter("threshold", wf.Float)
    (dem() > threshold).publish("me@example.com:high", "1.0.0")
    with pytest.raises(WorkflowVersionError):
        (dem() < threshold).publish("me@example.com:high", "1.0.0")
    fn = use("me@example.com:high", "1.0.0")
    got = fn(threshold=2100.0).compute(CTX)
    assert Workflow.get("me@example.com:high").versions == ["1.0.0"]
    remote.connect(None)
    with pytest.raises(NotFoundError):
        use("me@example.com:high", "1.0.0")  # it lives on the server only
    np.testing.assert_array_equal(got.ndarray, (dem() > 2100.0).compute(CTX).ndarray)


def test_client_keyword_sends_one_call_to_that_server(server):
    """compute/inspect/publish(client=...) use that connection; nothing else changes."""
    client = remote.Connection(server.url)
    assert remote.current() is None
    job = (wf.Int(20) * 2 + 2).compute(client=client, block=False, cache=False)
    assert isinstance(job, remote.RemoteJob)
    assert job.result(timeout=WAIT) == 42
    assert client.job(job.id).result(timeout=WAIT) == 42  # the server knows that job
    local = dem().compute(CTX)
    via_server = dem().inspect(CTX, client=client, cache=False, _ruster=True)
    np.testing.assert_array_equal(via_server.ndarray, local.ndarray)
    wf.Int(7).publish("me@example.com:seven", "1.0.0", client=client)
    assert client.get_workflow("me@example.com:seven")["id"] == "me@example.com:seven"
    with pytest.raises(NotFoundError):
        Workflow.get("me@example.com:seven")  # not in the local registry
    with pytest.raises(TypeError, match="wf.connect"):
        wf.Int(1).compute(client=server.url)


def test_killed_server_keeps_workflows_and_fails_unfinished_jobs(server):
    connection = remote.connect(server.url)
    wf.Int(42).publish("me@example.com:answer", "1.0.0")
    finished = (wf.Int(6) * 7).compute(block=False, format="json", cache=False)
    assert finished.result(timeout=WAIT) == b"42"
    running = slow(wf.Int(1), 60).compute(block=False, cache=False)
    deadline = time.monotonic() + WAIT
    while running.stage != jobs.RUNNING and time.monotonic() < deadline:
        running.refresh()
        time.sleep(0.05)
    server.kill()
    server.start()  # same databases, new process

    record = json.loads(urllib.request.urlopen(f"{server.url}/jobs/{running.id}").read())
    assert record["stage"] == jobs.FAILED
    assert "stopped before this job finished" in record["error"]
    with pytest.raises(WorkflowsError, match="stopped before"):
        connection.job(running.id).result(timeout=WAIT)
    assert connection.job(finished.id).result(timeout=WAIT) == b"42"
    assert use("me@example.com:answer", "1.0.0").compute() == 42
