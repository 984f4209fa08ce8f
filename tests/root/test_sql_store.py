"""The store base on SQLite and on a real PostgreSQL server: versioned migrations, old files
brought up to date, WAL, sharing a database between connections, threads, processes and
stores; and the six stores built on it."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tiles.compute.workflows import WorkflowStore
from tiles.data.store import Catalog
from tiles.data.vector_products import VectorProductTable
from tiles.errors import DataError, ParameterError, UnavailableError, status_of
from tiles.grpc.store import XYZRecord, XYZStore
from tiles.server.jobs_handlers import JobRecords
from tiles.server.layers import LayerStore, make_layer
from tiles.sql_store import SQLStore, sql_statements

NOTES_V1 = """
CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS notes_by_text ON notes (text);
"""


def _store_class(steps, per_thread: bool = False, name: str = "notes") -> type[SQLStore]:
    class Notes(SQLStore):
        NAME = name
        MIGRATIONS = tuple(steps)
        CONNECTION_PER_THREAD = per_thread

    return Notes


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path: Path):
    """An empty database of each kind: an SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "deep" / "folder" / "store.sqlite"  # folders are created
    return request.getfixturevalue("postgres_url")


def _raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(str(path), isolation_level=None)


def _stored_version(store: SQLStore) -> int:
    """The store's version as the database holds it, read on a connection of our own."""
    if store.dialect == "sqlite":
        conn = _raw(store.path)
        try:
            row = conn.execute(
                "SELECT version FROM schema_versions WHERE store = ?", (store.NAME,)
            ).fetchone()
        finally:
            conn.close()
    else:
        import psycopg

        with psycopg.connect(store.url) as conn:
            row = conn.execute(
                "SELECT version FROM schema_versions WHERE store = %s", (store.NAME,)
            ).fetchone()
    return 0 if row is None else row[0]


def _columns(store: SQLStore, table: str) -> list[str]:
    with store.reading() as conn:
        if store.dialect == "sqlite":
            return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
        return [
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                "ORDER BY ordinal_position",
                (table,),
            )
        ]


def test_migrations_run_once_each_and_in_order(database):
    path = database
    ran: list[str] = []

    def step(name: str):
        def run(conn) -> None:
            ran.append(name)
            # Each step sees what the steps before it made.
            conn.execute(f"INSERT INTO notes (id, text) VALUES ('{name}', '{name}')")

        return run

    steps = [NOTES_V1, step("two"), "ALTER TABLE notes ADD COLUMN created TEXT", step("four")]
    store = _store_class(steps)(path)
    assert ran == ["two", "four"]
    assert store.schema_version() == _stored_version(store) == 4
    assert _columns(store, "notes") == ["id", "text", "created"]
    store.close()

    _store_class(steps)(path).close()  # reopening runs nothing again
    assert ran == ["two", "four"]

    # A newer release appends a step: only that one runs.
    steps.append(step("five"))
    store = _store_class(steps)(path)
    assert ran == ["two", "four", "five"]
    with store.reading() as conn:
        assert sorted(r[0] for r in conn.execute("SELECT id FROM notes")) == [
            "five",
            "four",
            "two",
        ]
    assert store.schema_version() == 5


def test_a_failing_step_leaves_the_database_as_before_it(database):
    def broken(conn) -> None:
        conn.execute("CREATE TABLE half_done (x TEXT)")
        raise RuntimeError("step two fails")

    with pytest.raises(RuntimeError, match="step two fails"):
        _store_class([NOTES_V1, broken])(database)
    assert _stored_version(_store_class([NOTES_V1])(database)) == 1
    # The failed step's table was rolled back with it: creating it again works.
    store = _store_class([NOTES_V1, "CREATE TABLE half_done (x TEXT)"])(database)
    assert store.schema_version() == 2
    assert _columns(store, "half_done") == ["x"]


