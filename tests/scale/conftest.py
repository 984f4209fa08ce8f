"""The Dask cluster the scale tests share: a real 2-worker ``distributed.LocalCluster``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tiles.compute import distributed

#: Window side of the clusters' computations (small grids still split into several windows).
BLOCK = 512


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """TILES_DASK_SCHEDULER=local:2 for one module's tests (windows of :data:`BLOCK` pixels);
    the cluster closed after. Its worker processes start with this process's settings."""
    pytest.importorskip("distributed")
    saved = {k: os.environ.get(k) for k in ("TILES_DASK_SCHEDULER", "TILES_CHUNK_SIDE")}
    os.environ["TILES_CHUNK_SIDE"] = str(BLOCK)
    os.environ["TILES_DASK_SCHEDULER"] = "local:2"
    yield distributed.client()
    distributed.close()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
