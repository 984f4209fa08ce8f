"""Jobs: started, polled, cancelled, timed out and retried, on real computations."""

from __future__ import annotations

import shutil

import pytest

import tiles as wf
from tests.compute.support import dem, slow
from tiles.compute import jobs
from tiles.data import catalog
from tiles.errors import DataError, JobTimeoutError, ParameterError, WorkflowsError
from tiles.geocontext import AOI

CTX = AOI(bounds=(-105.99, 35.64, -105.89, 35.74), crs="EPSG:32613", resolution=60)
#: Generous bound so a broken job fails the test instead of hanging it.
WAIT = 120


def test_job_runs_and_is_polled():
    job = slow(wf.Int(20) + 1, 0.5).compute(block=False, cache=False)
    assert isinstance(job, jobs.Job)
    assert job.stage in (jobs.QUEUED, jobs.RUNNING)
    assert not job.done
    job.wait(timeout=WAIT)
    assert job.stage == jobs.SUCCEEDED and job.progress == 1.0
    assert job.result() == 21
    assert jobs.get(job.id) is job


def test_chunked_job_reports_progress_and_can_be_cancelled(monkeypatch):
    monkeypatch.setenv("TILES_CHUNK_SIDE", "20")  # 10 x 8 windows, each sleeping
    img = slow(dem(), 0.2)
    job = img.compute(CTX, block=False, cache=False)
    while job.progress == 0 and not job.done:
        job._wait_step(0.05)
    assert 0 < job.progress < 1
    job.cancel()
    assert job.stage == jobs.CANCELLED and job.done
    with pytest.raises(jobs.JobCancelledError):
        job.result(timeout=WAIT)


def test_timeout_raises_and_cancels():
    with pytest.raises(JobTimeoutError):
        slow(wf.Int(1), 5).compute(timeout=0.2, cache=False)
    job = slow(wf.Int(1), 5).compute(block=False, cache=False)
    with pytest.raises(JobTimeoutError):
        job.wait(timeout=0.1)
    assert not job.done  # wait alone does not cancel
    job.cancel()
    assert job.stage == jobs.CANCELLED


def test_errors_in_the_graph_fail_without_retries():
    job = (wf.Int(1) / 0).compute(block=False, cache=False, num_retries=3)
    with pytest.raises(WorkflowsError, match="division by zero"):
        job.result(timeout=WAIT)
    assert job.stage == jobs.FAILED and job.attempts == 1
    with pytest.raises(ParameterError, match="missing a value"):
        (wf.parameter("x", wf.Int) + 1).compute()


def test_read_failures_are_retried(tmp_path):
    dem_record = catalog.search("sample:dem")[0]
    source, _ = dem_record.files["elevation"]
    copy = tmp_path / "dem.tif"
    shutil.copy(source, copy)
    catalog.create_product(
        "test:jobs-retry", [{"name": "elevation", "data_range": [-1000, 9000], "nodata": -32768}]
    )
    catalog.add_image("test:jobs-retry", copy, image_id="test:jobs-retry:a")
    copy.unlink()  # the catalog still lists it: reads fail
    img = wf.Image.from_id("test:jobs-retry:a")
    job = img.compute(CTX, block=False, cache=False, num_retries=2)
    with pytest.raises(DataError):
        job.result(timeout=WAIT)
    assert job.attempts == 3


def test_result_to_file(tmp_path):
    job = (wf.Int(2) * 21).compute(block=False, format="json")
    path = tmp_path / "answer.json"
    job.result_to_file(path)
    assert path.read_bytes() == b"42"
    assert (wf.Int(2) * 21).compute(format="json", file=tmp_path / "b.json") is None
    assert (tmp_path / "b.json").read_bytes() == b"42"
