"""Container proxy types: List[T], Tuple[T...], Dict[K, V] and KnownDict."""

from __future__ import annotations

from typing import Any as _Any

from tiles.errors import ProxyTypeError
from tiles.types.arguments import FUNCTION, promote, typecheck
from tiles.types.core import GenericProxytype, Proxytype
from tiles.types.function import as_function
from tiles.types.primitives import Any, Bool, Int

#: ``reduce``'s default ``initial``: start from the first item. A string, as the API reference
#: documents it, so that None can be an initial value like any other.
NO_INITIAL = "__NO_INITIAL_REDUCE_VALUE__"


def reduce_items(collection: Proxytype, item_type: type, func: _Any, initial: _Any) -> Proxytype:
    """``collection`` folded with ``func(accumulated, item)``, from ``initial`` if given.

    Parameters
    ----------
    collection : Proxytype
        A List, ImageCollection, FeatureCollection or GeometryCollection.
    item_type : type
        The proxy type of its items.
    func : callable or Function
        Takes the accumulated value and the next item, returns the new accumulated value.
    initial : object
        The first accumulated value, or :data:`NO_INITIAL` to start from the first item.

    Returns
    -------
    Proxytype
        Of ``func``'s return type.
    """
    from tiles.types.proxify import proxify

    if isinstance(initial, str) and initial == NO_INITIAL:
        fn = as_function(func, item_type, item_type)
        return fn.return_type._from_apply("wf.reduce", collection, fn)
    start = proxify(initial)
    fn = as_function(func, type(start), item_type)
    return fn.return_type._from_apply("wf.reduce", collection, fn, initial=start)


def _promote_to(type_: type, value: _Any) -> Proxytype:
    from tiles.types.proxify import proxify

    if type_ is Any:
        return Any._promote(value)
    if isinstance(value, Proxytype) and isinstance(value, type_):
        return value
    if hasattr(type_, "_promote"):
        try:
            return type_._promote(value)
        except ProxyTypeError:
            pass
    proxied = proxify(value)
    if isinstance(proxied, type_):
        return proxied
    raise ProxyTypeError(f"expected {type_.__name__}, got {type(proxied).__name__}")


class List(GenericProxytype):
    """``List[T]``: a homogeneous lazy list."""

    def __init__(self, items: _Any):
        """A List of the given items, each promoted to the item type.

        Parameters
        ----------
        items : list or List
            Python values or proxies of the item type.

        Example
        -------
        >>> wf.List[wf.Float]([1, 2.5]).compute()
        [1.0, 2.5]
        """
        (item_type,) = type(self)._require_concrete()
        if isinstance(items, List):
            self.graft, self.params = items.graft, items.params
            return
        promoted = [_promote_to(item_type, item) for item in items]
        obj = type(self)._from_apply("wf.list", *promoted)
        self.graft, self.params = obj.graft, obj.params

    @classmethod
    def _promote(cls, obj: _Any):
        if isinstance(obj, cls):
            return obj
        if isinstance(obj, (list, tuple)) and cls._type_params is not None:
            return cls(obj)
        if isinstance(obj, Any):
            return cls._from_graft(obj.graft, obj.params)
        if isinstance(obj, List) and cls._type_params is not None:
            # a List of a subtype (e.g. List[Int] where List[Any] is expected)
            if (
                issubclass(type(obj)._type_params[0], cls._type_params[0])
                or cls._type_params[0] is Any
            ):
                return cls._from_graft(obj.graft, obj.params)
        return super()._promote(obj)

    @property
    def _item_type(self) -> type:
        return type(self)._require_concrete()[0]

    def __getitem__(self, index):
        """The item at ``index`` (an Int), or a List for a slice."""
        if isinstance(index, slice):
            return type(self)._from_apply("wf.get", self, _slice(index))
        index = promote(index, Int, f"{type(self).__name__}.__getitem__", "index")
        return self._item_type._from_apply("wf.get", self, index)

    def length(self) -> Int:
        """The number of items.

        Returns
        -------
        Int

        Example
        -------
        >>> wf.List[wf.Int]([1, 2, 3]).length().compute()
        3
        """
        return Int._from_apply("wf.length", self)

    def contains(self, other) -> Bool:
        """Whether ``other`` is an item (Python's ``in``).

        Parameters
        ----------
        other : the item type

        Returns
        -------
        Bool

        Example
        -------
        >>> wf.List[wf.Int]([1, 2, 3]).contains(2).compute()
        True
        """
        where = f"{type(self).__name__}.contains"
        return Bool._from_apply(
            "wf.contains", self, promote(other, self._item_type, where, "other")
        )

    @typecheck(func=FUNCTION)
    def map(self, func) -> List:
        """Apply ``func`` to each item.

        Parameters
        ----------
        func : callable
            Takes an item, returns a proxy.

        Returns
        -------
        List
            Of ``func``'s return type.

        Example
        -------
        >>> wf.List[wf.Int]([1, 2]).map(lambda x: x * 10).compute()
        [10, 20]
        """
        fn = as_function(func, self._item_type)
        return List[fn.return_type]._from_apply("wf.map", self, fn)

    @typecheck(func=FUNCTION)
    def filter(self, func) -> List:
        """The items for which ``func`` returns True.

        Parameters
        ----------
        func : callable
            Takes an item, returns a Bool.

        Returns
        -------
        Same type as self

        Example
        -------
        >>> wf.List[wf.Int]([1, 2, 3]).filter(lambda x: x > 1).compute()
        [2, 3]
        """
        fn = as_function(func, self._item_type)
        if not issubclass(fn.return_type, (Bool, Any)):
            raise ProxyTypeError(f"filter function must return Bool, not {fn.return_type.__name__}")
        return type(self)._from_apply("wf.filter", self, fn)

    @typecheck(func=FUNCTION)
    def reduce(self, func, initial: _Any = NO_INITIAL):
        """Fold the items into one value with ``func(accumulated, item)``.

        Parameters
        ----------
        func : callable
            Takes the value so far and the next item.
        initial : optional
            The first value; by default the first item (None is a value like any other).

        Returns
        -------
        The type ``func`` returns

        Example
        -------
        >>> wf.List[wf.Int]([1, 2]).reduce(lambda a, b: a + b, initial=wf.Int(10)).compute()
        13
        """
        return reduce_items(self, self._item_type, func, initial)

    @typecheck(key=(FUNCTION, None), reverse=Bool)
    def sorted(self, key=None, reverse=False) -> List:
        """A sorted copy.

        Parameters
        ----------
        key : callable, optional
            Takes an item, returns what to sort by (by default the item).
        reverse : Bool, default False
            Descending instead of ascending.

        Returns
        -------
        Same type as self

        Example
        -------
        >>> wf.List[wf.Int]([1, 4, 2, 3]).sorted().compute()
        [1, 2, 3, 4]
        """
        if key is None:
            return type(self)._from_apply("wf.sorted", self, reverse=reverse)
        fn = as_function(key, self._item_type)
        return type(self)._from_apply("wf.sorted", self, fn, reverse=reverse)

    def __add__(self, other):
        """The lists concatenated."""
        return type(self)._from_apply("wf.add", self, type(self)._promote(other))

    def __radd__(self, other):
        """The lists concatenated, a Python list on the left."""
        return type(self)._from_apply("wf.add", type(self)._promote(other), self)

    def __mul__(self, times):
        """The list repeated ``times`` times."""
        return type(self)._from_apply("wf.mul", self, Int._promote(times))

    def __eq__(self, other):  # type: ignore[override]
        """Whether the lists are equal (a Bool)."""
        return Bool._from_apply("wf.eq", self, other)

    def __ne__(self, other):  # type: ignore[override]
        """Whether the lists differ (a Bool)."""
        return Bool._from_apply("wf.ne", self, other)

    __hash__ = Proxytype.__hash__


