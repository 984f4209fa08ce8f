"""``/jobs`` and ``/workflows``: compute and publish on the tile server over HTTP.

Endpoints (JSON unless said otherwise; a token is needed as for layers when the server
listens beyond this machine):

``POST /jobs``
    ``{graft, arguments, geoctx, format, type, cache, num_retries}`` -> 201 ``{id, stage...}``.
``GET /jobs/{id}``
    The job's record: ``stage`` (QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED),
    ``progress``, ``error`` and ``error_type`` when it failed.
``GET /jobs/{id}/result``
    The output bytes (``Content-Type`` from the format; the default format is the
    :func:`tiles.compute.formats.encode_result` encoding); 409 while unfinished or failed.
``DELETE /jobs/{id}``
    Cancel the job.
``GET /workflows``, ``POST /workflows``
    List workflows; publish a version (a record from :func:`tiles.compute.workflows.make_record`).
``GET /workflows/{id}``, ``GET /workflows/{id}/versions/{version}``
    A workflow with its versions; one version.

Job records and outputs are kept in a database (``$TILES_JOBS_DB``, else ``TILES_REGISTRY``,
else ``jobs.sqlite`` beside the catalog), so they outlive the process and any server
process sharing the database answers for them: jobs that were queued or running when a
server stopped are marked FAILED when one starts again. A job runs in the process that
accepted it; cancelling it through another process does not reach it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from typing import Any

from tiles import settings
from tiles.compute import formats, jobs
from tiles.compute.workflows import WorkflowStore
from tiles.errors import NotFoundError, ParameterError, describe
from tiles.server.access import AccessPolicy
from tiles.server.handlers import BaseHandler
from tiles.server.service import IO_WORKERS
from tiles.server.workqueue import WorkQueue
from tiles.sql_store import SQLStore

logger = logging.getLogger(__name__)

#: Days a job's record and output are kept.
JOB_RETENTION_DAYS = 10
#: An unfinished job whose owner has not renewed it for this long is taken as lost.
JOB_LEASE_SECONDS = 120.0
_LOST = "the server stopped before this job finished; submit it again"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    stage TEXT NOT NULL,
    progress REAL NOT NULL,
    format TEXT NOT NULL,
    type TEXT NOT NULL,
    error TEXT,
    error_type TEXT,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
"""
_RESULTS = "CREATE TABLE IF NOT EXISTS job_results (id TEXT PRIMARY KEY, data BLOB NOT NULL)"
_OWNER = "ALTER TABLE jobs ADD COLUMN owner TEXT"


