"""Shared fixtures: the real data folder and an isolated catalog per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real imagery folder beside the project; tests using it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session", autouse=True)
def isolated_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Point TILES_CATALOG at a fresh file so tests never touch a user's catalog."""
    path = tmp_path_factory.mktemp("catalog") / "catalog.sqlite"
    os.environ["TILES_CATALOG"] = str(path)
    return path
