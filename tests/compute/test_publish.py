"""Publishing proxy objects as workflow versions and using them back."""

from __future__ import annotations

import numpy as np
import pytest

import tiles as wf
from tests.compute.support import dem
from tiles.compute.workflows import (
    Workflow,
    WorkflowStore,
    WorkflowVersionError,
    from_typespec,
    publish,
    typespec,
    use,
)
from tiles.errors import NotFoundError, ParameterError
from tiles.geocontext import AOI

CTX = AOI(bounds=(-105.96, 35.67, -105.92, 35.71), crs="EPSG:32613", resolution=120)
ID = "me@example.com:magic_number"


@pytest.fixture(autouse=True)
def registry_file(tmp_path, monkeypatch):
    path = tmp_path / "workflows.sqlite"
    monkeypatch.setenv("TILES_WORKFLOWS_DB", str(path))
    return path


def test_publish_and_use_a_value():
    workflow = wf.Int(42).publish(ID, "1.0.0", title="The answer")
    assert workflow.id == ID and workflow.versions == ["1.0.0"]
    obj = use(ID, "1.0.0")
    assert type(obj) is wf.Int
    assert obj.inspect() == 42
    assert (obj + 1).compute() == 43


def test_types_round_trip():
    for t in (wf.Image, wf.List[wf.Int], wf.Dict[wf.Str, wf.Float], wf.Tuple[wf.Int, wf.Str]):
        assert from_typespec(typespec(t)) is t
    fn = wf.Function.from_object(wf.parameter("t", wf.Float) + 1)
    assert from_typespec(typespec(type(fn))) is type(fn)


def test_parameters_become_function_arguments():
    threshold = wf.parameter("threshold", wf.Float)
    high = dem() > threshold
    high.publish("me@example.com:high_ground", "0.1.0", viz_options={"colormap": "viridis"})
    fn = use("me@example.com:high_ground", "0.1.0")
    assert isinstance(fn, wf.Function)
    direct = high.compute(CTX, threshold=2100.0).ndarray
    called = fn(threshold=2100.0).compute(CTX).ndarray
    with_args = fn.compute(CTX, threshold=2100.0).ndarray
    np.testing.assert_array_equal(called, direct)
    np.testing.assert_array_equal(with_args, direct)
    with pytest.raises(ParameterError, match="threshold"):
        fn.compute(CTX)


def test_decorator_publishes_a_typed_function():
    @publish("me@example.com:offset", "1.0.0")
    def offset(img: wf.Image, n: wf.Float) -> wf.Image:
        """Add n to every band."""
        return img + n

    assert isinstance(offset, wf.Function)
    used = use("me@example.com:offset", "1.0.0")
    expected = (dem() + 5.0).compute(CTX).ndarray
    np.testing.assert_array_equal(used(img=dem(), n=5.0).compute(CTX).ndarray, expected)
    assert Workflow.get("me@example.com:offset").get_version("1.0.0").docstring == (
        "Add n to every band."
    )


def test_versions_are_immutable_and_checked():
    wf.Int(1).publish(ID, "1.0.0")
    wf.Int(1).publish(ID, "1.0.0")  # the same graph again: nothing changes
    with pytest.raises(WorkflowVersionError, match="already exists"):
        wf.Int(2).publish(ID, "1.0.0")
    with pytest.raises(WorkflowVersionError, match="semantic version"):
        wf.Int(2).publish(ID, "v2")
    with pytest.raises(ParameterError, match="must look like"):
        wf.Int(2).publish("no-colon", "1.0.0")
    wf.Int(3).publish(ID, "1.2.0-beta.1")
    wf.Int(2).publish(ID, "1.10.0", description="later")
    workflow = Workflow.get(ID)
    assert workflow.versions == ["1.0.0", "1.2.0-beta.1", "1.10.0"]
    assert workflow.description == "later"  # workflow metadata is replaced on each publish
    assert use(ID, "1.0.0").compute() == 1
    with pytest.raises(NotFoundError, match="no version '9.9.9'"):
        use(ID, "9.9.9")
    with pytest.raises(NotFoundError, match="no workflow"):
        use("me@example.com:missing", "1.0.0")


def test_registry_survives_reopening(registry_file):
    (dem() * 2).publish("me@example.com:double", "1.0.0", tags=["dem"])
    reopened = WorkflowStore(registry_file)
    record = reopened.get("me@example.com:double")
    assert record["tags"] == ["dem"]
    assert [v["version"] for v in record["versions"]] == ["1.0.0"]
    reopened.close()
    obj = use("me@example.com:double", "1.0.0")
    np.testing.assert_array_equal(obj.compute(CTX).ndarray, (dem() * 2).compute(CTX).ndarray)


def test_viz_options_are_map_defaults():
    dem().publish(
        "me@example.com:elevation",
        "1.0.0",
        viz_options=[{"scales": [1500, 3500], "colormap": "terrain"}],
    )
    obj = use("me@example.com:elevation", "1.0.0")
    assert obj.viz_options[0]["colormap"] == "terrain"
    layer = obj.tile_layer(name="elevation")
    assert layer.colormap == "terrain"
    assert layer.scales == [[1500.0, 3500.0]]
    assert obj.tile_layer(name="gray", colormap="gray").colormap == "gray"
    with pytest.raises(ParameterError, match="unknown viz_options"):
        dem().publish("me@example.com:elevation", "2.0.0", viz_options={"colour": "red"})