def _process_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _owner_is_gone(owner: str | None) -> bool:
    """Whether the process named ``owner`` surely stopped (it ran on this machine)."""
    if owner is None:
        return True  # written before owners were recorded
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class JobRecords(SQLStore):
    """Job records and outputs in a database.

    Parameters
    ----------
    path:
        The database file or ``postgresql://`` URL, or None for ``TILES_JOBS_DB``.
    """

    NAME = "jobs"
    MIGRATIONS = (_SCHEMA, _RESULTS, _OWNER)
    TARGET_SETTING = settings.JOBS_DB

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        super().__init__(path)
        self.owner = _process_owner()
        self._recover()

    def _fail_lost(self, conn: Any, rows: list[tuple], now: dt.datetime) -> None:
        lease = (now - dt.timedelta(seconds=JOB_LEASE_SECONDS)).isoformat()
        for job_id, owner, updated in rows:
            if owner != self.owner and (_owner_is_gone(owner) or updated < lease):
                conn.execute(
                    "UPDATE jobs SET stage = ?, error = ?, error_type = ?, updated = ? "
                    "WHERE id = ? AND stage IN (?, ?)",
                    (
                        jobs.FAILED,
                        _LOST,
                        "WorkflowsError",
                        now.isoformat(),
                        job_id,
                        jobs.QUEUED,
                        jobs.RUNNING,
                    ),
                )

    def _recover(self) -> None:
        """Fail jobs whose server stopped before they finished; forget expired ones."""
        now = _now()
        cutoff = (now - dt.timedelta(days=JOB_RETENTION_DAYS)).isoformat()
        with self.transaction() as conn:
            rows = conn.execute(
                "SELECT id, owner, updated FROM jobs WHERE stage IN (?, ?)",
                (jobs.QUEUED, jobs.RUNNING),
            ).fetchall()
            self._fail_lost(conn, rows, now)
            conn.execute(
                "DELETE FROM job_results WHERE id IN (SELECT id FROM jobs WHERE updated < ?)",
                (cutoff,),
            )
            conn.execute("DELETE FROM jobs WHERE updated < ?", (cutoff,))

    def save_result(self, job_id: str, data: bytes) -> None:
        """Store a succeeded job's output (before its record says it succeeded)."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO job_results (id, data) VALUES (?, ?) "
                "ON CONFLICT (id) DO UPDATE SET data = excluded.data",
                (job_id, data),
            )

    def has_result(self, job_id: str) -> bool:
        """Whether a job's output is stored."""
        with self.reading() as conn:
            found = conn.execute("SELECT 1 FROM job_results WHERE id = ?", (job_id,)).fetchone()
        return found is not None

    def result(self, job_id: str) -> bytes | None:
        """A job's stored output, None when there is none."""
        with self.reading() as conn:
            row = conn.execute("SELECT data FROM job_results WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else bytes(row[0])

    def create(self, job_id: str, fmt: str, type_name: str) -> None:
        """Record a new queued job, owned by this process."""
        now = _now().isoformat()
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO jobs VALUES (?, ?, 0, ?, ?, NULL, NULL, ?, ?, ?)",
                (job_id, jobs.QUEUED, fmt, type_name, now, now, self.owner),
            )

    def renew(self) -> None:
        """Renew the lease of this process's unfinished jobs."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE jobs SET updated = ? WHERE owner = ? AND stage IN (?, ?)",
                (_now().isoformat(), self.owner, jobs.QUEUED, jobs.RUNNING),
            )

    def update(self, job: jobs.Job) -> None:
        """Store a job's stage, progress and error."""
        error = job.error
        with self.transaction() as conn:
            conn.execute(
                "UPDATE jobs SET stage = ?, progress = ?, error = ?, error_type = ?, updated = ? "
                "WHERE id = ?",
                (
                    job.stage,
                    job.progress,
                    describe(error) if error is not None else None,
                    type(error).__name__ if error is not None else None,
                    _now().isoformat(),
                    job.id,
                ),
            )

    def get(self, job_id: str) -> dict[str, Any]:
        """A job's record as JSON (FAILED once its owner is lost); NotFoundError when unknown."""
        sql = (
            "SELECT id, stage, progress, format, type, error, error_type, created, updated, "
            "owner FROM jobs WHERE id = ?"
        )
        with self.reading() as conn:
            row = conn.execute(sql, (job_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no job {job_id!r}")
        if row[1] not in jobs.FINISHED and row[9] != self.owner:
            with self.transaction() as conn:
                self._fail_lost(conn, [(job_id, row[9], row[8])], _now())
                row = conn.execute(sql, (job_id,)).fetchone()
        keys = ("id", "stage", "progress", "format", "type", "error", "error_type")
        record = dict(zip(keys, row[:7], strict=True))
        record.update(created=row[7], updated=row[8], done=record["stage"] in jobs.FINISHED)
        return record


class JobsState:
    """What the ``/jobs`` and ``/workflows`` handlers share: records, live jobs, workflows."""

    def __init__(
        self,
        jobs_path: str | os.PathLike | None = None,
        workflows_path: str | os.PathLike | None = None,
    ) -> None:
        self.records = JobRecords(jobs_path)
        self.workflows = WorkflowStore(workflows_path)
        self.live: dict[str, jobs.LocalJob] = {}
        self._lock = threading.Lock()
        #: Where the handlers read and write these stores and files, off the event loop.
        self.io = WorkQueue(IO_WORKERS, 32 * IO_WORKERS, name="io")
        self._closed = threading.Event()
        threading.Thread(target=self._renew_leases, name="tiles-job-leases", daemon=True).start()

    def _renew_leases(self) -> None:
        while not self._closed.wait(JOB_LEASE_SECONDS / 4):
            if any(not job.done for job in list(self.live.values())):
                try:
                    self.records.renew()
                except Exception:  # the database may be away for a moment; try again later
                    logger.warning("could not renew the leases of running jobs", exc_info=True)

    def submit(self, body: dict[str, Any]) -> jobs.LocalJob:
        """Validate a ``POST /jobs`` body and start the job."""
        from tiles.compute.evaluation import Request, execute_cached

        request = Request.from_json(body)
        cache = body.get("cache", True)
        num_retries = jobs.check_retries(body.get("num_retries"))
        if not isinstance(cache, bool):
            raise ParameterError("'cache' must be true or false")
        job = jobs.LocalJob(
            lambda progress: execute_cached(request, cache, progress),
            num_retries,
            on_change=self._changed,
        )
        job.format_type = request.format.type
        self.records.create(job.id, request.format.type, request.type_name)
        with self._lock:
            self.live[job.id] = job
        try:
            jobs.start(job)
        except jobs.ResourceExhaustedError:
            job.cancel()
            raise
        return job

    def _changed(self, job: jobs.LocalJob) -> None:
        if job.stage == jobs.SUCCEEDED and not self.records.has_result(job.id):
            output = job._output()
            data = output if isinstance(output, bytes) else formats.encode_result(output)
            self.records.save_result(job.id, data)
        self.records.update(job)

    def record(self, job_id: str) -> dict[str, Any]:
        """The job's current record (live progress when it runs here)."""
        record = self.records.get(job_id)
        live = self.live.get(job_id)
        # A finished job's record is only stored once its output is stored, so until
        # then the stored record (not the live job) is the truth.
        if live is not None and not record["done"] and not live.done:
            record.update(stage=live.stage, progress=live.progress)
        return record

    def result(self, job_id: str) -> tuple[dict[str, Any], bytes | None]:
        """The job's record and its output (None until it succeeded)."""
        record = self.record(job_id)
        data = self.records.result(job_id) if record["stage"] == jobs.SUCCEEDED else None
        return record, data

    def cancel(self, job_id: str) -> dict[str, Any]:
        """Cancel a job (finished jobs stay as they are)."""
        self.records.get(job_id)
        live = self.live.get(job_id)
        if live is not None:
            live.cancel()
        return self.record(job_id)

    def close(self) -> None:
        """Stop the I/O pool and close both databases."""
        self._closed.set()
        self.io.shutdown(wait=False)
        self.records.close()
        self.workflows.close()


_default_lock = threading.Lock()
_default_state: JobsState | None = None


def default_state() -> JobsState:
    """The process's state at the default paths (created on first use)."""
    global _default_state
    with _default_lock:
        if _default_state is None:
            _default_state = JobsState()
        return _default_state


class JobsBaseHandler(BaseHandler):
    """Jobs and workflows: private to programs and allowed pages; stores read off the loop."""

    public_reads = False

    def initialize(self, state: JobsState, access: AccessPolicy) -> None:
        """Take the jobs state and the access policy the route table gives."""
        self.state = state
        self.service = None
        self.access = access
        self.set_default_headers()

    def io_queue(self) -> WorkQueue:
        """The I/O pool these handlers read and write their stores on."""
        return self.state.io

    def wait_limit(self) -> float:
        """Seconds a request waits for its work before a 504."""
        return settings.TILE_TIMEOUT.get()

    def prepare(self) -> None:
        """Check Host and token before anything else (results are data too)."""
        super().prepare()
        if self.request.method in ("GET", "HEAD"):
            self.check_private()


class JobsHandler(JobsBaseHandler):
    """``POST /jobs``: start a computation for ``wf.connect`` clients."""

    async def post(self) -> None:
        """Queue the job in the JSON body and answer with its record."""
        body = await self.json_body()
        unknown = sorted(
            set(body) - {"graft", "arguments", "geoctx", "format", "type", "cache", "num_retries"}
        )
        if unknown:
            raise ParameterError(f"unknown field(s) {', '.join(unknown)}")
        job = await self.off_loop(self.state.submit, body)
        self.write_json(await self.off_loop(self.state.record, job.id), status=201)


class JobHandler(JobsBaseHandler):
    """``GET /jobs/{id}``: a job's record; ``DELETE /jobs/{id}``: cancel it."""

    async def get(self, job_id: str) -> None:
        """Answer with the job's record (stage, progress, error)."""
        self.write_json(await self.off_loop(self.state.record, job_id))

    async def delete(self, job_id: str) -> None:
        """Cancel the job and answer with its record."""
        self.write_json(await self.off_loop(self.state.cancel, job_id))


class JobResultHandler(JobsBaseHandler):
    """``GET /jobs/{id}/result``: a finished job's result, in its format."""

    async def get(self, job_id: str) -> None:
        """Send the job's result, or an error saying why there is none yet."""
        record, data = await self.off_loop(self.state.result, job_id)
        if data is None:
            message = record.get("error") or f"job {job_id} is {record['stage']}, not finished"
            # The job's own error type, so a client raises what the job raised.
            self.write_json(
                {"error": message, "error_type": record.get("error_type"), "status": 409},
                status=409,
            )
            return
        self.set_header(
            "Content-Type", formats.MIMETYPES.get(record["format"], "application/octet-stream")
        )
        self.set_header("Cache-Control", "no-store")
        self.finish(data)


class WorkflowsHandler(JobsBaseHandler):
    """``GET /workflows``: published workflows; ``POST /workflows``: publish a version."""

    async def get(self) -> None:
        """Answer with the published workflows."""
        self.write_json({"workflows": await self.off_loop(self.state.workflows.list)})

    async def post(self) -> None:
        """Store the workflow version in the JSON body."""
        body = await self.json_body()
        for name in ("id", "version", "graft", "typespec"):
            if name not in body:
                raise ParameterError(f"missing field {name!r}")
        workflow, known = await self.off_loop(self._publish, body)
        self.write_json(workflow, status=200 if known else 201)

    def _publish(self, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        from tiles.compute.workflows import check_record, check_viz_options

        check_record(body)
        body["viz_options"] = check_viz_options(body.get("viz_options"))
        try:
            versions = self.state.workflows.get(body["id"])["versions"]
        except NotFoundError:
            versions = []
        known = body["version"] in {v["version"] for v in versions}
        return self.state.workflows.publish(body), known


class WorkflowHandler(JobsBaseHandler):
    """``GET /workflows/{id}``: one workflow with its versions."""

    async def get(self, workflow_id: str) -> None:
        """Answer with the workflow."""
        self.write_json(await self.off_loop(self.state.workflows.get, workflow_id))


class WorkflowVersionHandler(JobsBaseHandler):
    """``GET /workflows/{id}/versions/{version}``: one version of a workflow."""

    async def get(self, workflow_id: str, version: str) -> None:
        """Answer with the version."""
        self.write_json(await self.off_loop(self.state.workflows.get_version, workflow_id, version))


def jobs_routes(access: AccessPolicy, state: JobsState | None = None) -> list[tuple]:
    """The URL table for ``/jobs`` and ``/workflows`` (``state`` defaults to the process's)."""
    kw = {"state": state or default_state(), "access": access}
    job = r"/jobs/([0-9a-zA-Z_-]+)"
    workflow = r"/workflows/([^/]+)"
    return [
        (r"/jobs/?", JobsHandler, kw),
        (job + r"/?", JobHandler, kw),
        (job + r"/result", JobResultHandler, kw),
        (r"/workflows/?", WorkflowsHandler, kw),
        (workflow + r"/?", WorkflowHandler, kw),
        (workflow + r"/versions/([^/]+)/?", WorkflowVersionHandler, kw),
    ]
