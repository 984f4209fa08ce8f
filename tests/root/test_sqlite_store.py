"""The SQLite store base: versioned migrations, old files brought up to date, WAL, sharing
a file between connections, threads and processes; and the five stores built on it."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tiles.compute.workflows import WorkflowStore
from tiles.data.store import Catalog
from tiles.errors import DataError, ParameterError
from tiles.grpc.store import XYZStore
from tiles.server.jobs_handlers import JobRecords
from tiles.server.layers import LayerStore
from tiles.sqlite_store import BUSY_TIMEOUT_SECONDS, SQLiteStore, sql_statements

NOTES_V1 = """
CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS notes_by_text ON notes (text);
"""


def _store_class(steps, per_thread: bool = False) -> type[SQLiteStore]:
    class Notes(SQLiteStore):
        MIGRATIONS = tuple(steps)
        CONNECTION_PER_THREAD = per_thread

    return Notes


def _raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(str(path), isolation_level=None)


def _user_version(path: Path) -> int:
    conn = _raw(path)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def _columns(path: Path, table: str) -> list[str]:
    conn = _raw(path)
    try:
        return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
    finally:
        conn.close()


def test_migrations_run_once_each_and_in_order(tmp_path: Path):
    path = tmp_path / "deep" / "folder" / "notes.sqlite"  # folders are created
    ran: list[str] = []

    def step(name: str):
        def run(conn: sqlite3.Connection) -> None:
            ran.append(name)
            # Each step sees what the steps before it made.
            conn.execute(f"INSERT INTO notes (id, text) VALUES ('{name}', '{name}')")

        return run

    steps = [NOTES_V1, step("two"), "ALTER TABLE notes ADD COLUMN created TEXT", step("four")]
    store = _store_class(steps)(path)
    assert ran == ["two", "four"]
    assert store.schema_version() == _user_version(path) == 4
    assert _columns(path, "notes") == ["id", "text", "created"]
    store.close()

    _store_class(steps)(path).close()  # reopening runs nothing again
    assert ran == ["two", "four"]

    # A newer release appends a step: only that one runs.
    steps.append(step("five"))
    store = _store_class(steps)(path)
    assert ran == ["two", "four", "five"]
    with store.reading() as conn:
        assert [r[0] for r in conn.execute("SELECT id FROM notes ORDER BY rowid")] == [
            "two",
            "four",
            "five",
        ]
    assert store.schema_version() == 5


def test_a_failing_step_leaves_the_file_as_before_it(tmp_path: Path):
    path = tmp_path / "notes.sqlite"

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("step two fails")

    with pytest.raises(RuntimeError, match="step two fails"):
        _store_class([NOTES_V1, broken])(path)
    assert _user_version(path) == 1
    conn = _raw(path)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    assert tables == {"notes"}  # the failed step's table was rolled back with it

    fixed = _store_class([NOTES_V1, "CREATE TABLE half_done (x)"])(path)
    assert fixed.schema_version() == 2


def test_an_old_file_without_a_version_is_brought_up_to_date(tmp_path: Path):
    path = tmp_path / "old.sqlite"
    old = _raw(path)  # what stores did before versions: the schema, rows, user_version 0
    old.executescript(NOTES_V1)
    old.execute("INSERT INTO notes VALUES ('kept', 'from before')")
    old.close()
    assert _user_version(path) == 0

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
    assert store.schema_version() == len(steps) == _user_version(path)
    with store.reading() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0
    store.close()


def test_a_file_from_a_newer_version_is_refused(tmp_path: Path):
    path = tmp_path / "notes.sqlite"
    _store_class([NOTES_V1, "ALTER TABLE notes ADD COLUMN created TEXT"])(path).close()
    with pytest.raises(DataError, match="schema version 2, newer than the 1"):
        _store_class([NOTES_V1])(path)


@pytest.mark.parametrize("per_thread", [False, True])
def test_wal_and_busy_timeout_on_every_connection(tmp_path: Path, per_thread: bool):
    store = _store_class([NOTES_V1], per_thread)(tmp_path / "notes.sqlite")
    with store.reading() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == BUSY_TIMEOUT_SECONDS * 1000
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    # WAL is a property of the file: a plain connection sees it too.
    assert _raw(tmp_path / "notes.sqlite").execute("PRAGMA journal_mode").fetchone()[0] == "wal"


_OTHER_PROCESS = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
print(conn.execute("SELECT text FROM notes WHERE id = 'a'").fetchone()[0])
conn.execute("INSERT INTO notes VALUES ('b', 'from the other process')")
"""


@pytest.mark.parametrize("per_thread", [False, True])
def test_another_process_sees_committed_data_and_we_see_its(tmp_path: Path, per_thread: bool):
    path = tmp_path / "notes.sqlite"
    store = _store_class([NOTES_V1], per_thread)(path)
    with store.transaction() as conn:
        conn.execute("INSERT INTO notes VALUES ('a', 'from this process')")
    done = subprocess.run(
        [sys.executable, "-c", _OTHER_PROCESS, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "from this process"
    with store.reading() as conn:  # the same, still open connection
        assert conn.execute("SELECT text FROM notes WHERE id = 'b'").fetchone() == (
            "from the other process",
        )


def test_a_transaction_that_raises_is_rolled_back(tmp_path: Path):
    store = _store_class([NOTES_V1])(tmp_path / "notes.sqlite")
    with pytest.raises(ZeroDivisionError):
        with store.transaction() as conn:
            conn.execute("INSERT INTO notes VALUES ('a', 'never kept')")
            1 / 0  # noqa: B018
    with store.reading() as conn:
        assert conn.execute("SELECT count(*) FROM notes").fetchone()[0] == 0
        # The connection is usable again: no transaction was left open.
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
    with pytest.raises(ParameterError, match="needs a database path"):
        _store_class([NOTES_V1])()
