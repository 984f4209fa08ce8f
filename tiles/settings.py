"""Every environment variable the package reads: its name, default and meaning, in one place.

Values are read when asked for, not at import, so a process (or a test) may change them
between calls. A value that does not parse falls back to the default with a warning.
README's "Settings" table is :func:`table`'s output.

Example::

    >>> from tiles import settings
    >>> settings.CHUNK_SIDE.get()  # doctest: +SKIP
    2048
"""

from __future__ import annotations

import logging
import math
import os
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Setting:
    """One environment variable: its name, default, how it parses and what it means.

    Parameters
    ----------
    name:
        The environment variable.
    default:
        The value when it is unset (or a callable giving it, for defaults derived from
        other settings or the machine).
    parse:
        Turns the variable's text into a value; raises ``ValueError`` on bad text.
    meaning:
        One line for README's table.

    Example
    -------
    >>> Setting("TILES_X", 3, int, "an example").get()
    3
    """

    name: str
    default: Any
    parse: Callable[[str], Any]
    meaning: str

    def default_value(self) -> Any:
        """The value used when the variable is unset.

        Returns
        -------
        Any
            ``default``, called first when it is callable.
        """
        return self.default() if callable(self.default) else self.default

    def get(self) -> Any:
        """The variable's current value, parsed, else the default.

        Returns
        -------
        Any
            The parsed value; the default when unset, empty or unparsable.
        """
        text = os.environ.get(self.name)
        if text is None or text.strip() == "":
            return self.default_value()
        try:
            return self.parse(text)
        except (ValueError, OverflowError):  # 1e400 is a float; int() of it overflows
            logger.warning("ignoring %s=%r: not a valid value; using the default", self.name, text)
            return self.default_value()

    def is_set(self) -> bool:
        """Whether the variable holds a value that parses (one that does not counts as unset,
        as :meth:`get` treats it).

        Returns
        -------
        bool
        """
        text = os.environ.get(self.name, "")
        if not text.strip():
            return False
        try:
            self.parse(text)
        except (ValueError, OverflowError):
            return False
        return True