@pytest.mark.parametrize("user_version", [0, 1])
def test_an_old_file_without_a_version_is_brought_up_to_date(tmp_path: Path, user_version: int):
    path = tmp_path / "old.sqlite"
    # What stores wrote before: the schema and rows, with no version (0), or with the
    # version counted in PRAGMA user_version (1).
    old = _raw(path)
    old.executescript(NOTES_V1)
    old.execute("INSERT INTO notes VALUES ('kept', 'from before')")
    old.execute(f"PRAGMA user_version = {user_version}")
    old.close()

    store = _store_class([NOTES_V1, "ALTER TABLE notes ADD COLUMN created TEXT"])(path)
    assert store.schema_version() == 2
    with store.reading() as conn:
        assert conn.execute("SELECT id, text, created FROM notes").fetchall() == [
            ("kept", "from before", None)
        ]


@pytest.mark.parametrize(
    "make, table",
    [
        (lambda p: Catalog(p), "products"),
        (lambda p: LayerStore(p), "layers"),
        (lambda p: JobRecords(p), "jobs"),
        (lambda p: WorkflowStore(p), "workflows"),
        (lambda p: XYZStore(p), "xyz"),
        (lambda p: VectorProductTable(p), "vector_products"),
    ],
)
def test_each_store_opens_files_written_before_versions(tmp_path: Path, make, table: str):
    path = tmp_path / "store.sqlite"
    first = make(path)
    steps = type(first).MIGRATIONS
    first.close()
    path.unlink()
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    old = _raw(path)  # the file as the store's code wrote it before versions existed
    old.executescript(steps[0])
    old.close()
    store = make(path)
    assert store.schema_version() == len(steps) == _stored_version(store)
    with store.reading() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0
    store.close()


def test_a_database_from_a_newer_version_is_refused(database):
    _store_class([NOTES_V1, "ALTER TABLE notes ADD COLUMN created TEXT"])(database).close()
    with pytest.raises(DataError, match="schema version 2 of notes, newer than the 1"):
        _store_class([NOTES_V1])(database)


def test_a_database_locked_while_it_is_opened_is_unavailable_for_now(tmp_path, monkeypatch):
    path = tmp_path / "notes.sqlite"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process, in the middle of a write
    monkeypatch.setenv("TILES_DB_TIMEOUT", "0.2")
    try:
        with pytest.raises(UnavailableError, match="cannot open the notes database") as caught:
            _store_class([NOTES_V1])(path)
        assert status_of(caught.value).http == 503
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert _store_class([NOTES_V1])(path).schema_version() == 1


@pytest.mark.parametrize("per_thread", [False, True])
@pytest.mark.parametrize("where", ["not a database", "under a file"])
def test_a_file_that_cannot_hold_the_database_is_named_in_a_data_error(tmp_path, where, per_thread):
    (tmp_path / "a file").write_text("not SQLite\n" * 100)
    path = tmp_path / "a file" if where == "not a database" else tmp_path / "a file" / "x.sqlite"
    with pytest.raises(DataError, match=f"cannot open the notes database at {path}"):
        _store_class([NOTES_V1], per_thread=per_thread)(path)


@pytest.mark.parametrize("per_thread", [False, True])
def test_wal_and_busy_timeout_on_every_connection(tmp_path: Path, per_thread: bool, monkeypatch):
    monkeypatch.setenv("TILES_DB_TIMEOUT", "7.5")
    store = _store_class([NOTES_V1], per_thread)(tmp_path / "notes.sqlite")
    with store.reading() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 7500
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    # WAL is a property of the file: a plain connection sees it too.
    assert _raw(tmp_path / "notes.sqlite").execute("PRAGMA journal_mode").fetchone()[0] == "wal"


_OTHER_PROCESS = """
import sys
from tiles.sql_store import SQLStore

class Notes(SQLStore):
    NAME = "notes"
    MIGRATIONS = (sys.argv[2],)

store = Notes(sys.argv[1])
with store.reading() as conn:
    print(conn.execute("SELECT text FROM notes WHERE id = 'a'").fetchone()[0])
with store.transaction() as conn:
    conn.execute("INSERT INTO notes VALUES (?, ?)", ("b", "from the other process"))
"""


