"""Grafts exactly as the original client (descarteslabs 1.12.1) builds them, evaluated here.

``original_client_grafts.json`` holds them as ``tests/grpc/original_client/build_grafts.py``
prints them with the original client; where that client's Python 3.9 environment can be
built, ``test_checked_in_grafts_are_the_original_clients`` rebuilds and compares them.
Results are checked against this package's own proxies and numpy.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

import tiles as wf
from tests.grpc.test_original_client import _client_env, py39_env  # noqa: F401 - a fixture
from tests.server.support import expected_rgba, fetch_tile, reference_band, register, tile_over
from tiles import scenes
from tiles.graft import Closure, interpret

HERE = Path(__file__).resolve().parent
GRAFTS = json.loads((HERE / "original_client_grafts.json").read_text())
BUILD = HERE.parent / "grpc" / "original_client" / "build_grafts.py"

CTX = scenes.AOI(
    bounds=(412980.0, 3949170.0, 416820.0, 3953010.0),
    bounds_crs="EPSG:32613",
    crs="EPSG:32613",
    resolution=60.0,
)


def test_checked_in_grafts_are_the_original_clients(py39_env: Path) -> None:  # noqa: F811
    out = subprocess.run(
        [str(py39_env / "bin" / "python"), str(BUILD)],
        capture_output=True,
        text=True,
        env=_client_env(),
        timeout=300,
        check=True,
    )
    assert json.loads(out.stdout) == GRAFTS


def test_the_grafts_have_the_original_shapes() -> None:
    """What the evaluation below relies on: one list, or one dict, after the imagery."""
    positional = GRAFTS["rename_positional"]
    call = positional[positional["returns"]]
    assert call[0] == "wf.rename_bands_positionally" and len(call) == 3
    assert positional[call[2]][0] == "wf.list"
    keywords = GRAFTS["rename_keywords"]
    call = keywords[keywords["returns"]]
    assert call[0] == "wf.rename_bands" and len(call) == 3
    assert keywords[call[2]][0] == "wf.dict.create"
    assert GRAFTS["function_of_parameter"]["parameters"] == ["threshold"]


def own_bands(image_id: str, bands: str) -> np.ma.MaskedArray:
    return wf.Image.from_id(image_id).pick_bands(bands).compute(CTX).ndarray


def test_rename_bands_positionally() -> None:
    result = interpret(GRAFTS["rename_positional"], CTX)
    assert list(result.bandinfo) == ["r", "n"]
    expected = own_bands("sample:s2:20230515_z13", "red nir")
    np.testing.assert_array_equal(result.ndarray.filled(-1), expected.filled(-1))
    # the same rename built by this package gives the same graft shape and result
    own = wf.Image.from_id("sample:s2:20230515_z13").pick_bands("red nir").rename_bands("r", "n")
    assert own.graft[own.graft["returns"]][0] == "wf.rename_bands_positionally"
    assert list(own.compute(CTX).bandinfo) == ["r", "n"]


def test_rename_bands_by_keyword() -> None:
    result = interpret(GRAFTS["rename_keywords"], CTX)
    assert list(result.bandinfo) == ["r", "nir"]
    assert result.bandinfo["r"]["data_range"] == result.bandinfo["nir"]["data_range"]
    expected = own_bands("sample:s2:20230515_z13", "red nir")
    np.testing.assert_array_equal(result.ndarray.filled(-1), expected.filled(-1))


def test_rename_bands_of_a_collection() -> None:
    result = interpret(GRAFTS["rename_collection"], CTX)
    expected = (
        wf.ImageCollection.from_id("sample:s2", "2023-05-01", "2023-06-01")
        .pick_bands("red")
        .compute(CTX)
    )
    assert list(result.bandinfo) == ["r"] and len(result) == len(expected) > 0
    np.testing.assert_array_equal(result.ndarray.filled(-1), expected.ndarray.filled(-1))


def test_rename_bands_in_the_earlier_form_still_evaluates() -> None:
    """Grafts stored by earlier versions of this package pass names as separate arguments."""
    graft = {
        "0": "sample:dem:santa_fe",
        "1": ["wf.Image.load", "0"],
        "2": "height",
        "3": ["wf.rename_bands_positionally", "1", "2"],
        "4": ["wf.rename_bands", "3", {"height": "5"}],
        "5": "h",
        "returns": "4",
    }
    assert list(interpret(graft, CTX).bandinfo) == ["h"]


def test_a_function_graft_is_applied_to_its_arguments_by_name() -> None:
    graft = GRAFTS["function_of_parameter"]
    dem = wf.Image.from_id("sample:dem:santa_fe").compute(CTX).ndarray
    for threshold in (2100.0, 2300.0):
        result = interpret(graft, CTX, threshold=threshold)
        np.testing.assert_array_equal(result.ndarray.mask, dem.mask)
        np.testing.assert_array_equal(result.ndarray.compressed(), dem.compressed() > threshold)
    # with no arguments it is the function itself; with missing ones, a clear error
    assert isinstance(interpret(graft, CTX), Closure)
    with pytest.raises(wf.GraftError, match="no value given for threshold"):
        interpret(graft, CTX, other=1.0)


def test_the_tile_server_applies_a_function_layer_to_the_query(server) -> None:
    layer = register(
        server.base_url,
        GRAFTS["function_of_parameter"],
        scales=[[0, 1]],
        parameters={"threshold": 2200.0},
    )
    tile = tile_over("sample:dem:santa_fe", 12)
    dem = reference_band("sample:dem:santa_fe", "elevation", tile)
    for query, threshold in (("threshold=2300", 2300.0), ("", 2200.0)):
        expected = expected_rgba([np.ma.masked_array(dem > threshold, dem.mask)], [(0, 1)])
        np.testing.assert_array_equal(fetch_tile(layer, tile, query), expected)
