"""The default catalog: the store at ``TILES_CATALOG``, with the sample products registered.

What ``wf.catalog.*`` and ``ImageCollection.from_id`` use when no catalog is named.

Example::

    >>> from tiles.data.default_catalog import default_catalog
    >>> "sample:s2" in [p.id for p in default_catalog().products()]
    True
"""

from __future__ import annotations

import threading
from pathlib import Path

from tiles import settings
from tiles.data.sample import ensure_sample_catalog
from tiles.data.store import Catalog

__all__ = ["default_catalog", "default_catalog_path"]

_default_lock = threading.Lock()
_default_catalogs: dict[Path | str, Catalog] = {}


def default_catalog_path() -> Path | str:
    """Where the default catalog lives.

    Returns
    -------
    Path or str
        ``$TILES_CATALOG`` (a file, or a ``postgresql://`` URL), else
        ``$XDG_CACHE_HOME/tiles/catalog.sqlite`` (``~/.cache`` default).
    """
    return settings.CATALOG.get()


def default_catalog() -> Catalog:
    """The catalog at :func:`default_catalog_path`, with the built-in sample data registered.

    The place is looked up on every call (so changing ``TILES_CATALOG`` takes effect); the
    sample check runs once per catalog per process.

    Returns
    -------
    Catalog
        One instance per catalog per process.
    """
    path = default_catalog_path()
    if not isinstance(path, str):
        path = path.expanduser().resolve()
    cat = _default_catalogs.get(path)
    if cat is not None:
        return cat
    with _default_lock:
        cat = _default_catalogs.get(path)
        if cat is None:
            cat = Catalog(path)
            ensure_sample_catalog(cat)
            _default_catalogs[path] = cat
    return cat
