"""DisplayOptions: each option's rules, every invalid case, and the query and JSON round trips."""

from __future__ import annotations

import json
import pickle
import urllib.parse

import matplotlib
import numpy as np
import pytest

from tiles import display
from tiles.display import DisplayOptions
from tiles.errors import DisplayOptionError, ParameterError

# ----------------------------------------------------------------- one option at a time


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, []),
        ([], []),
        ([0, 1], [(0.0, 1.0)]),
        ((0, 1), [(0.0, 1.0)]),
        ([[0, 1]], [(0.0, 1.0)]),
        ([[0, 1], [2, 3], [-1, 1]], [(0.0, 1.0), (2.0, 3.0), (-1.0, 1.0)]),
        ([[None, None], [0, 1]], [(None, None), (0.0, 1.0)]),
        ([None, None], [(None, None)]),
    ],
)
def test_normalize_scales_accepts_client_shapes(given, expected):
    assert display.normalize_scales(given) == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ([[0, 1]] * 4, "at most 3"),
        ([[0, None]], "both min and max"),
        ([[0, 1, 2]], "pair"),
        ("0,1", "list"),
        ([[0, float("inf")]], "not finite"),
        ([[-1e308, 1e308]], "max - min"),  # finite ends, a span beyond any float
        ([[10**400, 0]], "not finite"),
        ([[True, 1]], "both min and max"),
    ],
)
def test_normalize_scales_rejects_bad_shapes(given, message):
    with pytest.raises(ParameterError, match=message):
        display.normalize_scales(given)


def test_colormap_names_and_suggestions():
    assert display.normalize_colormap("") is None
    assert display.normalize_colormap(None) is None
    assert display.normalize_colormap("viridis") == "viridis"
    assert display.normalize_colormap("rdylgn") == "RdYlGn"
    with pytest.raises(ParameterError, match="viridis"):
        display.normalize_colormap("viridiss")


def test_colormap_names_are_matplotlibs():
    assert display.colormap_names() == frozenset(matplotlib.colormaps)
    assert display.available_colormaps() == sorted(matplotlib.colormaps)


def test_reduction_names():
    assert display.normalize_reduction(None) == "mosaic"
    for name in display.LAYER_REDUCTIONS:
        assert display.normalize_reduction(name) == name
    with pytest.raises(ParameterError, match="mosaic, min, max"):
        display.normalize_reduction("mode")


def test_one_reductions_list():
    from tiles import engine
    from tiles.engine import reductions

    assert display.LAYER_REDUCTIONS == ("mosaic", *display.REDUCTIONS)
    assert engine.REDUCTIONS is display.REDUCTIONS is reductions.REDUCTIONS


def test_band_count_rules():
    with pytest.raises(ParameterError, match="exactly 1 band"):
        DisplayOptions(None, "viridis", "mosaic").check_band_count(3)
    with pytest.raises(ParameterError, match="single band"):
        DisplayOptions([[0, 1], [0, 1]], "viridis", "mosaic")
    with pytest.raises(ParameterError, match="4 bands"):
        DisplayOptions(None, None, "mosaic").check_band_count(4)
    with pytest.raises(ParameterError, match="only 1 band"):
        DisplayOptions([[0, 1], [0, 1]], None, "mosaic").check_band_count(1)
    options = DisplayOptions([0, 1], "Greys", "max")
    options.check_band_count(1)
    assert (list(options.scales), options.colormap, options.reduction) == (
        [(0.0, 1.0)],
        "Greys",
        "max",
    )


# ----------------------------------------------------------------- the value


def test_normalised_on_construction():
    options = DisplayOptions(scales=(np.float32(0), np.int64(3)), colormap="rdylgn", reduction="")
    assert options.scales == ((0.0, 3.0),)
    assert all(type(v) is float for v in options.scales[0])
    assert options.colormap == "RdYlGn" and options.reduction == "mosaic"
    assert options.checkerboard is True
    assert DisplayOptions(scales=[], colormap="") == DisplayOptions()
    # Equal values hash equal: usable as cache keys.
    assert hash(DisplayOptions(scales=[0, 1])) == hash(DisplayOptions(scales=[[0.0, 1.0]]))
    assert DisplayOptions().json_scales is None
    assert DisplayOptions(scales=[[0, 1], [None, None]]).json_scales == [[0.0, 1.0], [None, None]]


def test_immutable_and_replace_validates_again():
    options = DisplayOptions(scales=[[0, 1], [0, 1], [0, 1]])
    with pytest.raises(AttributeError):
        options.colormap = "viridis"
    assert options.replace(checkerboard=False).checkerboard is False
    assert options.replace(checkerboard=False).scales == options.scales
    with pytest.raises(DisplayOptionError, match="single band"):
        options.replace(colormap="viridis")


INVALID = [
    ({"scales": [[0, 1]] * 4}, "scales", "at most 3"),
    ({"scales": [[0, None]]}, "scales", "both min and max"),
    ({"scales": [[0, 1, 2]]}, "scales", "pair"),
    ({"scales": "0,1"}, "scales", "list"),
    ({"scales": 5}, "scales", "list"),
    ({"scales": [[0, float("nan")]]}, "scales", "not finite"),
    ({"scales": [[True, 1]]}, "scales", "both min and max"),
    ({"scales": [["0", "1"]]}, "scales", "both min and max"),
    ({"colormap": "viridiss"}, "colormap", "viridiss"),
    ({"colormap": "no-such-map-at-all"}, "colormap", "Unknown colormap"),
    ({"colormap": 3}, "colormap", "expected a name"),
    ({"colormap": "viridis", "scales": [[0, 1], [0, 1]]}, "colormap", "single band"),
    ({"reduction": "mode"}, "reduction", "'mode'"),
    ({"reduction": 1}, "reduction", "must be one of"),
    ({"checkerboard": "yes"}, "checkerboard", "true or false"),
    ({"checkerboard": None}, "checkerboard", "true or false"),
    ({"checkerboard": 1}, "checkerboard", "true or false"),
]


