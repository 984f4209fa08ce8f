from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class VizOption(_message.Message):
    __slots__ = ("id", "bands", "checkerboard", "colormap", "reduction", "scales", "description")
    class Scales(_message.Message):
        __slots__ = ("min", "max")
        MIN_FIELD_NUMBER: _ClassVar[int]
        MAX_FIELD_NUMBER: _ClassVar[int]
        min: float
        max: float
        def __init__(self, min: _Optional[float] = ..., max: _Optional[float] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    BANDS_FIELD_NUMBER: _ClassVar[int]
    CHECKERBOARD_FIELD_NUMBER: _ClassVar[int]
    COLORMAP_FIELD_NUMBER: _ClassVar[int]
    REDUCTION_FIELD_NUMBER: _ClassVar[int]
    SCALES_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    id: str
    bands: _containers.RepeatedScalarFieldContainer[str]
    checkerboard: bool
    colormap: str
    reduction: str
    scales: _containers.RepeatedCompositeFieldContainer[VizOption.Scales]
    description: str
    def __init__(self, id: _Optional[str] = ..., bands: _Optional[_Iterable[str]] = ..., checkerboard: _Optional[bool] = ..., colormap: _Optional[str] = ..., reduction: _Optional[str] = ..., scales: _Optional[_Iterable[_Union[VizOption.Scales, _Mapping]]] = ..., description: _Optional[str] = ...) -> None: ...
