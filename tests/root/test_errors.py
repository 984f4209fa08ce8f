"""Every exception type of :mod:`tiles.errors` survives pickling (as errors raised on Dask
workers do on their way to the client): same type, message, attributes and status."""

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


def test_every_type_is_checked():
    assert {errors.ResourceLimitError, errors.UnavailableError} <= set(TYPES)
    assert len(TYPES) >= 20


@pytest.mark.parametrize("cls", TYPES, ids=lambda cls: cls.__name__)
def test_an_error_survives_pickling_with_its_message_and_attributes(cls):
    error = cls("pixels over the limit (TILES_MAX_PIXELS)", *EXTRA.get(cls, ()))
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is cls
    assert str(again) == str(error) == "pixels over the limit (TILES_MAX_PIXELS)"
    assert vars(again) == vars(error)
    assert errors.status_of(again) == errors.status_of(error)
