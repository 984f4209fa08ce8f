from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Typespec(_message.Message):
    __slots__ = ("primitive", "type", "map", "composite")
    PRIMITIVE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    MAP_FIELD_NUMBER: _ClassVar[int]
    COMPOSITE_FIELD_NUMBER: _ClassVar[int]
    primitive: Primitive
    type: str
    map: Map
    composite: CompositeType
    def __init__(self, primitive: _Optional[_Union[Primitive, _Mapping]] = ..., type: _Optional[str] = ..., map: _Optional[_Union[Map, _Mapping]] = ..., composite: _Optional[_Union[CompositeType, _Mapping]] = ...) -> None: ...

class Primitive(_message.Message):
    __slots__ = ("int_", "float_", "bool_", "string_")
    INT__FIELD_NUMBER: _ClassVar[int]
    FLOAT__FIELD_NUMBER: _ClassVar[int]
    BOOL__FIELD_NUMBER: _ClassVar[int]
    STRING__FIELD_NUMBER: _ClassVar[int]
    int_: int
    float_: float
    bool_: bool
    string_: str
    def __init__(self, int_: _Optional[int] = ..., float_: _Optional[float] = ..., bool_: _Optional[bool] = ..., string_: _Optional[str] = ...) -> None: ...

class MapFieldEntry(_message.Message):
    __slots__ = ("key", "val")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VAL_FIELD_NUMBER: _ClassVar[int]
    key: Typespec
    val: Typespec
    def __init__(self, key: _Optional[_Union[Typespec, _Mapping]] = ..., val: _Optional[_Union[Typespec, _Mapping]] = ...) -> None: ...

class Map(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[MapFieldEntry]
    def __init__(self, items: _Optional[_Iterable[_Union[MapFieldEntry, _Mapping]]] = ...) -> None: ...

class CompositeType(_message.Message):
    __slots__ = ("type", "params")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    type: str
    params: _containers.RepeatedCompositeFieldContainer[Typespec]
    def __init__(self, type: _Optional[str] = ..., params: _Optional[_Iterable[_Union[Typespec, _Mapping]]] = ...) -> None: ...
