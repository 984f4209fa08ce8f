"""Settings from the environment: every numeric one takes finite numbers only, and anything
else (nan, infinities, numbers too large for an int) falls back to its default with a
warning naming it, rather than reaching the server (nan once killed it on the first tile);
and README's settings table is the one the settings make."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import pytest

from tiles import settings


def _numeric() -> list[settings.Setting]:
    found = []
    for setting in settings.all_settings():
        try:
            value = setting.parse("4")
        except ValueError:
            continue
        if isinstance(value, int | float) and not isinstance(value, bool):
            found.append(setting)
    return found


NUMERIC = _numeric()


def test_the_numeric_settings_are_found():
    names = {s.name for s in NUMERIC}
    assert {"TILES_SWITCH_INTERVAL_MS", "TILES_TILE_WORKERS", "TILES_PNG_CACHE_MB"} <= names


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "1e400", "-1e400", "NaN"])
@pytest.mark.parametrize("setting", NUMERIC, ids=lambda s: s.name)
def test_a_number_that_is_not_finite_is_ignored_with_a_warning(setting, text, monkeypatch, caplog):
    monkeypatch.setenv(setting.name, text)
    with caplog.at_level(logging.WARNING, logger="tiles.settings"):
        value = setting.get()
    assert value == setting.default_value()
    assert math.isfinite(value)
    assert any(setting.name in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("setting", NUMERIC, ids=lambda s: s.name)
def test_a_finite_number_within_bounds_is_taken(setting, monkeypatch):
    monkeypatch.setenv(setting.name, "7")
    assert setting.get() == setting.parse("7") and setting.parse("7") > 0


def test_readme_s_settings_table_is_the_settings_own():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert settings.table() in readme
    assert len(settings.table().splitlines()) == len(settings.all_settings()) + 2


@pytest.mark.parametrize(
    ("setting", "text", "taken"),
    [
        (settings.DASK_SCHEDULER, "local:abc", False),
        (settings.DASK_SCHEDULER, "local:0", False),
        (settings.DASK_SCHEDULER, "local:3", True),
        (settings.DASK_SCHEDULER, "tcp://10.0.0.5:8786", True),
        (settings.STATIC, "/nonexistent/viewer", False),
    ],
)
def test_values_that_cannot_work_are_ignored_with_a_warning(setting, text, taken, monkeypatch):
    monkeypatch.setenv(setting.name, text)
    assert setting.get() == (text if taken else setting.default_value())


def test_a_static_folder_that_exists_is_taken(tmp_path, monkeypatch):
    monkeypatch.setenv("TILES_STATIC", str(tmp_path))
    assert settings.STATIC.get() == tmp_path


def test_settings_that_cannot_work_leave_their_users_on_the_default(monkeypatch):
    from tiles.compute import distributed
    from tiles.server.app import static_dir

    monkeypatch.setenv("TILES_STATIC", "/nonexistent/viewer")
    monkeypatch.setenv("TILES_DASK_SCHEDULER", "local:abc")
    assert (static_dir() / "index.html").is_file()  # the packaged viewer
    assert not distributed.enabled() and distributed.describe() is None
    monkeypatch.setenv("TILES_TILE_WORKERS", "nan")
    assert not settings.TILE_WORKERS.is_set()  # serve shares the cores out as by default