@pytest.mark.parametrize(
    "kind, per_thread", [("sqlite", False), ("sqlite", True), ("postgresql", False)]
)
def test_another_process_sees_committed_data_and_we_see_its(request, tmp_path, kind, per_thread):
    # PostgreSQL connections always come from the process's pool.
    if kind == "sqlite":
        path = tmp_path / "notes.sqlite"
    else:
        path = request.getfixturevalue("postgres_url")
    store = _store_class([NOTES_V1], per_thread)(path)
    with store.transaction() as conn:
        conn.execute("INSERT INTO notes VALUES ('a', 'from this process')")
    done = subprocess.run(
        [sys.executable, "-c", _OTHER_PROCESS, str(path), NOTES_V1],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "from this process"
    with store.reading() as conn:  # the same, still open connection
        assert conn.execute("SELECT text FROM notes WHERE id = 'b'").fetchone() == (
            "from the other process",
        )


def test_a_transaction_that_raises_is_rolled_back(database):
    store = _store_class([NOTES_V1])(database)
    with pytest.raises(ZeroDivisionError):
        with store.transaction() as conn:
            conn.execute("INSERT INTO notes VALUES ('a', 'never kept')")
            1 / 0  # noqa: B018
    with store.reading() as conn:
        assert conn.execute("SELECT count(*) FROM notes").fetchone()[0] == 0
        if store.dialect == "sqlite":  # the connection is usable: no transaction left open
            assert conn.in_transaction is False


def test_per_thread_connections_and_a_shared_in_memory_database():
    shared = _store_class([NOTES_V1])(":memory:")
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            for j in range(20):
                with shared.transaction() as conn:
                    conn.execute("INSERT INTO notes VALUES (?, ?)", (f"{i}-{j}", "x"))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with shared.reading() as conn:  # one database, whichever thread wrote
        assert conn.execute("SELECT count(*) FROM notes").fetchone()[0] == 80

    with pytest.raises(ParameterError, match="needs a file"):
        _store_class([NOTES_V1], per_thread=True)(":memory:")


def test_each_thread_gets_its_own_connection(tmp_path: Path):
    store = _store_class([NOTES_V1], per_thread=True)(tmp_path / "notes.sqlite")
    seen: list[int] = []

    def look() -> None:
        with store.reading() as conn:
            conn.execute("SELECT count(*) FROM notes").fetchone()
            seen.append(id(conn))

    look()
    look()
    worker = threading.Thread(target=look)
    worker.start()
    worker.join()
    assert seen[0] == seen[1] and seen[2] != seen[0]
    store.close()
    with pytest.raises(sqlite3.ProgrammingError):
        look()


def test_sql_statements_split_scripts_where_sqlite_would():
    script = """
        CREATE TABLE a (x TEXT DEFAULT ';');
        CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET x = 'y;'; END;
    """
    assert list(sql_statements(script)) == [
        "CREATE TABLE a (x TEXT DEFAULT ';');",
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET x = 'y;'; END;",
    ]
    assert list(sql_statements("CREATE TABLE a (x);\n CREATE TABLE b (y)\n")) == [
        "CREATE TABLE a (x);",
        "CREATE TABLE b (y)",
    ]
    assert list(sql_statements(" ;\n ")) == []


def test_a_store_without_a_path_uses_its_setting(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("TILES_JOBS_DB", str(tmp_path / "elsewhere" / "jobs.sqlite"))
    records = JobRecords()
    assert records.path == tmp_path / "elsewhere" / "jobs.sqlite"
    assert records.path.is_file()
    records.close()
    with pytest.raises(ParameterError, match="needs a database path or URL"):
        _store_class([NOTES_V1])()


def test_placeholders_and_percent_signs_inside_literals_are_kept(database):
    store = _store_class([NOTES_V1])(database)
    with store.transaction() as conn:
        conn.execute("INSERT INTO notes VALUES (?, 'why? 100% sure')", ("a",))
        conn.execute("INSERT INTO notes VALUES ('it''s ?', ?)", ("50% off?",))
    with store.reading() as conn:
        rows = conn.execute("SELECT id, text FROM notes WHERE text LIKE ? ORDER BY id", ("%?%",))
        assert sorted(rows.fetchall()) == [("a", "why? 100% sure"), ("it's ?", "50% off?")]


def test_stores_sharing_one_database_keep_their_own_versions(database):
    # TILES_REGISTRY puts layers, jobs, workflows and XYZ objects in one database.
    layers, jobs, workflows, xyz = (
        LayerStore(database),
        JobRecords(database),
        WorkflowStore(database),
        XYZStore(database),
    )
    for store in (layers, jobs, workflows, xyz):
        assert store.schema_version() == len(type(store).MIGRATIONS) == _stored_version(store)
    two = _store_class([NOTES_V1, "ALTER TABLE notes ADD COLUMN created TEXT"])(database)
    assert two.schema_version() == 2 and layers.schema_version() == 1
    assert jobs.schema_version() == 3


def _xyz_record(xyz_id: str, **changes) -> XYZRecord:
    fields = dict(
        id=xyz_id,
        layer_id="L1",
        name="a name",
        description="",
        graft='{"returns": "0", "0": 1}',
        typespec=b"\x00\x01binary",
        parameters=[b"p1", b"\xff"],
        viz_options=[],
        result_type=3,
        channel="v1",
        client_version="1.12.1",
        user="me",
        public=True,
        created_ms=1_700_000_000_000,  # beyond 32-bit integers
        updated_ms=1_700_000_000_000,
        expires_ms=4_000_000_000_000,
    )
    fields.update(changes)
    return XYZRecord(**fields)


def test_every_store_works_on_postgresql(postgres_url: str, tmp_path: Path):
    """Each store's writes and reads on PostgreSQL, seen by a second instance (another
    process would open it the same way)."""
    # Catalog: a product and an image, found by date and place, replaced by an upsert.
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin

    from tiles.data.sample import SCENES, ensure_sample_catalog  # noqa: F401
    from tiles.data.vector_products import create_vector_product, vector_products

    tif = tmp_path / "scene_20200105.tif"
    with rasterio.open(
        tif,
        "w",
        driver="GTiff",
        width=20,
        height=10,
        count=1,
        dtype="uint8",
        crs="EPSG:32613",
        transform=from_origin(400000, 3950000, 30, 30),
    ) as dst:
        dst.write(np.arange(200, dtype="uint8").reshape(1, 10, 20))
    catalog = Catalog(postgres_url)
    catalog.create_product("p", [{"name": "b", "data_range": (0, 255)}])
    first = catalog.add_image("p", tif, properties={"cloud": 0.25})
    again = catalog.add_image("p", tif, properties={"cloud": 0.5})
    other = Catalog(postgres_url)
    found = other.search("p", start="2020-01-01", end="2020-02-01", bbox_lonlat=first.bounds_lonlat)
    assert [r.id for r in found] == [first.id] and found[0].properties == {"cloud": 0.5}
    assert found[0] == again and found[0].geotrans == first.geotrans
    assert found[0].acquired == dt.datetime(2020, 1, 5, tzinfo=dt.timezone.utc)
    assert other.search("p", start="2020-01-06") == []

    # Layers: registered through one registry, found by another, listed, deleted.
    registry, second = LayerStore(postgres_url), LayerStore(postgres_url)
    layer = registry.add(make_layer({"0": 1, "returns": "0"}, name="one"))
    assert second.get(layer.id) == layer
    assert [x.id for x in second.list()] == [layer.id]
    assert second.add(make_layer({"0": 1, "returns": "0"}, name="one")) == layer
    registry.delete(layer.id)
    assert second.list() == []

    # Jobs: a record and its output bytes.
    records = JobRecords(postgres_url)
    records.create("j1", "geotiff", "Image")
    records.save_result("j1", b"\x00result\xff")
    assert JobRecords(postgres_url).get("j1")["stage"] == "QUEUED"
    assert JobRecords(postgres_url).result("j1") == b"\x00result\xff"

    # Workflows: publish twice (the upsert of workflow metadata), read back.
    workflows = WorkflowStore(postgres_url)
    record = {
        "id": "me:w",
        "version": "1.0.0",
        "graft": {"0": 2, "returns": "0"},
        "typespec": "Int",
        "title": "first",
    }
    workflows.publish(record)
    workflows.publish({**record, "version": "1.1.0", "title": "second"})
    got = WorkflowStore(postgres_url).get("me:w")
    assert got["title"] == "second" and [v["version"] for v in got["versions"]] == [
        "1.0.0",
        "1.1.0",
    ]

    # XYZ objects: binary fields, 64-bit times, the reserved word "user", replace, delete.
    store = XYZStore(postgres_url)
    store.put(_xyz_record("x1"))
    store.put(_xyz_record("x1", name="renamed", created_ms=1_800_000_000_000))
    back = XYZStore(postgres_url).get("x1")
    assert back == _xyz_record("x1", name="renamed")  # the first creation time is kept
    assert [r.id for r in XYZStore(postgres_url).list()] == ["x1"]
    store.delete("x1")
    assert XYZStore(postgres_url).list() == []

    # Vector products: in the catalog database too.
    geojson = tmp_path / "v.geojson"
    geojson.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, '
        '"geometry": {"type": "Point", "coordinates": [-105.9, 35.7]}}]}'
    )
    create_vector_product("v", geojson, catalog_path=postgres_url)
    (product,) = vector_products(postgres_url)
    assert product.id == "v" and product.bounds_lonlat == (-105.9, 35.7, -105.9, 35.7)


_MIGRATE_AT_ONCE = """
import sys, threading
from tiles.server.layers import LayerStore
from tiles.server.jobs_handlers import JobRecords
barrier = float(sys.argv[2])
import time
time.sleep(max(0.0, barrier - time.time()))
LayerStore(sys.argv[1]); JobRecords(sys.argv[1])
print("ok")
"""


def test_processes_opening_a_new_database_at_once_migrate_it_once(database):
    import time

    start = time.time() + 3
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _MIGRATE_AT_ONCE, str(database), str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in outputs]
    assert JobRecords(database).schema_version() == 3


