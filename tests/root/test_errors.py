"""Every exception type of :mod:`tiles.errors` survives pickling, plain and as dask.distributed
sends a worker's exceptions to the client (through tblib): same type, message, attributes
and status."""

from __future__ import annotations

import inspect
import pickle

import pytest

from tiles import errors

TYPES = [
    cls
    for _, cls in inspect.getmembers(errors, inspect.isclass)
    if issubclass(cls, Exception) and cls.__module__ == errors.__name__
]
#: Arguments beyond the message, with values other than their defaults.
EXTRA = {
    errors.DisplayOptionError: ("scales", [1, 2, 3]),
    errors.UnavailableError: (7,),
}
MESSAGE = "pixels over the limit (TILES_MAX_PIXELS)"


def _sent_by_dask(error: BaseException) -> BaseException:
    """``error`` as a Dask worker sends it and the client rebuilds it."""
    core = pytest.importorskip("distributed.core")
    message = core.error_message(error)
    _, again, _ = core.clean_exception(message["exception"].data, message["traceback"].data)
    return again


def test_every_type_is_checked():
    assert {errors.ResourceLimitError, errors.GraftSyntaxError, errors.UnavailableError} <= set(
        TYPES
    )
    assert len(TYPES) >= 20


@pytest.mark.parametrize("send", ["pickle", "dask"])
@pytest.mark.parametrize("cls", TYPES, ids=lambda cls: cls.__name__)
def test_an_error_survives_pickling_with_its_message_and_attributes(cls, send):
    error = cls(MESSAGE, *EXTRA.get(cls, ()))
    again = pickle.loads(pickle.dumps(error)) if send == "pickle" else _sent_by_dask(error)
    assert type(again) is cls
    assert str(again) == str(error) == MESSAGE
    assert vars(again) == vars(error)
    assert errors.status_of(again) == errors.status_of(error)
