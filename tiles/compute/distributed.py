"""Large computations on a Dask cluster: the GeoContext split into blocks, each block's graft
evaluated on a worker, the blocks assembled (or their pixel reductions combined) here.

Used by ``compute`` and jobs when ``TILES_DASK_SCHEDULER`` is set (``tcp://host:8786``, or
``local`` / ``local:N`` for a ``distributed.LocalCluster`` of N single-threaded worker
processes, the number of CPUs by default, started on first use). Without it nothing here
runs. Two kinds of graph are split:

* **Imagery whose every operation is pixel-local** (see :mod:`tiles.compute.chunks`): the
  blocks are the windows of the chunked path (``TILES_CHUNK_SIDE``), with the same halos
  and the same whole-context catalog searches, so the assembled result equals the
  single-process one exactly. At most :func:`in_flight` blocks are computed or waiting to
  be copied in at once, so the client holds the result plus that many blocks.
* **A reduction over pixels** (``count``, ``sum``, ``min``, ``max``, ``mean``, ``std`` with
  ``axis="pixels"``) of a pixel-local Image: each worker sums its blocks up (counts, exact
  sums of values and squares, minima, maxima; :mod:`tiles.compute.pixel_reductions`), and
  only those numbers come back. One process reduces the same windows with the same
  arithmetic, so both give the same floats. ``median`` over pixels is not split: it needs
  every value at once, so it is computed in one process as without Dask.

Every block is computed within the request's cost budget (:mod:`tiles.engine.budget`): its
limits and the seconds it has left travel with the block, so a block over a limit fails the
request with the same ``ResourceLimitError`` as in one process, and a request that is
cancelled or out of time cancels its blocks on the workers.

Workers evaluate grafts with their own ``tiles`` installation, catalog (``TILES_CATALOG``) and
files: on several machines give them the same catalog URL and the same paths (or COG URLs).

Example::

    $ TILES_DASK_SCHEDULER=local:2 python -c "
    import tiles as wf; from tiles import scenes
    ctx = scenes.AOI(bounds=(-106.3, 35.55, -105.6, 35.85), shape=(6000, 6000), crs='EPSG:32613')
    wf.ImageCollection.from_id('sample:s2').pick_bands('red').median(axis='images').compute(ctx)"
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping
from typing import Any

from tiles import settings
from tiles.compute import chunks, pixel_reductions
from tiles.engine import CollectionValue, ImageValue, budget
from tiles.errors import ParameterError
from tiles.geocontext import GeoContext

#: Seconds between checks that a request was not cancelled and has time left, while the
#: client waits for its blocks and while a worker computes one.
CHECK_SECONDS = 0.25

_client_lock = threading.Lock()
_clients: dict[str, Any] = {}


def enabled() -> bool:
    """Whether ``TILES_DASK_SCHEDULER`` sends large computations to a Dask cluster."""
    return settings.DASK_SCHEDULER.is_set()


def client() -> Any:
    """The ``distributed.Client`` of ``TILES_DASK_SCHEDULER`` (a LocalCluster for ``local``),
    made once per process.

    Returns
    -------
    distributed.Client
    """
    address = settings.DASK_SCHEDULER.get().strip()
    with _client_lock:
        found = _clients.get(address)
        if found is not None and found.status == "running":
            return found
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ParameterError(
                "TILES_DASK_SCHEDULER needs dask.distributed: pip install 'tiles-workflows[scale]'"
            ) from None
        if address == "local" or address.startswith("local:"):
            count = int(address.partition(":")[2] or 0) or None
            cluster = LocalCluster(
                n_workers=count,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            found = Client(cluster)
        else:
            found = Client(address)
        _clients[address] = found
        return found


def close() -> None:
    """Close the clients (and local clusters) this process started."""
    with _client_lock:
        for found in _clients.values():
            cluster = found.cluster
            found.close()
            if cluster is not None:
                cluster.close()
        _clients.clear()


def describe() -> str | None:
    """The scheduler's address, for /health (None without ``TILES_DASK_SCHEDULER``)."""
    if not enabled():
        return None
    with _client_lock:
        found = _clients.get(settings.DASK_SCHEDULER.get().strip())
    return found.scheduler.address if found is not None else settings.DASK_SCHEDULER.get()


def in_flight(dask_client: Any) -> int:
    """Blocks computed or waiting to be copied in at once: two per worker thread."""
    threads = sum(dask_client.nthreads().values()) or 1
    return 2 * threads


