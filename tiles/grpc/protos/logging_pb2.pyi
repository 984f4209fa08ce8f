from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LogRecord(_message.Message):
    __slots__ = ("level", "message", "timestamp")
    class Level(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        DEBUG: _ClassVar[LogRecord.Level]
        INFO: _ClassVar[LogRecord.Level]
        WARNING: _ClassVar[LogRecord.Level]
        ERROR: _ClassVar[LogRecord.Level]
    DEBUG: LogRecord.Level
    INFO: LogRecord.Level
    WARNING: LogRecord.Level
    ERROR: LogRecord.Level
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    level: LogRecord.Level
    message: str
    timestamp: int
    def __init__(self, level: _Optional[_Union[LogRecord.Level, str]] = ..., message: _Optional[str] = ..., timestamp: _Optional[int] = ...) -> None: ...
