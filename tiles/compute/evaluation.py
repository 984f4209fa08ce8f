"""Evaluating proxies and grafts: arguments checked, GeoContext resolved, results returned.

:func:`compute` runs a computation as a :class:`~tiles.compute.jobs.Job` (on the process's one
bounded executor, or on a tile server after :func:`tiles.compute.remote.connect`), in any output
format (:mod:`tiles.compute.formats`); :func:`inspect` runs it right away in-process. Both share
:func:`execute`, which evaluates imagery window by window when the graph allows it
(:mod:`tiles.compute.chunks`) and reuses results of identical requests from a byte-bounded cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from tiles import settings
from tiles.builtins import REGISTRY, EvaluationContext, reset_context, set_context
from tiles.engine import budget
from tiles.engine.results import to_result
from tiles.errors import GeoContextError, JobTimeoutError, ParameterError, ProxyTypeError
from tiles.geocontext import GeoContext as ConcreteGeoContext
from tiles.graft import content_hash, evaluate_graft, is_graft
from tiles.types import Function, GeoContext, Proxytype, proxify

#: Result types computed window by window when their graph is pixel-local.
IMAGERY_TYPES = ("Image", "ImageCollection")


def resolve_geoctx(geoctx: Any) -> ConcreteGeoContext | None:
    """A concrete GeoContext from a concrete one, a proxy, a dict of fields, or None."""
    if geoctx is None or isinstance(geoctx, ConcreteGeoContext):
        return geoctx
    if isinstance(geoctx, GeoContext):
        if geoctx.params:
            raise GeoContextError("a GeoContext used for computing cannot depend on parameters")
        return evaluate(geoctx.graft)
    if isinstance(geoctx, Mapping):
        return ConcreteGeoContext.from_dict(geoctx)
    raise GeoContextError(
        f"expected a GeoContext (e.g. wf.scenes.AOI, DLTile, XYZTile), got {type(geoctx).__name__}"
    )


def evaluate(
    graft: dict,
    geoctx: Any = None,
    arguments: Mapping[str, Any] | None = None,
    max_images: int | None = None,
) -> Any:
    """Evaluate ``graft`` to an engine value, in ``geoctx``, with parameter values bound.

    ``max_images`` caps the images any one collection may load (a server's safety limit).
    The evaluation runs within the active cost budget (:mod:`tiles.engine.budget`), or a
    new one from the settings when none is active.
    """
    context = EvaluationContext(geoctx=resolve_geoctx(geoctx), max_images=max_images)
    token = set_context(context)
    try:
        with budget.using(budget.active() or budget.Budget()):
            return evaluate_graft(graft, REGISTRY, arguments)
    finally:
        reset_context(token)


def decode_argument(value: Any, geoctx: Any = None) -> Any:
    """A parameter value as sent over the wire: a JSON literal, or a graft to evaluate."""
    if is_graft(value):
        return evaluate(value, geoctx)
    return value


def promote_arguments(obj: Proxytype, arguments: Mapping[str, Any]) -> dict[str, Proxytype]:
    """Check ``arguments`` against ``obj``'s parameters and promote each to its proxy type."""
    params = {p._name: p for p in obj.params}
    missing = [name for name in params if name not in arguments]
    if missing:
        shown = ", ".join(f"{n!r} ({type(params[n]).__name__})" for n in missing)
        raise ParameterError(f"missing a value for parameter {shown}")
    extra = [name for name in arguments if name not in params]
    if extra:
        takes = ", ".join(repr(n) for n in params) or "no parameters"
        raise ParameterError(f"unexpected argument {', '.join(map(repr, extra))}; it takes {takes}")
    promoted = {}
    for name, value in arguments.items():
        expected = type(params[name])
        try:
            proxy = expected._promote(value)
        except (ProxyTypeError, TypeError, ValueError) as e:
            raise ParameterError(
                f"parameter {name!r} expects {expected.__name__}, got {type(value).__name__} "
                f"{value!r}"[:300]
            ) from e
        if proxy.params:
            raise ParameterError(f"the value for parameter {name!r} cannot depend on parameters")
        promoted[name] = proxy
    return promoted


def interpret_to_result(graft: dict, geoctx: Any, arguments: Mapping[str, Any]) -> Any:
    """Evaluate a JSON graft from any client; arguments may be literals or grafts."""
    concrete = resolve_geoctx(geoctx)
    values = {name: decode_argument(v, concrete) for name, v in arguments.items()}
    return to_result(evaluate(graft, concrete, values), concrete)


# -- requests ------------------------------------------------------------------------------


class Request:
    """One computation, ready to run anywhere: graft, wire arguments, GeoContext, format.

    ``arguments`` map parameter names to JSON literals or grafts (what travels over HTTP);
    ``type_name`` is the result's proxy type name (``"Image"``...), used to decide chunking.
    """

    def __init__(
        self,
        graft: dict,
        arguments: Mapping[str, Any],
        geoctx: ConcreteGeoContext | None,
        fmt: Any,
        type_name: str = "",
    ) -> None:
        from tiles.compute.formats import normalize_format

        self.graft = graft
        self.arguments = dict(arguments)
        self.geoctx = geoctx
        self.format = normalize_format(fmt)
        self.type_name = type_name

    @classmethod
    def from_proxy(cls, obj: Any, geoctx: Any, fmt: Any, arguments: Mapping[str, Any]) -> Request:
        """Promote ``obj`` and its arguments; a Function is called with the arguments."""
        obj = proxify(list(obj) if isinstance(obj, tuple) else obj)
        arguments = dict(arguments)
        if isinstance(obj, Function):
            obj = _call_function(obj, arguments)
            arguments = {}
        promoted = promote_arguments(obj, arguments)
        wire = {name: proxy.graft for name, proxy in promoted.items()}
        return cls(obj.graft, wire, resolve_geoctx(geoctx), fmt, type(obj).__name__)

    def to_json(self) -> dict[str, Any]:
        """The body of ``POST /jobs``."""
        return {
            "graft": self.graft,
            "arguments": self.arguments,
            "geoctx": self.geoctx.to_dict() if self.geoctx is not None else None,
            "format": self.format.to_json(),
            "type": self.type_name,
        }

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Request:
        """Inverse of :meth:`to_json`; the graft, arguments, GeoContext and format are checked.

        Anything unusable raises a :class:`~tiles.errors.WorkflowsError` naming the field.
        """
        from tiles.graft.validation import check_graft

        arguments = body.get("arguments") or {}
        if not isinstance(arguments, dict):
            raise ParameterError("'arguments' must be an object of parameter name: value")
        check_graft(body.get("graft"), REGISTRY, free_names=arguments, what="'graft'")
        for name, value in arguments.items():
            if is_graft(value):
                check_graft(value, REGISTRY, what=f"argument {name!r}")
        type_name = body.get("type", "")
        if not isinstance(type_name, str):
            raise ParameterError(f"'type' must be a type name such as 'Image', not {type_name!r}")
        geoctx = body.get("geoctx")
        if geoctx is not None and not isinstance(geoctx, dict):
            raise ParameterError("'geoctx' must be an object of GeoContext fields")
        try:
            concrete = ConcreteGeoContext.from_dict(geoctx) if geoctx else None
        except (ValueError, TypeError, KeyError) as exc:
            raise GeoContextError(f"'geoctx': {exc}") from None
        if concrete is not None:
            try:
                shape = concrete.arr_shape
            except GeoContextError:
                shape = None  # bounds only: nothing is read on a grid
            if shape is not None:  # refused now rather than once the job runs
                budget.current().check_pixels(shape, "the GeoContext")
        try:
            return cls(
                body["graft"], arguments, concrete, body.get("format") or "pyarrow", type_name
            )
        except (ValueError, TypeError, KeyError) as exc:
            raise ParameterError(f"'format': {exc}") from None

    @property
    def cache_key(self) -> str:
        """Identity of the output: graph content, GeoContext grid, arguments and format."""
        args = {
            name: {"graft": content_hash(v)} if is_graft(v) else v
            for name, v in sorted(self.arguments.items())
        }
        grid = repr(self.geoctx.cache_key) if self.geoctx is not None else None
        text = json.dumps(
            [
                content_hash(self.graft),
                grid,
                args,
                self.format.to_json(),
                self.type_name,
                _catalog_stamp(),
            ],
            sort_keys=True,
            default=repr,
        )
        return hashlib.sha256(text.encode()).hexdigest()


def _catalog_stamp() -> list:
    """Which catalog file, and when it last changed: cached outputs never outlive an edit."""
    from tiles.data.catalog import default_catalog_path

    path = default_catalog_path().expanduser()
    stamp: list = [str(path)]
    for candidate in (path, path.with_name(path.name + "-wal")):
        try:
            info = candidate.stat()
            stamp.append([info.st_mtime_ns, info.st_size])
        except OSError:
            stamp.append(None)
    return stamp


def _call_function(fn: Function, arguments: Mapping[str, Any]) -> Proxytype:
    """Apply a Function proxy to named ``arguments`` (all of them required)."""
    params = type(fn)._require_concrete()[:-1]
    named = next((p for p in params if isinstance(p, dict)), {})
    if len(named) != len(params):
        raise ParameterError(
            "a Function with positional arguments cannot be computed; call it with values first"
        )
    missing = [n for n in named if n not in arguments]
    if missing:
        raise ParameterError(f"missing a value for argument(s) {', '.join(map(repr, missing))}")
    try:
        return fn(**arguments)
    except ProxyTypeError as exc:
        raise ParameterError(str(exc)) from None


def _split(
    graft: dict,
    type_name: str,
    geoctx: Any,
    values: Mapping[str, Any],
    progress: Callable[[int, int], None] | None,
) -> Any:
    """The value of a graph over a GeoContext of several windows, computed window by window
    (on the Dask cluster with ``TILES_DASK_SCHEDULER``); None when the graph does not split."""
    from tiles.compute import chunks, distributed, pixel_reductions
    from tiles.graft.analysis import analyse

    on_cluster = distributed.enabled()
    if on_cluster and type_name in IMAGERY_TYPES and chunks.is_pixel_local(graft)[0]:
        halo = analyse(graft).halo
        return distributed.evaluate_imagery(graft, geoctx, values, halo, progress)
    reduction = pixel_reductions.pixel_reduction(graft)
    if reduction is None:
        return None
    op, inner = reduction
    halo = analyse(inner).halo
    if on_cluster:
        return distributed.reduce_pixels(op, inner, geoctx, values, halo, progress)
    return pixel_reductions.reduce_windows(
        op, inner, geoctx, values, halo, pixel_reductions.map_here, progress
    )


def execute(request: Request, progress: Callable[[int, int], None] | None = None) -> Any:
    """Run ``request`` in this thread: the Python result, or bytes for other formats.

    The whole request (arguments, every window, encoding) runs within one cost budget:
    the active one, or a new one from the settings.
    """
    with budget.using(budget.active() or budget.Budget()):
        return _execute(request, progress)


def _execute(request: Request, progress: Callable[[int, int], None] | None) -> Any:
    from tiles.compute import chunks
    from tiles.compute.formats import encode
    from tiles.graft.analysis import analyse

    geoctx = request.geoctx
    values = {name: decode_argument(v, geoctx) for name, v in request.arguments.items()}
    value = None
    if geoctx is not None and chunks.is_split(geoctx):
        value = _split(request.graft, request.type_name, geoctx, values, progress)
    if value is None and geoctx is not None and request.type_name in IMAGERY_TYPES:
        local, _ = chunks.is_pixel_local(request.graft)
        if local:
            halo = analyse(request.graft).halo
            value = chunks.evaluate_imagery(
                request.graft, geoctx, values, halo=halo, progress=progress
            )
    if value is None:
        value = evaluate(request.graft, geoctx, values)
        if progress is not None:
            progress(1, 1)
    result = to_result(value, geoctx)
    return result if request.format.type == "pyarrow" else encode(result, request.format)


# -- the result cache ----------------------------------------------------------------------


def _cache_bytes() -> int:
    return settings.RESULT_CACHE.get()


_cache_lock = threading.Lock()
_cache: Any = None


def result_cache() -> Any:
    """The process's byte-bounded cache of encoded outputs (``$TILES_RESULT_CACHE_MB``)."""
    global _cache
    with _cache_lock:
        if _cache is None:
            from tiles.cache import ByteLRU

            _cache = ByteLRU(_cache_bytes(), sizeof=len)
        return _cache


def execute_cached(
    request: Request, cache: bool = True, progress: Callable[[int, int], None] | None = None
) -> Any:
    """:func:`execute`, reusing the output of an identical earlier request when ``cache``.

    Outputs are cached encoded (bytes), so every caller gets its own fresh result objects.
    """
    from tiles.compute.formats import decode_result, encode_result

    key = request.cache_key if cache else None
    if key is not None:
        hit = result_cache().get(key)
        if hit is not None:
            if progress is not None:
                progress(1, 1)
            return decode_result(hit) if request.format.type == "pyarrow" else hit
    output = execute(request, progress)
    if key is not None:
        try:
            encoded = encode_result(output) if request.format.type == "pyarrow" else output
        except (TypeError, ValueError, OverflowError):
            return output  # a result the wire encoding cannot hold is simply not cached
        result_cache().put(key, encoded)
    return output


# -- the public entry points ---------------------------------------------------------------


def compute(
    obj: Any,
    geoctx: Any = None,
    format: Any = "pyarrow",  # noqa: A002 - the documented name
    destination: Any = "download",
    file: Any = None,
    timeout: float | None = None,
    block: bool = True,
    progress_bar: bool | None = None,
    cache: bool = True,
    _ruster: Any = None,
    _trace: bool = False,
    client: Any = None,
    num_retries: int | None = None,
    **arguments: Any,
) -> Any:
    """Compute a proxy object (or a list of them, together) and return its result.

    Runs as a :class:`~tiles.compute.jobs.Job`. With ``block=False`` the Job is returned at once;
    otherwise this waits (at most ``timeout`` seconds, then cancels and raises
    :class:`~tiles.errors.JobTimeoutError`) and returns the Python result for the default
    ``"pyarrow"`` format, an ``xarray.DataArray`` for ``"xarray"`` (see
    :mod:`tiles.engine.xarray_results`), bytes for other formats, or None when ``file`` is
    given (the output is written there). ``arguments`` give values for the object's parameters (or a
    Function's arguments). Failures from reading data are retried ``num_retries`` times.
    ``client`` is a :class:`~tiles.compute.remote.Connection` to compute on (default: the
    one :func:`~tiles.compute.remote.connect` made, else this process). ``_ruster`` and
    ``_trace``, options of the original service, are accepted and have no effect.
    """
    from tiles.compute import jobs, remote
    from tiles.compute.formats import normalize_destination

    file = normalize_destination(destination, file)
    format, convert = _in_process_conversion(format, file)
    request = Request.from_proxy(obj, geoctx, format, arguments)
    connection = remote.connection_for(client)
    if connection is not None:
        job = connection.submit(request, cache=cache, num_retries=num_retries, file=file)
    else:
        from tiles.compute.checks import warn_if_probably_empty

        # Reversed dates or a GeoContext off the data give an empty result: say so.
        warn_if_probably_empty(request.graft, request.geoctx, stacklevel=4)
        job = jobs.submit(request, cache=cache, num_retries=num_retries, file=file)
    job.convert = convert
    if not block:
        return job
    return job.result(timeout=timeout, progress_bar=progress_bar, cancel_on_timeout=True)


def _in_process_conversion(fmt: Any, file: Any) -> tuple[Any, Callable[[Any], Any] | None]:
    """The format to compute, and what turns its output into the asked format (or None).

    ``"xarray"`` is computed as ``"pyarrow"`` (in-process or on a server) and converted here.
    """
    from tiles.compute.formats import normalize_format, to_xarray
    from tiles.engine.xarray_results import require_xarray

    fmt = normalize_format(fmt)
    if fmt.type != "xarray":
        return fmt, None
    if file is not None:
        raise ParameterError(
            "format 'xarray' gives a DataArray, not a file; use 'geotiff' or 'npy' with file="
        )
    require_xarray()
    return "pyarrow", to_xarray


_inspect_lock = threading.Lock()
_inspect_pool: ThreadPoolExecutor | None = None


def _inspector() -> ThreadPoolExecutor:
    global _inspect_pool
    with _inspect_lock:
        if _inspect_pool is None:
            _inspect_pool = ThreadPoolExecutor(
                max(2, os.cpu_count() or 1), thread_name_prefix="tiles-inspect"
            )
        return _inspect_pool


def inspect(
    obj: Any,
    geoctx: Any = None,
    format: Any = "pyarrow",  # noqa: A002 - the documented name
    file: Any = None,
    cache: bool = True,
    _ruster: Any = None,
    timeout: float | None = 60,
    client: Any = None,
    **arguments: Any,
) -> Any:
    """Compute ``obj`` right away with no job bookkeeping (same result as :func:`compute`).

    Raises :class:`~tiles.errors.JobTimeoutError` when the result takes longer than
    ``timeout`` seconds (the computation is abandoned). Nothing is retried. ``client`` and
    ``_ruster`` are as for :func:`compute`.
    """
    from tiles.compute import remote
    from tiles.compute.formats import encode_result, write_output

    format, convert = _in_process_conversion(format, file)
    request = Request.from_proxy(obj, geoctx, format, arguments)
    connection = remote.connection_for(client)
    if connection is not None:
        job = connection.submit(request, cache=cache, num_retries=0, file=file)
        job.convert = convert
        return job.result(timeout=timeout, progress_bar=False, cancel_on_timeout=True)
    future = _inspector().submit(execute_cached, request, cache)
    try:
        output = future.result(timeout=timeout)
    except FutureTimeout:
        future.cancel()
        raise JobTimeoutError(f"inspect did not finish within {timeout} s") from None
    if file is None:
        return output if convert is None else convert(output)
    write_output(encode_result(output) if request.format.type == "pyarrow" else output, file)
    return None
