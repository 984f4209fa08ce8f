"""The base of every proxy type: a graft, the parameters it depends on, and promotion.

Proxy objects only build grafts and know their result types; they never touch pixels.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from tiles import graft as g
from tiles.errors import ProxyTypeError

#: Implementations that live in higher layers (evaluation, publishing, maps). The packages
#: that define them attach them at import (``tiles`` imports them all), so proxies never
#: import evaluation or widgets themselves.
_BACKENDS: dict[str, Callable[..., Any]] = {}


def attach_backend(name: str, function: Callable[..., Any]) -> None:
    """Make ``function`` the implementation behind the proxy method ``name``.

    Parameters
    ----------
    name:
        ``"compute"``, ``"inspect"``, ``"publish"``, ``"tile_layer"`` or ``"visualize"``.
    function:
        Called with the proxy object first, then the method's arguments.

    Example
    -------
    >>> from tiles.types.core import attach_backend
    >>> attach_backend("inspect", lambda obj, *args, **kwargs: "inspected")  # doctest: +SKIP
    """
    _BACKENDS[name] = function


def backend(name: str) -> Callable[..., Any]:
    """The implementation attached for ``name`` (see :func:`attach_backend`).

    Parameters
    ----------
    name:
        The proxy method's name.

    Returns
    -------
    Callable
        The attached function.
    """
    try:
        return _BACKENDS[name]
    except KeyError:
        raise RuntimeError(f"{name}() is not available: import tiles to attach it") from None


class Proxytype:
    """A lazy value: ``graft`` says how to compute it, ``params`` which parameters it needs.

    Every proxy type (Int, Image, List[Float] ...) derives from it and has :meth:`compute`,
    :meth:`inspect` and :meth:`publish`. Python control flow cannot see lazy values: ``if``,
    ``len()``, iteration and ``in`` raise, pointing at ``wf.ifelse``, ``length()``, ``map``
    and ``contains``.

    Example
    -------
    >>> x = wf.Int(1) + 1
    >>> x.graft["returns"] in x.graft
    True
    """

    graft: dict
    params: tuple
    _name: str | None = None  # set on parameters: the name the value is bound to at compute time

    def __init__(self) -> None:
        """Not for direct use: each proxy type has its own constructor."""
        raise ProxyTypeError(f"{type(self).__name__} cannot be constructed directly")

    @classmethod
    def _from_graft(cls, graft: dict, params: tuple = ()) -> Any:
        obj = cls.__new__(cls)
        obj.graft = graft
        obj.params = tuple(params)
        return obj

    @classmethod
    def _from_apply(cls, function: str | Proxytype, *args: Any, **kwargs: Any) -> Any:
        """Result of applying a builtin name (or a Function proxy) to proxies and literals."""
        operands = [function, *args, *kwargs.values()]
        params = merge_params(*operands)
        graft_args = [_graft_of(a) for a in args]
        graft_kwargs = {k: _graft_of(v) for k, v in kwargs.items()}
        fn = function if isinstance(function, str) else function.graft
        return cls._from_graft(g.apply_graft(fn, *graft_args, **graft_kwargs), params)

    @classmethod
    def _promote(cls, obj: Any) -> Any:
        if isinstance(obj, cls):
            return obj
        raise ProxyTypeError(f"cannot promote {describe(obj)} to {cls.__name__}")

    # Python control flow cannot see lazy values: fail loudly with the way out.
    def __bool__(self) -> bool:
        """Refused: the truth of a lazy value is unknown until computed."""
        raise ProxyTypeError(
            f"truth value of a lazy {type(self).__name__} is unknown until computed; "
            "use wf.ifelse, & and | instead of if/and/or"
        )

    def __iter__(self):
        """Refused: use ``map``."""
        raise ProxyTypeError(f"a lazy {type(self).__name__} cannot be iterated; use .map()")

    def __len__(self) -> int:
        """Refused: use ``length()``."""
        raise ProxyTypeError(f"len() of a lazy {type(self).__name__} is unknown; use .length()")

    def __contains__(self, item: Any) -> bool:
        """Refused: use ``contains()``."""
        raise ProxyTypeError(f"'in' on a lazy {type(self).__name__}; use .contains()")

    def __repr__(self) -> str:
        """``<tiles.Type object at 0x...>``, as the reference prints proxies."""
        return f"<tiles.{type(self).__name__} object at {hex(id(self))}>"

    def _result_type(self) -> type:
        return type(self)

    def compute(
        self,
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
        """Compute this value as a job and wait for its result.

        Parameters
        ----------
        geoctx : GeoContext, scenes GeoContext or None
            Where and at what resolution geospatial data is loaded. Values that touch no
            imagery or vectors need none.
        format : str or dict, default "pyarrow"
            ``"pyarrow"`` gives Python result objects; ``"geotiff"``, ``"png"``, ``"npy"``,
            ``"json"``, ``"msgpack"`` (or a dict with ``"type"`` and options) give bytes.
        destination : str or dict, default "download"
            Where the result goes; ``"download"`` returns it.
        file : path or file-like, optional
            Write the output there instead of returning it.
        timeout : int, optional
            Seconds to wait when ``block`` is True; then the job is cancelled and
            ``JobTimeoutError`` raised.
        block : bool, default True
            Wait for the result; False returns the running ``Job`` at once.
        progress_bar : bool, optional
            Draw a progress bar (default: only in Jupyter). Ignored when not blocking.
        cache : bool, default True
            Reuse the output of an identical earlier computation.
        _ruster : optional
            Accepted for code written for the original client; it has no effect here.
        _trace : bool, default False
            Accepted for code written for the original client; it has no effect here.
        client : Connection, optional
            A server connection from ``wf.connect(...)`` to compute on; by default the
            connected server, or this process when there is none.
        num_retries : int, optional
            How often a failed read of imagery is retried.
        **arguments
            Values for the parameters this value depends on (or, for a Function, its
            arguments), as proxies or Python values.

        Returns
        -------
        object, bytes, Job or None
            The result (a Python value or a result type such as ``ImageResult``), bytes for
            other formats, the ``Job`` when ``block`` is False, None when ``file`` is given.

        Example
        -------
        >>> import tiles as wf
        >>> (wf.Int(1) + 1).compute()
        2
        """
        return backend("compute")(
            self,
            geoctx,
            format=format,
            destination=destination,
            file=file,
            timeout=timeout,
            block=block,
            progress_bar=progress_bar,
            cache=cache,
            _ruster=_ruster,
            _trace=_trace,
            client=client,
            num_retries=num_retries,
            **arguments,
        )

    def inspect(
        self,
        geoctx: Any = None,
        format: Any = "pyarrow",  # noqa: A002 - the documented name
        file: Any = None,
        cache: bool = True,
        _ruster: Any = None,
        timeout: float | None = 60,
        client: Any = None,
        **arguments: Any,
    ) -> Any:
        """Compute this value right away, without job bookkeeping, for interactive use.

        Gives the same result as :meth:`compute`; nothing is retried and no progress shown.

        Parameters
        ----------
        geoctx : GeoContext, scenes GeoContext or None
            Where and at what resolution geospatial data is loaded.
        format : str or dict, default "pyarrow"
            As for :meth:`compute`.
        file : path or file-like, optional
            Write the output there instead of returning it.
        cache : bool, default True
            Reuse the output of an identical earlier computation.
        _ruster : optional
            Accepted for code written for the original client; it has no effect here.
        timeout : int, optional, default 60
            Seconds to wait before raising ``JobTimeoutError``.
        client : Connection, optional
            A server connection from ``wf.connect(...)`` to compute on.
        **arguments
            Values for the parameters this value depends on.

        Returns
        -------
        object or bytes
            The result, or bytes for formats other than ``"pyarrow"`` (None with ``file``).

        Example
        -------
        >>> import tiles as wf
        >>> wf.Str("a").upper().inspect()
        'A'
        """
        return backend("inspect")(
            self,
            geoctx,
            format=format,
            file=file,
            cache=cache,
            _ruster=_ruster,
            timeout=timeout,
            client=client,
            **arguments,
        )

    def publish(
        self,
        id: str,  # noqa: A002 - the documented name
        version: str,
        title: str = "",
        description: str = "",
        labels: dict | None = None,
        tags: list | None = None,
        docstring: str = "",
        version_labels: dict | None = None,
        viz_options: Any = None,
        client: Any = None,
    ) -> Any:
        """Store this value as version ``version`` of the Workflow ``id``.

        A value that depends on parameters is stored as a Function of those parameters.
        ``wf.use(id, version)`` brings it back.

        Parameters
        ----------
        id : str
            ``"email:name"``, unique among workflows.
        version : str
            A semantic version such as ``"1.0.0"``; a version cannot be changed once stored.
        title : str, default ""
            A short, readable title.
        description : str, default ""
            A longer description (Markdown).
        labels : dict, optional
            Key-value labels of the workflow.
        tags : list of str, optional
            Tags of the workflow.
        docstring : str, default ""
            The documentation of this version.
        version_labels : dict, optional
            Key-value labels of this version.
        viz_options : list, optional
            How maps show the value by default (scales, colormap, ...).
        client : Connection, optional
            A server connection from ``wf.connect(...)`` to publish on; by default the
            connected server, or the local registry.

        Returns
        -------
        Workflow
            The stored workflow.

        Example
        -------
        >>> import tiles as wf
        >>> wf.Int(42).publish("me@example.com:answer", "1.0.0")  # doctest: +SKIP
        """
        return backend("publish")(
            self,
            id,
            version,
            title=title,
            description=description,
            labels=labels,
            tags=tags,
            docstring=docstring,
            version_labels=version_labels,
            viz_options=viz_options,
            client=client,
        )


def _graft_of(value: Any) -> Any:
    if isinstance(value, Proxytype):
        return value.graft
    return value


def describe(obj: Any) -> str:
    """How error messages show a value: a proxy's type, or a Python value's type and repr.

    Parameters
    ----------
    obj : object
        The value.

    Returns
    -------
    str
        E.g. ``"Datetime"`` or ``"str 'a'"`` (at most 120 characters).
    """
    if isinstance(obj, Proxytype):
        return type(obj).__name__
    return f"{type(obj).__name__} {obj!r}"[:120]


def merge_params(*objs: Any) -> tuple:
    """The parameters of the proxies among ``objs``, each name once.

    Parameters
    ----------
    *objs : object
        Proxies and plain values (ignored).

    Returns
    -------
    tuple
        Parameter proxies; two different parameters with one name are a ProxyTypeError.
    """
    merged: dict[str, Any] = {}
    for obj in objs:
        for p in getattr(obj, "params", ()) if isinstance(obj, Proxytype) else ():
            existing = merged.get(p._name)
            if existing is None:
                merged[p._name] = p
            elif existing is not p and type(existing) is not type(p):
                raise ProxyTypeError(
                    f"two different parameters are named {p._name!r} "
                    f"({type(existing).__name__} and {type(p).__name__})"
                )
    return tuple(merged.values())


class GenericProxytype(Proxytype):
    """A proxy type taking type parameters, like ``List[Int]`` or ``Dict[Str, Float]``.

    ``List[Int]`` is a class of its own (made once and cached), named ``"List[Int]"``.

    Example
    -------
    >>> wf.List[wf.Int] is wf.List[wf.Int]
    True
    """

    _type_params: ClassVar[tuple | None] = None
    _concrete_cache: ClassVar[dict] = {}

    def __class_getitem__(cls, params: Any) -> type:
        """The concrete type for these type parameters, e.g. ``List[Int]``."""
        if not isinstance(params, tuple):
            params = (params,)
        base = cls._generic_base()
        key = (base, _hashable(params))
        cached = GenericProxytype._concrete_cache.get(key)
        if cached is not None:
            return cached
        name = f"{base.__name__}[{', '.join(_type_name(p) for p in params)}]"
        concrete = type(name, (cls,), {"_type_params": params, "__module__": cls.__module__})
        concrete.__qualname__ = name
        GenericProxytype._concrete_cache[key] = concrete
        return concrete

    @classmethod
    def _generic_base(cls) -> type:
        for klass in cls.__mro__:
            if "_type_params" not in klass.__dict__ or klass.__dict__["_type_params"] is None:
                if klass is not GenericProxytype and issubclass(klass, GenericProxytype):
                    return klass
        return cls

    @classmethod
    def _needs_params(cls) -> bool:
        return True

    @classmethod
    def _require_concrete(cls) -> tuple:
        if cls._type_params is None:
            raise ProxyTypeError(f"{cls.__name__} needs type parameters, e.g. {cls.__name__}[Int]")
        return cls._type_params


def _hashable(t: Any) -> Any:
    if isinstance(t, dict):
        return ("dict", tuple((k, _hashable(v)) for k, v in t.items()))
    if isinstance(t, (list, tuple)):
        return tuple(_hashable(v) for v in t)
    return t


def _type_name(t: Any) -> str:
    if isinstance(t, dict):
        return "{" + ", ".join(f"{k!r}: {_type_name(v)}" for k, v in t.items()) + "}"
    if isinstance(t, (list, tuple)):
        return "[" + ", ".join(_type_name(v) for v in t) + "]"
    return getattr(t, "__name__", repr(t))


def parameter(name: str, type_: type) -> Any:
    """A named free variable whose value is given at compute time (or by a map widget).

    Parameters
    ----------
    name : str
        A Python identifier; computing takes ``name=value``.
    type_ : type
        A concrete proxy type, e.g. ``wf.Float`` or ``wf.List[wf.Int]``.

    Returns
    -------
    Proxytype
        Of type ``type_``; everything built from it depends on the parameter.

    Example
    -------
    >>> threshold = wf.parameter("threshold", wf.Float)
    >>> (threshold + 1).compute(threshold=0.5)
    1.5
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"parameter name must be a Python identifier, got {name!r}")
    if not (isinstance(type_, type) and issubclass(type_, Proxytype)):
        raise ProxyTypeError(f"parameter type must be a proxy type such as wf.Float, not {type_!r}")
    if issubclass(type_, GenericProxytype) and type_._type_params is None and type_._needs_params():
        raise ProxyTypeError(f"parameter type {type_.__name__} needs type parameters")
    obj = type_._from_graft(g.keyref_graft(name))
    obj._name = name
    obj.params = (obj,)
    return obj


def identifier(name: str, type_: type) -> Any:
    """A placeholder for a function argument while a Python callable is traced.

    Parameters
    ----------
    name : str
        The argument's name in the function graft.
    type_ : type
        Its proxy type.

    Returns
    -------
    Proxytype
        Referring to ``name`` (not a parameter: nothing binds it at compute time).
    """
    return type_._from_graft(g.keyref_graft(name))
