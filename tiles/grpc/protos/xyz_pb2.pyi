import datetime

from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from tiles.grpc.protos import types_pb2 as _types_pb2
from tiles.grpc.protos import typespec_pb2 as _typespec_pb2
from tiles.grpc.protos import visualization_pb2 as _visualization_pb2
from tiles.grpc.protos import widgets_pb2 as _widgets_pb2
from tiles.grpc.protos import logging_pb2 as _logging_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class XYZ(_message.Message):
    __slots__ = ("id", "created_timestamp", "updated_timestamp", "name", "description", "type", "channel", "client_version", "serialized_graft", "typespec", "parameters", "user", "org", "url_template", "wmts_url_template", "expires_timestamp", "public", "viz_options")
    ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    UPDATED_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    CLIENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    SERIALIZED_GRAFT_FIELD_NUMBER: _ClassVar[int]
    TYPESPEC_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    URL_TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    WMTS_URL_TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_FIELD_NUMBER: _ClassVar[int]
    VIZ_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    id: str
    created_timestamp: int
    updated_timestamp: int
    name: str
    description: str
    type: _types_pb2.ResultType
    channel: str
    client_version: str
    serialized_graft: str
    typespec: _typespec_pb2.Typespec
    parameters: _containers.RepeatedCompositeFieldContainer[_widgets_pb2.Parameter]
    user: str
    org: str
    url_template: str
    wmts_url_template: str
    expires_timestamp: _timestamp_pb2.Timestamp
    public: bool
    viz_options: _containers.RepeatedCompositeFieldContainer[_visualization_pb2.VizOption]
    def __init__(self, id: _Optional[str] = ..., created_timestamp: _Optional[int] = ..., updated_timestamp: _Optional[int] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., type: _Optional[_Union[_types_pb2.ResultType, str]] = ..., channel: _Optional[str] = ..., client_version: _Optional[str] = ..., serialized_graft: _Optional[str] = ..., typespec: _Optional[_Union[_typespec_pb2.Typespec, _Mapping]] = ..., parameters: _Optional[_Iterable[_Union[_widgets_pb2.Parameter, _Mapping]]] = ..., user: _Optional[str] = ..., org: _Optional[str] = ..., url_template: _Optional[str] = ..., wmts_url_template: _Optional[str] = ..., expires_timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., public: _Optional[bool] = ..., viz_options: _Optional[_Iterable[_Union[_visualization_pb2.VizOption, _Mapping]]] = ...) -> None: ...

class CreateXYZRequest(_message.Message):
    __slots__ = ("name", "description", "serialized_graft", "typespec", "parameters", "channel", "client_version", "days_to_expiration", "public", "viz_options")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SERIALIZED_GRAFT_FIELD_NUMBER: _ClassVar[int]
    TYPESPEC_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    CLIENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    DAYS_TO_EXPIRATION_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_FIELD_NUMBER: _ClassVar[int]
    VIZ_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    serialized_graft: str
    typespec: _typespec_pb2.Typespec
    parameters: _containers.RepeatedCompositeFieldContainer[_widgets_pb2.Parameter]
    channel: str
    client_version: str
    days_to_expiration: int
    public: bool
    viz_options: _containers.RepeatedCompositeFieldContainer[_visualization_pb2.VizOption]
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., serialized_graft: _Optional[str] = ..., typespec: _Optional[_Union[_typespec_pb2.Typespec, _Mapping]] = ..., parameters: _Optional[_Iterable[_Union[_widgets_pb2.Parameter, _Mapping]]] = ..., channel: _Optional[str] = ..., client_version: _Optional[str] = ..., days_to_expiration: _Optional[int] = ..., public: _Optional[bool] = ..., viz_options: _Optional[_Iterable[_Union[_visualization_pb2.VizOption, _Mapping]]] = ...) -> None: ...

class GetXYZRequest(_message.Message):
    __slots__ = ("xyz_id",)
    XYZ_ID_FIELD_NUMBER: _ClassVar[int]
    xyz_id: str
    def __init__(self, xyz_id: _Optional[str] = ...) -> None: ...

class ListXYZRequest(_message.Message):
    __slots__ = ("public",)
    PUBLIC_FIELD_NUMBER: _ClassVar[int]
    public: bool
    def __init__(self, public: _Optional[bool] = ...) -> None: ...

class DeleteXYZRequest(_message.Message):
    __slots__ = ("xyz_id",)
    XYZ_ID_FIELD_NUMBER: _ClassVar[int]
    xyz_id: str
    def __init__(self, xyz_id: _Optional[str] = ...) -> None: ...

class GetXYZSessionLogsRequest(_message.Message):
    __slots__ = ("xyz_id", "session_id", "level", "start_timestamp")
    XYZ_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    START_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    xyz_id: str
    session_id: str
    level: _logging_pb2.LogRecord.Level
    start_timestamp: int
    def __init__(self, xyz_id: _Optional[str] = ..., session_id: _Optional[str] = ..., level: _Optional[_Union[_logging_pb2.LogRecord.Level, str]] = ..., start_timestamp: _Optional[int] = ...) -> None: ...

class XYZLogRecord(_message.Message):
    __slots__ = ("record", "session_id")
    RECORD_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    record: _logging_pb2.LogRecord
    session_id: str
    def __init__(self, record: _Optional[_Union[_logging_pb2.LogRecord, _Mapping]] = ..., session_id: _Optional[str] = ...) -> None: ...
