"""Helpers shared by tests of every layer: real-data names, free ports and a cross-process lock."""

from __future__ import annotations

import contextlib
import fcntl
import socket
from collections.abc import Iterator
from pathlib import Path

#: Folders of the real data folder (the ``shared_data`` fixture) that several layers read.
NAIP = "optical/naip_timeseries_m_4709963_se_14"
S2 = "optical/sentinel2_l2a_29RKH_20200219"
#: The NAIP quarter-quad's four uint8 bands as a catalog product declares them.
NAIP_BANDS = [
    {"name": n, "data_range": (0, 255), "nodata": 0} for n in ("red", "green", "blue", "nir")
]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) across processes.

    Parallel test workers use it to build a shared input once: the first one builds, the
    others wait and then find it ready.
    """
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def catalog_beside_sample(folder: Path, sample: Path) -> Path:
    """A new catalog's path in ``folder``, whose built-in sample files are those in ``sample``.

    The sample files of a catalog live in a folder beside it (``sample_data_dir``); linking
    that folder to files generated already makes the catalog register them instead of
    generating its own copy.
    """
    link = folder / sample.name
    if not link.exists():
        link.symlink_to(sample, target_is_directory=True)
    return folder / "catalog.sqlite"
