"""Computing and publishing on a running tile server (``python -m tiles serve``) over HTTP.

>>> import tiles as wf                                          # doctest: +SKIP
>>> wf.connect("http://127.0.0.1:8000")                         # doctest: +SKIP
>>> (wf.Int(1) + 1).compute()    # runs on the server            # doctest: +SKIP
2
>>> wf.connect(None)             # back to computing in-process  # doctest: +SKIP

While connected, ``compute``, ``inspect``, ``publish``, ``use`` and ``Workflow.get`` go to
the server (see :mod:`tiles.server.jobs_handlers` for the endpoints) and give the same
results as in-process.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from typing import Any

from tiles.compute import jobs
from tiles.compute.http import ApiClient, error_from_json


class Connection(ApiClient):
    """A tile server to compute, publish and use workflows on.

    Parameters
    ----------
    url : str
        The server's base URL.
    token : str, optional
        The server's token (default ``TILES_TOKEN``).
    """

    # -- jobs --

    def submit(
        self, request: Any, cache: bool = True, num_retries: int | None = None, file: Any = None
    ) -> RemoteJob:
        """Start a job computing a :class:`tiles.compute.evaluation.Request` on the server."""
        body = {**request.to_json(), "cache": cache, "num_retries": num_retries}
        record = self.json("POST", "/jobs", body)
        return RemoteJob(self, record, request.format.type, file)

    def job(self, job_id: str) -> RemoteJob:
        """A job on the server, by id."""
        record = self.json("GET", f"/jobs/{urllib.parse.quote(job_id)}")
        return RemoteJob(self, record, record["format"])

    # -- workflows (the same names as tiles.compute.workflows.WorkflowStore) --

    def publish_record(self, record: dict[str, Any]) -> dict[str, Any]:
        """Store a published workflow version on the server.

        Parameters
        ----------
        record:
            The workflow record :func:`tiles.compute.workflows.make_record` builds.

        Returns
        -------
        dict
            The stored workflow, as the server returns it.
        """
        return self.json("POST", "/workflows", record)

    def get_workflow(self, workflow_id: str) -> dict[str, Any]:
        """The workflow ``workflow_id`` with all its versions, as the server stores it.

        Parameters
        ----------
        workflow_id:
            The workflow's id.

        Returns
        -------
        dict
        """
        return self.json("GET", f"/workflows/{urllib.parse.quote(workflow_id, safe='')}")

    def get_version(self, workflow_id: str, version: str) -> dict[str, Any]:
        """One version of a workflow, as the server stores it.

        Parameters
        ----------
        workflow_id:
            The workflow's id.
        version:
            The version string.

        Returns
        -------
        dict
        """
        wid = urllib.parse.quote(workflow_id, safe="")
        return self.json("GET", f"/workflows/{wid}/versions/{urllib.parse.quote(version, safe='')}")


class RemoteJob(jobs.Job):
    """A job running on a tile server; its state is polled."""

    def __init__(
        self, connection: Connection, record: dict[str, Any], format_type: str, file: Any = None
    ) -> None:
        self.connection = connection
        self.id = record["id"]
        self.format_type = format_type
        self.file = file
        self._record = record
        self._value: Any = None
        self._fetched = False

    @property
    def stage(self) -> str:
        """The job's stage as the server last reported it."""
        return self._record["stage"]

    @property
    def progress(self) -> float:
        """The fraction of the job done, from 0.0 to 1.0, as the server last reported it."""
        return 1.0 if self.stage == jobs.SUCCEEDED else float(self._record.get("progress") or 0)

    @property
    def error(self) -> BaseException | None:
        """The exception the job failed with on the server, else None."""
        if self._record.get("error") is None and self.stage != jobs.FAILED:
            return None
        return error_from_json(self._record, f"job {self.id} failed")

    def refresh(self) -> None:
        """Ask the server for the job's current record (a finished job is not asked again)."""
        if self._record["stage"] not in jobs.FINISHED:
            self._record = self.connection.json("GET", f"/jobs/{self.id}")

    def cancel(self) -> None:
        """Ask the server to cancel the job."""
        self._record = self.connection.json("DELETE", f"/jobs/{self.id}")

    def _wait_step(self, seconds: float) -> None:
        time.sleep(seconds)

    def _output(self) -> Any:
        if not self._fetched:
            from tiles.compute.formats import decode_result

            raw, _ = self.connection.request("GET", f"/jobs/{self.id}/result")
            self._value = decode_result(raw) if self.format_type == "pyarrow" else raw
            self._fetched = True
        return self._value


_lock = threading.Lock()
_current: Connection | None = None


def connect(url: str | None, token: str | None = None) -> Connection | None:
    """Send computations and workflows to the server at ``url``; None computes in-process.

    The server is asked for ``/health`` first, so a wrong URL fails here.
    """
    global _current
    if url is None:
        with _lock:
            _current = None
        return None
    connection = Connection(url, token)
    connection.json("GET", "/health")
    with _lock:
        _current = connection
    return connection


def current() -> Connection | None:
    """The connected server, or None when computing in-process."""
    return _current


def connection_for(client: Any) -> Connection | None:
    """``client`` when it is a :class:`Connection`, else the connected server (None: none).

    Parameters
    ----------
    client : Connection or None
        What a caller passed as ``client=`` to ``compute``, ``inspect`` or ``publish``.

    Returns
    -------
    Connection or None
        Where to send the work; None means this process.
    """
    if client is None:
        return current()
    if not isinstance(client, Connection):
        raise TypeError(
            f"client must be a connection from wf.connect(url), not {type(client).__name__}"
        )
    return client