def test_a_postgresql_out_of_connections_is_unavailable_after_the_db_timeout(
    postgres_url, monkeypatch
):
    from tiles.sql_store import POOL_SIZE

    store = _store_class([NOTES_V1])(postgres_url)
    monkeypatch.setenv("TILES_DB_TIMEOUT", "0.5")
    held, release = threading.Barrier(POOL_SIZE + 1), threading.Event()

    def hold() -> None:
        with store.reading():
            held.wait()
            release.wait(60)

    holders = [threading.Thread(target=hold) for _ in range(POOL_SIZE)]
    for t in holders:
        t.start()
    try:
        held.wait(60)  # every connection of the pool is taken
        with pytest.raises(UnavailableError, match="did not answer") as caught:
            with store.reading() as conn:
                conn.execute("SELECT 1")
        assert status_of(caught.value).http == 503
    finally:
        release.set()
        for t in holders:
            t.join(60)
    with store.reading() as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_a_postgresql_connection_cut_by_the_server_is_unavailable_then_replaced(postgres_url):
    import psycopg

    store = _store_class([NOTES_V1])(postgres_url)
    with store.reading() as conn:
        ours = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    admin = postgres_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:  # as a restart of the server would
        assert conn.execute("SELECT pg_terminate_backend(%s)", (ours,)).fetchone() == (True,)
    with pytest.raises(UnavailableError, match="did not answer"):
        with store.reading() as conn:
            assert conn.execute("SELECT pg_backend_pid()").fetchone()[0] == ours
    with store.reading() as conn:  # the pool dropped the cut connection and made another
        assert conn.execute("SELECT 1").fetchone() == (1,)