def _finite(text: str) -> float:
    # nan passes every comparison with a bound and inf overflows int(): neither is a setting.
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def _at_least(minimum: float, kind: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        value = kind(_finite(text))
        if value < minimum:
            raise ValueError(f"{value} < {minimum}")
        return value

    return parse


def _path(text: str) -> Path:
    return Path(text).expanduser()


def _megabytes(text: str) -> int:
    value = _finite(text)
    if value < 0:
        raise ValueError("negative size")
    return int(value * 2**20)


def _text(text: str) -> str:
    return text


def _folder(text: str) -> Path:
    path = _path(text)
    if not path.is_dir():
        raise ValueError(f"{path} is not a folder")
    return path


def _dask_scheduler(text: str) -> str:
    """A scheduler address, ``local``, or ``local:N`` with N at least 1."""
    text = text.strip()
    if text.startswith("local:") and int(text.removeprefix("local:")) < 1:
        raise ValueError("a LocalCluster needs at least one worker")
    return text


def _cache_location(text: str) -> str:
    """``TILES_CACHE``: a Redis URL, or an absolute folder (a path or a ``file://`` URL)."""
    parts = urllib.parse.urlsplit(text.strip())
    if parts.scheme in ("redis", "rediss") or (
        parts.scheme in ("", "file") and not parts.netloc and parts.path.startswith("/")
    ):
        return text.strip()
    raise ValueError(f"TILES_CACHE must be a redis:// URL or an absolute folder path, not {text!r}")


#: URL schemes that name a PostgreSQL database instead of an SQLite file.
DATABASE_URL_SCHEMES = ("postgresql://", "postgres://")


def _database(text: str) -> Path | str:
    """A ``postgresql://`` URL as given, else an SQLite file path."""
    text = text.strip()
    return text if text.startswith(DATABASE_URL_SCHEMES) else _path(text)


def _cache_home() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def cache_folder() -> Path:
    """The folder of the package's own files: ``$XDG_CACHE_HOME/tiles`` (``~/.cache/tiles``).

    Returns
    -------
    Path
    """
    return _cache_home() / "tiles"


def _registry_or_beside_catalog(filename: str) -> Callable[[], Path | str]:
    def default() -> Path | str:
        registry = REGISTRY.get()
        if registry is not None:
            return registry
        catalog = CATALOG.get()
        folder = cache_folder() if isinstance(catalog, str) else catalog.parent
        return folder / filename

    return default


_ALL: list[Setting] = []


def _setting(name: str, default: Any, parse: Callable[[str], Any], meaning: str) -> Setting:
    setting = Setting(name, default, parse, meaning)
    _ALL.append(setting)
    return setting


# -- where things are stored -------------------------------------------------------------
CATALOG = _setting(
    "TILES_CATALOG",
    lambda: cache_folder() / "catalog.sqlite",
    _database,
    "the catalog: an SQLite file or a `postgresql://user:pass@host/db` URL "
    "(default `$XDG_CACHE_HOME/tiles/catalog.sqlite`)",
)
REGISTRY = _setting(
    "TILES_REGISTRY",
    None,
    _database,
    "where the server keeps layers, jobs, workflows and XYZ objects, all in one database: an "
    "SQLite file or a `postgresql://user:pass@host/db` URL shared by many server processes "
    "and machines (default: one SQLite file each, see the next three)",
)
SERVER_DB = _setting(
    "TILES_SERVER_DB",
    _registry_or_beside_catalog("layers.sqlite"),
    _database,
    "the tile server's layers (default `TILES_REGISTRY`, else `layers.sqlite` beside the "
    "catalog file)",
)
JOBS_DB = _setting(
    "TILES_JOBS_DB",
    _registry_or_beside_catalog("jobs.sqlite"),
    _database,
    "the server's `/jobs` records and results (default `TILES_REGISTRY`, else `jobs.sqlite` "
    "beside the catalog file)",
)
WORKFLOWS_DB = _setting(
    "TILES_WORKFLOWS_DB",
    _registry_or_beside_catalog("workflows.sqlite"),
    _database,
    "published workflows (default `TILES_REGISTRY`, else `workflows.sqlite` beside the "
    "catalog file)",
)
STATIC = _setting(
    "TILES_STATIC",
    None,
    _folder,
    "a folder of viewer files served at `/` instead of the packaged viewer",
)

# -- the server and its clients ------------------------------------------------------------
TOKEN = _setting(
    "TILES_TOKEN",
    None,
    _text,
    "the token that registering layers needs (required when bound off loopback); "
    "clients send it as a bearer token",
)
SERVER_URL = _setting(
    "TILES_SERVER_URL",
    None,
    lambda text: text.rstrip("/"),
    "a running tile server that `tile_layer`/`visualize` register layers on "
    "(default: one started in-process on a free loopback port)",
)
PUBLIC_URL = _setting(
    "TILES_PUBLIC_URL",
    None,
    _text,
    "the base URL browsers reach the server at (a Jupyter proxy route such as "
    "`/user/me/proxy/{port}`, or the public address of `serve`)",
)
BASEMAP = _setting(
    "TILES_BASEMAP",
    None,
    _text,
    "an XYZ URL template of a basemap the viewer offers under the layers (for example "
    "`https://tile.openstreetmap.org/{z}/{x}/{y}.png`); none by default, as offline",
)
TILE_TIMEOUT = _setting(
    "TILES_TILE_TIMEOUT",
    120.0,
    _at_least(0.001, float),
    "seconds a tile request waits for its computation before a 504 (the work goes on)",
)
MAX_BODY = _setting(
    "TILES_MAX_BODY_MB",
    64 * 2**20,
    _megabytes,
    "MB a request body may have (a layer, job or workflow with its graft), else 413",
)
DB_TIMEOUT = _setting(
    "TILES_DB_TIMEOUT",
    30.0,
    _at_least(0.0, float),
    "seconds a request waits for its database (a SQLite file another process keeps locked, "
    "a PostgreSQL server) before failing with a 503 and `Retry-After`",
)
MAX_IMAGES = _setting(
    "TILES_MAX_IMAGES",
    200,
    _at_least(1, int),
    "images a collection may hold in one tile before a 413",
)

# -- what one request may cost (tiles, values, jobs, published layers) --------------------
MAX_SECONDS = _setting(
    "TILES_MAX_SECONDS",
    300.0,
    _at_least(0.001, float),
    "seconds one request (a tile, a value, a job) may compute before it is stopped with a 413",
)
MAX_PIXELS = _setting(
    "TILES_MAX_PIXELS",
    100_000_000,
    _at_least(1, int),
    "pixels (rows x cols) of a grid one request may read or create (else 413)",
)
MAX_VALUE_BYTES = _setting(
    "TILES_MAX_VALUE_MB",
    2048 * 2**20,
    _megabytes,
    "MB one value of a request may take: the pixels read or computed at once (else 413)",
)
MAX_ELEMENTS = _setting(
    "TILES_MAX_ELEMENTS",
    10_000_000,
    _at_least(1, int),
    "items of one list or characters of one string a request may build (else 413)",
)
MAX_OPERATIONS = _setting(
    "TILES_MAX_OPERATIONS",
    5_000_000_000,
    _at_least(1, int),
    "element operations one step may do, such as a convolution's kernel size times its "
    "pixels (else 413)",
)

# -- computing ----------------------------------------------------------------------------
COMPUTE_WORKERS = _setting(
    "TILES_COMPUTE_WORKERS",
    lambda: max(1, min(8, os.cpu_count() or 1)),
    _at_least(1, int),
    "threads running background jobs (default: the CPU count, at most 8)",
)
TILE_WORKERS = _setting(
    "TILES_TILE_WORKERS",
    lambda: min(16, 2 * (os.cpu_count() or 1)),
    _at_least(1, int),
    "threads computing and encoding tiles in each server process (default: 2 per CPU, at "
    "most 16, so one thread's Python work overlaps another's GDAL reads; in each of several "
    "processes of `serve --workers`, the CPUs shared among them, at least 1)",
)
SWITCH_INTERVAL = _setting(
    "TILES_SWITCH_INTERVAL_MS",
    1.0,
    _at_least(0.01, float),
    "milliseconds a thread of `python -m tiles serve` keeps the GIL while another waits "
    "(Python's default is 5): shorter lets the event loop answer sooner while tiles compute",
)
CHUNK_SIDE = _setting(
    "TILES_CHUNK_SIDE",
    1024,
    _at_least(1, int),
    "side in pixels of the windows large computations are split into",
)

# -- reading ------------------------------------------------------------------------------
READ_THREADS = _setting(
    "TILES_READ_THREADS",
    lambda: min(16, (os.cpu_count() or 1) * 2 + 2),
    _at_least(1, int),
    "threads reading rasters (default: 2 per CPU + 2, at most 16)",
)
HTTP_TIMEOUT = _setting(
    "TILES_HTTP_TIMEOUT",
    30,
    _at_least(1, int),
    "seconds before a remote read (a COG over HTTP, a STAC API) gives up",
)

# -- sharing work between processes and machines ------------------------------------------
CACHE = _setting(
    "TILES_CACHE",
    None,
    _cache_location,
    "where every server process keeps rendered tiles and tile arrays, behind its own memory "
    "caches, and takes a short lock so one process computes a new tile: a Redis URL "
    "(`redis://host:6379/0`) for processes on many machines, or a folder (`/var/cache/tiles`) "
    "for those of one machine; `?prefix=name` to share one between deployments (default: "
    "`serve` with several processes shares a private folder, removed when it stops; one "
    "process keeps memory caches only)",
)
CACHE_TTL = _setting(
    "TILES_CACHE_TTL",
    24 * 3600,
    _at_least(1, int),
    "seconds an entry stays in the shared cache (default a day; Redis's own `maxmemory` with "
    "`allkeys-lru` bounds its bytes in Redis)",
)
CACHE_FOLDER = _setting(
    "TILES_CACHE_FOLDER_MB",
    256 * 2**20,
    _megabytes,
    "MB a shared cache folder holds before the least recently stored tiles go (default 256; "
    "0: `serve`'s processes share no folder unless `TILES_CACHE` names one, each cold tile "
    "then costs a little less CPU and a tile is cached only in the process that computed it)",
)

DASK_SCHEDULER = _setting(
    "TILES_DASK_SCHEDULER",
    None,
    _dask_scheduler,
    "a Dask scheduler (`tcp://host:8786`) that computes large GeoContexts block by block, or "
    "`local` (`local:N` for N workers) for a `distributed.LocalCluster` started on first use "
    "(default: compute in this process)",
)

# -- cache budgets ------------------------------------------------------------------------
GDAL_CACHE = _setting(
    "TILES_GDAL_CACHE_MB",
    64 * 2**20,
    _megabytes,
    "MB of decoded raster blocks GDAL keeps, shared by all open files (default 64)",
)
# Defaults sized for a laptop: 448 MB in all (README, "The tile server").
READ_CACHE = _setting(
    "TILES_READ_CACHE_MB",
    128 * 2**20,
    _megabytes,
    "MB of pixels read from rasters kept for reuse (default 128)",
)
RESULT_CACHE = _setting(
    "TILES_RESULT_CACHE_MB",
    64 * 2**20,
    _megabytes,
    "MB of computed results kept for reuse by `compute` (default 64)",
)
ARRAY_CACHE = _setting(
    "TILES_ARRAY_CACHE_MB",
    128 * 2**20,
    _megabytes,
    "MB of computed tile arrays the server keeps, so a restyle skips computing (default 128)",
)
PNG_CACHE = _setting(
    "TILES_PNG_CACHE_MB",
    64 * 2**20,
    _megabytes,
    "MB of rendered PNG tiles the server keeps (default 64)",
)


#: The byte budgets of the caches: together, what one server keeps (README, "The tile server").
CACHE_BUDGETS = (GDAL_CACHE, READ_CACHE, RESULT_CACHE, ARRAY_CACHE, PNG_CACHE)


def share_cache_budgets(processes: int) -> None:
    """Give this process ``1/processes`` of every cache budget, in its environment.

    The budgets are the whole server's, so a server of several processes stays within them;
    each worker process calls this once, before it builds its caches.

    Parameters
    ----------
    processes:
        The server's worker processes.

    Example
    -------
    >>> share_cache_budgets(1)  # one process keeps the whole budgets
    """
    if processes <= 1:
        return
    for setting in CACHE_BUDGETS:
        os.environ[setting.name] = repr(setting.get() / processes / 2**20)


def all_settings() -> list[Setting]:
    """Every setting, in README's order.

    Returns
    -------
    list of Setting
    """
    return list(_ALL)


def table() -> str:
    """README's settings table in Markdown: variable, default, meaning.

    Returns
    -------
    str
        One row per setting.
    """
    rows = ["| variable | meaning |", "|---|---|"]
    rows += [f"| `{s.name}` | {s.meaning} |" for s in _ALL]
    return "\n".join(rows)
