import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from tiles.grpc.protos import typespec_pb2 as _typespec_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SelectFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DROPDOWN: _ClassVar[SelectFormat]
    RADIO: _ClassVar[SelectFormat]
    SLIDER: _ClassVar[SelectFormat]
DROPDOWN: SelectFormat
RADIO: SelectFormat
SLIDER: SelectFormat

class Parameter(_message.Message):
    __slots__ = ("name", "label", "doc", "typespec", "string_input", "int_input", "float_input", "int_slider", "float_slider", "date", "string_select", "int_select", "float_select", "checkbox", "image", "image_collection")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    DOC_FIELD_NUMBER: _ClassVar[int]
    TYPESPEC_FIELD_NUMBER: _ClassVar[int]
    STRING_INPUT_FIELD_NUMBER: _ClassVar[int]
    INT_INPUT_FIELD_NUMBER: _ClassVar[int]
    FLOAT_INPUT_FIELD_NUMBER: _ClassVar[int]
    INT_SLIDER_FIELD_NUMBER: _ClassVar[int]
    FLOAT_SLIDER_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    STRING_SELECT_FIELD_NUMBER: _ClassVar[int]
    INT_SELECT_FIELD_NUMBER: _ClassVar[int]
    FLOAT_SELECT_FIELD_NUMBER: _ClassVar[int]
    CHECKBOX_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    IMAGE_COLLECTION_FIELD_NUMBER: _ClassVar[int]
    name: str
    label: str
    doc: str
    typespec: _typespec_pb2.Typespec
    string_input: StringInput
    int_input: IntInput
    float_input: FloatInput
    int_slider: IntSlider
    float_slider: FloatSlider
    date: Date
    string_select: StringSelect
    int_select: IntSelect
    float_select: FloatSelect
    checkbox: Checkbox
    image: ImagePicker
    image_collection: ImageCollectionPicker
    def __init__(self, name: _Optional[str] = ..., label: _Optional[str] = ..., doc: _Optional[str] = ..., typespec: _Optional[_Union[_typespec_pb2.Typespec, _Mapping]] = ..., string_input: _Optional[_Union[StringInput, _Mapping]] = ..., int_input: _Optional[_Union[IntInput, _Mapping]] = ..., float_input: _Optional[_Union[FloatInput, _Mapping]] = ..., int_slider: _Optional[_Union[IntSlider, _Mapping]] = ..., float_slider: _Optional[_Union[FloatSlider, _Mapping]] = ..., date: _Optional[_Union[Date, _Mapping]] = ..., string_select: _Optional[_Union[StringSelect, _Mapping]] = ..., int_select: _Optional[_Union[IntSelect, _Mapping]] = ..., float_select: _Optional[_Union[FloatSelect, _Mapping]] = ..., checkbox: _Optional[_Union[Checkbox, _Mapping]] = ..., image: _Optional[_Union[ImagePicker, _Mapping]] = ..., image_collection: _Optional[_Union[ImageCollectionPicker, _Mapping]] = ...) -> None: ...

class StringInput(_message.Message):
    __slots__ = ("default",)
    DEFAULT_FIELD_NUMBER: _ClassVar[int]
    default: str
    def __init__(self, default: _Optional[str] = ...) -> None: ...

class IntInput(_message.Message):
    __slots__ = ("default",)
    DEFAULT_FIELD_NUMBER: _ClassVar[int]
    default: int
    def __init__(self, default: _Optional[int] = ...) -> None: ...

class FloatInput(_message.Message):
    __slots__ = ("default",)
    DEFAULT_FIELD_NUMBER: _ClassVar[int]
    default: float
    def __init__(self, default: _Optional[float] = ...) -> None: ...

class IntSlider(_message.Message):
    __slots__ = ("default", "min", "max", "step")
    DEFAULT_FIELD_NUMBER: _ClassVar[int]
    MIN_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    default: int
    min: int
    max: int
    step: int
    def __init__(self, default: _Optional[int] = ..., min: _Optional[int] = ..., max: _Optional[int] = ..., step: _Optional[int] = ...) -> None: ...

class FloatSlider(_message.Message):
    __slots__ = ("default", "min", "max", "step")
    DEFAULT_FIELD_NUMBER: _ClassVar[int]
    MIN_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    default: float
    min: float
    max: float
    step: float
    def __init__(self, default: _Optional[float] = ..., min: _Optional[float] = ..., max: _Optional[float] = ..., step: _Optional[float] = ...) -> None: ...

class Date(_message.Message):
    __slots__ = ("default",)
    DEFAULT_FIELD_NUMBER: _ClassVar[int]
    default: _timestamp_pb2.Timestamp
    def __init__(self, default: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StringSelect(_message.Message):
    __slots__ = ("default", "format", "options")
    DEFAULT_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    default: str
    format: SelectFormat
    options: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, default: _Optional[str] = ..., format: _Optional[_Union[SelectFormat, str]] = ..., options: _Optional[_Iterable[str]] = ...) -> None: ...

class IntSelect(_message.Message):
    __slots__ = ("default", "format", "options")
    DEFAULT_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    default: int
    format: SelectFormat
    options: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, default: _Optional[int] = ..., format: _Optional[_Union[SelectFormat, str]] = ..., options: _Optional[_Iterable[int]] = ...) -> None: ...

class FloatSelect(_message.Message):
    __slots__ = ("default", "format", "options")
    DEFAULT_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    default: float
    format: SelectFormat
    options: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, default: _Optional[float] = ..., format: _Optional[_Union[SelectFormat, str]] = ..., options: _Optional[_Iterable[float]] = ...) -> None: ...

class Checkbox(_message.Message):
    __slots__ = ("default",)
    DEFAULT_FIELD_NUMBER: _ClassVar[int]
    default: bool
    def __init__(self, default: _Optional[bool] = ...) -> None: ...

class ImagePicker(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ImageCollectionPicker(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
