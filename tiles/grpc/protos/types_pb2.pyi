from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor

class ResultType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    Unknown: _ClassVar[ResultType]
    Image: _ClassVar[ResultType]
    ImageCollection: _ClassVar[ResultType]
    Feature: _ClassVar[ResultType]
    FeatureCollection: _ClassVar[ResultType]
    String: _ClassVar[ResultType]
    Number: _ClassVar[ResultType]
    List: _ClassVar[ResultType]
    Dictionary: _ClassVar[ResultType]
    Int: _ClassVar[ResultType]
    Float: _ClassVar[ResultType]
    Str: _ClassVar[ResultType]
    Tuple: _ClassVar[ResultType]
    Dict: _ClassVar[ResultType]
    Datetime: _ClassVar[ResultType]
    Timedelta: _ClassVar[ResultType]
    Bool: _ClassVar[ResultType]
    Geometry: _ClassVar[ResultType]
    KnownDict: _ClassVar[ResultType]
    GeoContext: _ClassVar[ResultType]
    GeometryCollection: _ClassVar[ResultType]
    Array: _ClassVar[ResultType]
    MaskedArray: _ClassVar[ResultType]
    DType: _ClassVar[ResultType]
    Scalar: _ClassVar[ResultType]
Unknown: ResultType
Image: ResultType
ImageCollection: ResultType
Feature: ResultType
FeatureCollection: ResultType
String: ResultType
Number: ResultType
List: ResultType
Dictionary: ResultType
Int: ResultType
Float: ResultType
Str: ResultType
Tuple: ResultType
Dict: ResultType
Datetime: ResultType
Timedelta: ResultType
Bool: ResultType
Geometry: ResultType
KnownDict: ResultType
GeoContext: ResultType
GeometryCollection: ResultType
Array: ResultType
MaskedArray: ResultType
DType: ResultType
Scalar: ResultType