@pytest.mark.parametrize(("given", "option", "message"), INVALID)
def test_every_invalid_option_is_named(given, option, message):
    for build in (lambda: DisplayOptions(**given), lambda: DisplayOptions.from_json(given)):
        with pytest.raises(DisplayOptionError, match=message) as info:
            build()
        assert info.value.option == option
        assert isinstance(info.value, ParameterError)
        assert option in str(info.value)
        bad = given[option]
        if isinstance(bad, str) and bad:
            assert bad in str(info.value)


def test_error_survives_pickling():
    with pytest.raises(DisplayOptionError) as info:
        DisplayOptions(reduction="mode")
    again = pickle.loads(pickle.dumps(info.value))
    assert (again.option, again.value, str(again)) == ("reduction", "mode", str(info.value))


# ----------------------------------------------------------------- round trips

SAMPLES = [
    DisplayOptions(),
    DisplayOptions(scales=[0, 0.3], colormap="viridis"),
    DisplayOptions(scales=[[0, 1], [None, None], [-2.5, 1e6]], checkerboard=False),
    DisplayOptions(scales=[[None, None]], colormap="RdYlGn", reduction="median"),
    DisplayOptions(reduction="count", checkerboard=False),
]


@pytest.mark.parametrize("options", SAMPLES)
def test_query_round_trips(options):
    pairs = options.to_query()
    assert DisplayOptions.from_query(pairs) == options
    text = urllib.parse.urlencode(pairs)
    assert DisplayOptions.from_query(text) == options
    # As a web framework parses a query: lists of bytes.
    parsed = {k: [v.encode() for v in vs] for k, vs in urllib.parse.parse_qs(text, True).items()}
    assert DisplayOptions.from_query(parsed) == options
    # Whatever the defaults, a full query decides every option.
    other = DisplayOptions(scales=[5, 6], colormap="magma", reduction="max", checkerboard=False)
    assert DisplayOptions.from_query(pairs, defaults=other) == options


@pytest.mark.parametrize("options", SAMPLES)
def test_json_round_trips(options):
    data = options.to_json()
    assert json.loads(json.dumps(data)) == data
    assert DisplayOptions.from_json(json.loads(json.dumps(data))) == options


def test_query_form_is_the_original_clients():
    options = DisplayOptions(scales=[[0, 1]], colormap="viridis", checkerboard=False)
    assert dict(options.to_query()) == {
        "colormap": "viridis",
        "reduction": "mosaic",
        "checkerboard": "false",
        "scales": json.dumps([[0.0, 1.0]]),
    }
    assert dict(DisplayOptions().to_query())["scales"] == "null"
    assert dict(DisplayOptions().to_query())["colormap"] == ""


def test_from_query_fills_in_defaults_and_ignores_other_keys():
    defaults = DisplayOptions(scales=[[0, 2]], colormap="magma", checkerboard=False)
    got = DisplayOptions.from_query({"reduction": ["max"], "t": ["1"], "session_id": "s"}, defaults)
    assert got == defaults.replace(reduction="max")
    # An empty colormap or scales value clears the default; checkerboard words in any case.
    query = "colormap=&scales=&checkerboard=YES"
    assert DisplayOptions.from_query(query, defaults) == DisplayOptions()
    assert DisplayOptions.from_query("checkerboard=0", defaults).checkerboard is False
    # The last of repeated values counts, as in the server's query parsing.
    assert DisplayOptions.from_query("reduction=min&reduction=max").reduction == "max"


def test_from_json_defaults_and_extra_keys():
    defaults = DisplayOptions(colormap="magma")
    got = DisplayOptions.from_json({"scales": [0, 9], "id": "v1", "log_level": 10}, defaults)
    assert got == DisplayOptions(scales=[[0, 9]], colormap="magma")
    assert DisplayOptions.from_json({"scales": None, "colormap": None, "reduction": None}) == (
        DisplayOptions()
    )


@pytest.mark.parametrize(
    ("query", "option", "message"),
    [
        ("checkerboard=maybe", "checkerboard", "'maybe'"),
        ("scales=[[0,1]", "scales", "not valid JSON"),
        ("scales=[[0,1,2]]", "scales", "pair"),
        ("colormap=viridiss", "colormap", "viridis"),
        ("reduction=zzz", "reduction", "'zzz'"),
        ("colormap=viridis&scales=[[0,1],[0,1]]", "colormap", "single band"),
    ],
)
def test_bad_queries_name_the_option(query, option, message):
    with pytest.raises(DisplayOptionError, match=message) as info:
        DisplayOptions.from_query(query)
    assert info.value.option == option and option in str(info.value)


def test_from_json_needs_an_object():
    with pytest.raises(DisplayOptionError, match="JSON object"):
        DisplayOptions.from_json([["scales", [0, 1]]])