def _map_bounded(
    dask_client: Any,
    fn: Callable[..., Any],
    items: list[Any],
    on_result: Callable[[int, Any], None],
    *args: Any,
) -> None:
    """``on_result(i, fn(items[i], *args))`` for every item, each computed on a worker within
    the active request's budget, with at most :func:`in_flight` items submitted and not yet
    consumed.

    The request is checked between results and every :data:`CHECK_SECONDS` while it waits:
    once it is cancelled, out of time or an item failed, nothing more is submitted and the
    items in flight are cancelled (which stops them on the workers, see :func:`_within_budget`).
    """
    from distributed import TimeoutError, wait

    request = budget.current()
    limit = in_flight(dask_client)
    pending = iter(enumerate(items))
    index_of: dict[Any, int] = {}

    def submit() -> None:
        request.checkpoint("computing on the Dask cluster")
        i, item = next(pending)
        future = dask_client.submit(
            _within_budget, fn, item, request.limits, request.remaining(), *args, pure=False
        )
        index_of[future] = i

    try:
        for _ in range(min(limit, len(items))):
            submit()
        while index_of:
            try:
                done, _ = wait(list(index_of), timeout=CHECK_SECONDS, return_when="FIRST_COMPLETED")
            except TimeoutError:
                request.checkpoint("computing on the Dask cluster")
                continue
            for future in done:
                i = index_of.pop(future)
                on_result(i, future.result())
                with contextlib.suppress(StopIteration):
                    submit()
            del done, future  # the workers may drop the blocks taken before the next wait
    finally:
        dask_client.cancel(list(index_of))


# -- work done on the workers --------------------------------------------------------------


def _within_budget(
    fn: Callable[..., Any],
    item: Any,
    limits: budget.Limits,
    seconds_left: float,
    *args: Any,
) -> Any:
    """``fn(item, *args)`` on a worker within the request's budget: its limits, the seconds
    it had left when this was submitted, and cancelled as soon as the scheduler cancels this
    task (the request stopped waiting for it), so the work ends at its next builtin."""
    from distributed import get_worker

    worker = get_worker()
    request = budget.Budget(limits, seconds_left=seconds_left)
    finished = threading.Event()
    watcher = threading.Thread(
        target=_cancel_when_released,
        args=(worker, worker.get_current_task(), request.cancelled, finished),
        daemon=True,
    )
    watcher.start()
    try:
        with budget.using(request):
            return fn(item, *args)
    finally:
        finished.set()


def _cancel_when_released(
    worker: Any, key: Any, cancelled: threading.Event, finished: threading.Event
) -> None:
    """Set ``cancelled`` once the worker no longer computes task ``key`` for anyone."""
    while not finished.wait(CHECK_SECONDS):
        task = worker.state.tasks.get(key)
        if task is None or task.state not in ("executing", "long-running"):
            cancelled.set()
            return


def _evaluate_window(
    window: tuple[int, int, int, int],
    graft: dict,
    search: GeoContext,
    arguments: Mapping[str, Any],
    halo: int,
    cutline: dict | None,
) -> Any:
    """Evaluate one block (runs on a worker): the imagery value, materialised."""
    value = chunks.evaluate_window(window, graft, search, arguments, halo, cutline)
    if isinstance(value, (ImageValue, CollectionValue)) and not value.is_empty:
        return type(value)(value.ndarray, value.properties, value.bandinfo)
    return value


# -- splitting a request -------------------------------------------------------------------


def evaluate_imagery(
    graft: dict,
    geoctx: GeoContext,
    arguments: Mapping[str, Any],
    halo: int,
    progress: Callable[[int, int], None] | None = None,
) -> Any:
    """A pixel-local imagery graph evaluated block by block on the cluster and assembled.

    Parameters
    ----------
    graft, geoctx, arguments:
        What to compute, where, with which parameter values.
    halo:
        Pixels each block needs around it (cropped after).
    progress:
        Called as ``progress(blocks done, blocks)``.

    Returns
    -------
    Any
        The engine value the single-process chunked path gives, pixel for pixel.
    """

    rows, cols = geoctx.arr_shape
    search = geoctx.buffered(halo) if halo else geoctx
    cutline = geoctx.cutline  # evaluate_window leaves it out where there is a halo
    parts = list(chunks.windows((rows, cols), chunks.chunk_side()))
    out = chunks._Assembly(rows, cols)
    done = 0

    def take(i: int, value: Any) -> None:
        nonlocal done
        r, c, _, _ = parts[i]
        out.add(value, r, c, halo)
        done += 1
        if progress is not None:
            progress(done, len(parts))

    try:
        _map_bounded(
            client(), _evaluate_window, parts, take, graft, search, arguments, halo, cutline
        )
    except chunks._Inconsistent:
        return chunks.evaluate_imagery(graft, geoctx, arguments, halo=halo, progress=progress)
    value = out.value()
    if halo and geoctx.cutline is not None:
        value = chunks._apply_cutline(value, geoctx)
    return value


def reduce_pixels(
    op: str,
    graft: dict,
    geoctx: GeoContext,
    arguments: Mapping[str, Any],
    halo: int,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, float | None] | None:
    """``op`` over the pixels of a pixel-local Image graph, its windows summed up on the
    cluster (:func:`tiles.compute.pixel_reductions.reduce_windows`); only numbers come back.

    Returns
    -------
    dict or None
        ``{band: value}``, the same floats as in one process; None when the graph does not
        split after all.
    """
    dask_client = client()

    def on_cluster(fn: Callable[..., Any], items: list, on_result: Callable, *args: Any) -> None:
        _map_bounded(dask_client, fn, items, on_result, *args)

    return pixel_reductions.reduce_windows(op, graft, geoctx, arguments, halo, on_cluster, progress)