def _slice(s: slice) -> Proxytype:
    from tiles.types.proxify import proxify

    parts = [proxify(v) for v in (s.start, s.stop, s.step)]
    return Any._from_apply("wf.Slice.create", *parts)


class Tuple(GenericProxytype):
    """``Tuple[T1, T2, ...]``: a fixed-length lazy tuple."""

    def __init__(self, items: _Any):
        """A Tuple of the given items, one per type parameter.

        Parameters
        ----------
        items : sequence
            Python values or proxies of each position's type.

        Example
        -------
        >>> wf.Tuple[wf.Int, wf.Str]((1, "a")).compute()
        (1, 'a')
        """
        types = type(self)._require_concrete()
        items = list(items)
        if len(items) != len(types):
            raise ProxyTypeError(
                f"{type(self).__name__} needs {len(types)} items, got {len(items)}"
            )
        promoted = [_promote_to(t, v) for t, v in zip(types, items, strict=True)]
        obj = type(self)._from_apply("wf.tuple", *promoted)
        self.graft, self.params = obj.graft, obj.params

    @classmethod
    def _promote(cls, obj: _Any):
        if isinstance(obj, cls):
            return obj
        if isinstance(obj, (list, tuple)) and cls._type_params is not None:
            return cls(obj)
        if isinstance(obj, Any):
            return cls._from_graft(obj.graft, obj.params)
        return super()._promote(obj)

    def __getitem__(self, index):
        """The item at ``index`` (a Python int), of that position's type."""
        types = type(self)._require_concrete()
        if isinstance(index, int):
            try:
                item_type = types[index]
            except IndexError:
                raise ProxyTypeError(
                    f"index {index} out of range for {type(self).__name__}"
                ) from None
            return item_type._from_apply("wf.get", self, index)
        raise ProxyTypeError("Tuple indices must be Python ints")

    def __len__(self) -> int:
        """The number of items, which is part of the type."""
        return len(type(self)._require_concrete())

    def __iter__(self):
        """The items as proxies, so a pair unpacks: ``head, tail = col.partition(1)``."""
        return (self[i] for i in range(len(self)))

    def length(self) -> Int:
        """The number of items (an Int)."""
        return Int._from_apply("wf.length", self)

    def __eq__(self, other):  # type: ignore[override]
        """Whether the tuples are equal (a Bool)."""
        return Bool._from_apply("wf.eq", self, other)

    __hash__ = Proxytype.__hash__


