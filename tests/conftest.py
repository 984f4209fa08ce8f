"""Shared fixtures: the real data folder, the sample catalog, isolated catalogs and a tile server.

The built-in sample files take tens of seconds to generate, so one worker of a test run
generates them under a file lock and every catalog of the run (one per xdist worker, and
those of server subprocesses) links to that folder instead of generating its own. The files
are only read; each catalog still registers its own products and images.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import catalog_beside_sample, exclusive_lock
from tiles.data.catalog import Catalog
from tiles.data.sample import ensure_sample_catalog, sample_data_dir
from tiles.server import RunningServer

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real imagery folder beside the project; tests using it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder not found at {SHARED_DATA}")
    return SHARED_DATA


def _run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary folder of this test run, shared by all its xdist workers."""
    base = tmp_path_factory.getbasetemp()
    # Each xdist worker has its own base folder inside the run's one.
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def sample_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built-in sample files, generated once per test run and shared read-only."""
    run = _run_folder(tmp_path_factory)
    with exclusive_lock(run / "sample.lock"):
        template = Catalog(run / "sample-catalog" / "catalog.sqlite")
        ensure_sample_catalog(template)
    return sample_data_dir(template)


@pytest.fixture(scope="session", autouse=True)
def isolated_catalog(tmp_path_factory: pytest.TempPathFactory, sample_folder: Path) -> Path:
    """Point TILES_CATALOG at a fresh file so tests never touch a user's catalog."""
    path = catalog_beside_sample(tmp_path_factory.mktemp("catalog"), sample_folder)
    os.environ["TILES_CATALOG"] = str(path)
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A tile server in this process on 127.0.0.1, shared by the tests of one module.

    Modules that need other server settings define their own ``server`` fixture.
    """
    srv = RunningServer("127.0.0.1", 0, db_path=tmp_path_factory.mktemp("server") / "layers.sqlite")
    yield srv
    srv.stop()


# -- real services (PostgreSQL, Redis) ---------------------------------------------------
# `.ci/services.sh start DIR` starts both and prints these variables; CI always sets them.
POSTGRES_URL_VARIABLE = "TILES_TEST_POSTGRES_URL"
REDIS_URL_VARIABLE = "TILES_TEST_REDIS_URL"


def _service_url(variable: str, what: str) -> str:
    url = os.environ.get(variable, "").strip()
    if url:
        return url
    message = (
        f"{what} tests need {variable} (start the services with: "
        f'eval "$(bash .ci/services.sh start /tmp/tiles-services)")'
    )
    if os.environ.get("CI"):
        pytest.fail(f"CI must provide {variable}: {message}")
    pytest.skip(message)


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> str:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    import uuid

    psycopg = pytest.importorskip("psycopg")
    admin = _service_url(POSTGRES_URL_VARIABLE, "PostgreSQL")
    name = f"tiles_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield admin.rsplit("/", 1)[0] + "/" + name
    from tiles import sql_store

    sql_store.close_pools(lambda url: url.endswith("/" + name))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def redis_url() -> str:
    """The test Redis server's URL with a key prefix of this test's own."""
    import uuid

    pytest.importorskip("redis")
    url = _service_url(REDIS_URL_VARIABLE, "Redis")
    return f"{url}?prefix=test-{uuid.uuid4().hex[:12]}"
