"""The example notebooks run top to bottom in a fresh kernel and show what they say."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import tiles
from tests.mapwidget.support import kernel_env

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def run_notebook(path: Path, tmp_path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        assert cell.get("outputs", []) == [], f"{path.name}: outputs must be stripped"
    env = kernel_env(tmp_path)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    old = dict(os.environ)
    os.environ.update(env)  # the kernel inherits the client's environment
    try:
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
    return nb


def outputs(nb: nbformat.NotebookNode) -> tuple[str, list[dict]]:
    text, data = [], []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stdout":
                text.append(out["text"])
            if "data" in out:
                data.append(out["data"])
    return "".join(text), data


def test_all_notebooks_are_tested():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(
        ["ndvi_explorer.ipynb", "composite_date_range.ipynb", "vector_mask.ipynb"]
    )


def test_ndvi_explorer(tmp_path):
    nb = run_notebook(NOTEBOOKS / "ndvi_explorer.ipynb", tmp_path)
    text, data = outputs(nb)
    assert any(WIDGET_VIEW in d for d in data), "the map is displayed"
    assert "0.5\nTrue\n" in text
    shares = [
        float(line.split(": ")[1].split("%")[0])
        for line in text.splitlines()
        if "NDVI above" in line
    ]
    assert len(shares) == 3 and shares[0] > shares[1] > shares[2]
    assert "colormap=viridis" in text and "checkerboard=false" in text


def test_composite_date_range(tmp_path):
    nb = run_notebook(NOTEBOOKS / "composite_date_range.ipynb", tmp_path)
    text, data = outputs(nb)
    assert any(WIDGET_VIEW in d for d in data)
    lines = text.splitlines()
    assert lines[0] == "True" and lines[1] == "max"
    assert lines[2].startswith("(3, ")


@pytest.mark.skipif(not hasattr(tiles, "Geometry"), reason="vector types are not available")
def test_vector_mask(tmp_path):
    nb = run_notebook(NOTEBOOKS / "vector_mask.ipynb", tmp_path)
    text, data = outputs(nb)
    assert any(WIDGET_VIEW in d for d in data)
    kept = [int(line.split(": ")[1].split()[0]) for line in text.splitlines() if "pixels" in line]
    assert len(kept) == 3 and 0 < kept[0] < kept[1] < kept[2]
    assert text.strip().endswith("True")