class Dict(GenericProxytype):
    """``Dict[K, V]``: a lazy mapping with one key type and one value type."""

    def __init__(self, *args: _Any, **kwargs: _Any):
        """A Dict of the given items, as ``dict(*args, **kwargs)`` takes them.

        Parameters
        ----------
        *args, **kwargs
            A mapping or pairs, and keywords; keys and values promoted to the Dict's types.

        Example
        -------
        >>> wf.Dict[wf.Str, wf.Int]({"a": 1}).compute()
        {'a': 1}
        """
        key_type, value_type = type(self)._require_concrete()[-2:]
        mapping = dict(*args, **kwargs)
        if all(isinstance(k, str) for k in mapping):
            promoted = {k: _promote_to(value_type, v) for k, v in mapping.items()}
            obj = type(self)._from_apply("wf.dict.create", **promoted)
        else:
            pairs = [
                Tuple[key_type, value_type]((k, v)) for k, v in mapping.items()
            ]  # non-string keys go as pairs
            obj = type(self)._from_apply(
                "wf.dict.from_pairs", List[Tuple[key_type, value_type]](pairs)
            )
        self.graft, self.params = obj.graft, obj.params

    @classmethod
    def _promote(cls, obj: _Any):
        if isinstance(obj, cls):
            return obj
        if isinstance(obj, dict) and cls._type_params is not None:
            return cls(obj)
        if isinstance(obj, (Any, Dict)):
            return cls._from_graft(obj.graft, obj.params)
        return super()._promote(obj)

    @property
    def _key_type(self) -> type:
        return type(self)._require_concrete()[-2]

    @property
    def _value_type(self) -> type:
        return type(self)._require_concrete()[-1]

    def __getitem__(self, key):
        """The value of ``key`` (computing fails when it is missing)."""
        return self._value_type._from_apply("wf.get", self, key)

    def get(self, key, default=None):
        """The value of ``key``, or ``default`` when it is missing.

        Parameters
        ----------
        key : the key type
        default : the value type, optional

        Returns
        -------
        The value type
        """
        return self._value_type._from_apply("wf.get", self, key, default)

    def keys(self) -> List:
        """The keys, in order (a List)."""
        return List[self._key_type]._from_apply("wf.dict.keys", self)

    def values(self) -> List:
        """The values, in key order (a List)."""
        return List[self._value_type]._from_apply("wf.dict.values", self)

    def items(self) -> List:
        """The (key, value) pairs, in order (a List of Tuples)."""
        return List[Tuple[self._key_type, self._value_type]]._from_apply("wf.dict.items", self)

    def length(self) -> Int:
        """The number of keys (an Int)."""
        return Int._from_apply("wf.length", self)

    def contains(self, key) -> Bool:
        """Whether ``key`` is a key (a Bool)."""
        return Bool._from_apply("wf.contains", self, key)


class KnownDict(Dict):
    """``KnownDict[{key: type, ...}, K, V]``: a Dict whose known keys have their own types."""

    @classmethod
    def _needs_params(cls) -> bool:
        return True

    def _known_type(self, key) -> type | None:
        known = type(self)._require_concrete()[0]
        return known.get(key) if isinstance(key, str) else None

    def __getitem__(self, key):
        """The value of ``key``, of that key's own type when it is a known key."""
        known = self._known_type(key)
        if known is not None:
            return known._from_apply("wf.get", self, key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        """The value of ``key`` (of its own type when known), or ``default`` when missing."""
        known = self._known_type(key)
        if known is not None and default is None:
            return known._from_apply("wf.get", self, key, default)
        return super().get(key, default)


def range_(start, stop=None, step=None) -> List:
    """``wf.range``: a lazy ``List[Int]`` like Python's ``range``.

    Parameters
    ----------
    start : Int
        The stop, when it is the only argument.
    stop, step : Int, optional

    Returns
    -------
    List[Int]

    Example
    -------
    >>> wf.range(3).compute()
    [0, 1, 2]
    """
    args = [Int._promote(v) for v in (start, stop, step) if v is not None]
    return List[Int]._from_apply("wf.range", *args)


def zip_(*sequences) -> List:
    """``wf.zip``: a lazy list of tuples of the items of several Lists, like Python's ``zip``.

    Parameters
    ----------
    *sequences : List or Python list

    Returns
    -------
    List[Tuple[...]]
        As long as the shortest.

    Example
    -------
    >>> wf.zip([1, 2], ["a", "b"]).compute()
    [(1, 'a'), (2, 'b')]
    """
    from tiles.types.proxify import proxify

    lists = [proxify(s) for s in sequences]
    if not all(isinstance(s, List) for s in lists):
        raise ProxyTypeError("zip takes Lists")
    item_types = tuple(type(s)._require_concrete()[0] for s in lists)
    return List[Tuple[item_types]]._from_apply("wf.zip", *lists)


__all__ = ["NO_INITIAL", "Dict", "KnownDict", "List", "Tuple", "range_", "zip_"]
