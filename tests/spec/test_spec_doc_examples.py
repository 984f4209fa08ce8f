"""Every example of the API reference's raster and vector API, run against the sample catalog.

The examples (``>>>`` / ``...`` lines with their printed outputs) are extracted from
``workflows-geospatial-api.txt`` into ``tests/spec/spec_examples/geospatial_api_examples.txt``, a
checked-in verbatim copy, so this module runs wherever the tests run. When the reference is
present beside the project, ``test_checked_in_examples_match_the_reference`` re-extracts them
and fails if the copy is stale; ``python tests/spec/test_spec_doc_examples.py`` rewrites it.

Each example runs with only the imports changed (``descarteslabs.workflows`` -> ``tiles``,
``descarteslabs.scenes`` -> ``tiles.scenes``) and the names in :data:`LOCAL_NAMES` (product
and image ids, band names, dates, coordinates) mapped to the built-in sample catalog, in both
the code and the printed outputs. ``geoctx`` and ``ctx``, defined elsewhere in the reference,
are :data:`SAMPLE_CONTEXT`, a small area where the two overlapping UTM-zone scenes of every
sample acquisition meet.

A printed output is checked according to its form:

* ``<descarteslabs.workflows...Name object at 0x...>``: the proxy's type name (``Name``, with
  its type parameters, such as ``Dict[Int, List[Float]]``);
* ``ImageResult:`` / ``ImageCollectionResult of length N:`` / ``EmptyImage``: the result
  class, that it has pixels (an empty result passes only where ``EmptyImage`` is printed),
  its length, band names and properties count when listed in full, the non-spatial
  dimensions and dtype of the array (the spatial ones must match the result's geocontext);
* ``masked_array(...``: the value is a masked array;
* anything else: the Python literal (or, for vector results, the repr), compared exactly.
  ``...`` at the end of a list means "and more": the printed items are a prefix.

Outputs that print numbers of the original imagery are listed in :data:`PLANS` as
data-dependent: their printed structure (types, dict keys, band names, nesting) is asserted,
and their values are those :data:`tests.spec.expected.EXPECTATIONS` finds independently
(rasterio reads of the catalogued files, numpy); so are the pixels of the element-wise,
colormap, concat, head/tail and window examples. Examples that cannot run here are in
:data:`NOT_RUNNABLE` with the reason; the test for each of them asserts that it still exists
in the reference, so nothing is skipped silently.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import KeysView
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.data import levels_product
from tests.spec.expected import EXPECTATIONS
from tiles import scenes
from tiles.engine.results import ImageCollectionResult, ImageResult

SPEC = Path(__file__).resolve().parents[3] / "shared" / "spec" / "workflows-geospatial-api.txt"
EXAMPLES = Path(__file__).resolve().parent / "spec_examples" / "geospatial_api_examples.txt"

# -- the one mapping from the reference's world to the sample catalog --------------------

#: Import lines, replaced whole.
IMPORTS = {
    "import descarteslabs.workflows as wf": "import tiles as wf",
    "from descarteslabs.workflows import": "from tiles import",
    "from descarteslabs import scenes": "from tiles import scenes",
    "from descarteslabs.scenes import": "from tiles.scenes import",
}

#: Whole string literals (in code and printed outputs) and the sample names they become.
LOCAL_NAMES = {
    # products
    "sentinel-2:L1C": "sample:s2",
    "landsat:LC08:01:RT:TOAR": "sample:s2",
    "sentinel-1:GRD": "sample:s2",
    # images
    "sentinel-2:L1C:2019-05-04_13SDV_99_S2B_v1": "sample:s2:20230515_z13",
    "landsat:LC08:PRE:TOAR:meta_LC80270312016188_v1": "sample:s2:20230614_z13",
    "landsat:LC08:01:RT:TOAR:meta_LC08_L1TP_033035_20170516_20170516_01_RT_v1": (
        "sample:s2:20230415_z12"
    ),
    "sentinel-1:GRD:meta_2020-06-09_049A0903_S1B": "sample:s2:20230115_z13",
    # an image of a product with processing levels that has no surface files
    "id_without_surface_reflectance": levels_product.TOA_ONLY,
    # bands the sample does not have (inside literals, also within "vv vh vv"-style strings)
    "swir1": "nir",
    "vv": "red",
    "vh": "green",
    "vv_1": "red_1",
    # dates: the sample has two scenes (zones 12 and 13) on the 11th-16th of every 2023 month
    "2017-01-01": "2023-01-01",
    "2017-12-31": "2023-12-31",
    "2017-05-30": "2023-01-31",  # one acquisition date: 2 images, as printed
    "2017-06-30": "2023-02-28",  # two dates: 4 images, 2 after map_window(back=1, fwd=1)
    "2017-02-28": "2023-01-10",  # before the first acquisition: "no imagery exists"
}

#: Bare numbers: the upper-left corner of the reference's geocontext -> SAMPLE_CONTEXT's.
LOCAL_NUMBERS = {"459040.0": "412980.0", "3942400.0": "3953010.0"}

#: ``geoctx`` / ``ctx``: 128 x 128 pixels of 30 m where both sample scenes of a date overlap.
SAMPLE_CONTEXT = scenes.AOI(
    bounds=(412980.0, 3953010.0 - 3840.0, 412980.0 + 3840.0, 3953010.0),
    bounds_crs="EPSG:32613",
    crs="EPSG:32613",
    resolution=30.0,
)
#: Around the point (1, 2) of the vector examples: 2 x 2 pixels of 0.1 degree.
VECTOR_CONTEXT = scenes.AOI(bounds=(0.95, 1.95, 1.15, 2.15), crs="EPSG:4326", resolution=0.1)
#: The DLTiles the reference builds itself become tiles over the sample.
SAMPLE_DLTILE = "DLTile.from_latlon(35.7, -105.95, resolution=30, tilesize=128, pad=0)"

CONTEXTS = {"sample": SAMPLE_CONTEXT, "vector": VECTOR_CONTEXT}


# -- what is not asserted, and what cannot run ---------------------------------------------


@dataclass(frozen=True)
class Plan:
    """How one example runs: its geocontext, extra replacements, data-dependent outputs."""

    context: str = "sample"
    #: extra (reference text, local text) replacements for this example only
    subs: tuple[tuple[str, str], ...] = ()
    #: source-line fragment -> why only the structure of its printed output is asserted
    loose: dict[str, str] = field(default_factory=dict)
    #: keys a result dict may have beyond the printed ones, and why
    extra_keys: frozenset[str] = frozenset()


IMAGERY_VALUES = "pixel values of the original scene"
PROPERTIES = "metadata of the original scene"

GEOCONTEXT = Plan(
    # the GeoContext struct's fields; the reference's DLTile print predates them
    extra_keys=frozenset({"shape", "all_touched"}),
)

PLANS: dict[str, Plan] = {
    "GeoContext": GEOCONTEXT,
    "GeoContext.from_dltile_key": GEOCONTEXT,
    "GeoContext.from_scenes": GEOCONTEXT,
    "GeoContext.from_xyz_tile": GEOCONTEXT,
    "Feature.rasterize": Plan(context="vector"),
    # the reference calls a method it does not define; it prints index_to_coords' result
    "Image.coords_to_index": Plan(subs=(("rgb.index(0, 0)", "rgb.index_to_coords(0, 0)"),)),
    "Image.index_to_coords": Plan(subs=(("rgb.index(0, 0)", "rgb.index_to_coords(0, 0)"),)),
    "FeatureCollection.rasterize": Plan(context="vector"),
    "ImageCollectionGroupby": Plan(
        # the printed group keys are (2018, month): the sample's year is 2023
        subs=(("(2018, ", "(2023, "),),
    ),
    "ImageCollectionGroupby.one": Plan(
        loose={"groups.one()": "the first group's key depends on the acquisitions"},
    ),
    "Image": Plan(
        subs=(
            ("DLTile.from_latlon(35.6, -105.4, resolution=10, tilesize=512, pad=0)", SAMPLE_DLTILE),
        ),
        loose={
            "img.compute(geoctx)": "the original product's 27 bands and properties",
            "rgb.compute(geoctx)": "the original product's properties",
            'rgb.min(axis="pixels")': IMAGERY_VALUES,
        },
    ),
    "Image.clip_values": Plan(loose={"ndarray": IMAGERY_VALUES}),
    "Image.scale_values": Plan(loose={"ndarray": IMAGERY_VALUES}),
    "Image.getmask": Plan(loose={"mask.ndarray": IMAGERY_VALUES}),
    "Image.value_at": Plan(
        loose={"value_at": "printed as a (malformed) dict of the original pixel values"},
    ),
    "Image.without_bandinfo": Plan(loose={"bandinfo": "the original product's band metadata"}),
    "Image.without_properties": Plan(loose={"properties": PROPERTIES}),
    "Image.nbands": Plan(loose={"nbands": "the original product has 25 bands"}),
    # processing_level="surface" of an image that has surface files
    "Image.from_id": Plan(
        subs=(
            (
                "landsat:LC08:PRE:TOAR:meta_LC80270312016188_v1",
                levels_product.WITH_SURFACE,
            ),
        )
    ),
    "ImageCollection": Plan(
        subs=(("DLTile.from_latlon(10, 30, resolution=10, tilesize=512, pad=0)", SAMPLE_DLTILE),),
        loose={
            "col.compute(geoctx)": "the original product's 14 images of 27 bands",
            "rgb.compute(geoctx)": "the original product's 14 images",
            "rgb.max(": IMAGERY_VALUES,
        },
    ),
    "ImageCollection.clip_values": Plan(loose={"ndarray": IMAGERY_VALUES}),
    "ImageCollection.scale_values": Plan(loose={"ndarray": IMAGERY_VALUES}),
    "ImageCollection.getmask": Plan(loose={"mask.ndarray": IMAGERY_VALUES}),
}

#: Examples that cannot run against tiles, and why.
NOT_RUNNABLE = {
    "FeatureCollection.from_vector_id": (
        "creates a product with the descarteslabs.vectors client (a hosted service); "
        "FeatureCollection.from_vector_id over local vector products is tested in "
        "tests/data/test_vector_products.py"
    ),
    "Geometry.from_geo_interface": (
        "builds its input with the descarteslabs.vectors client; from_geo_interface itself "
        "is tested in tests/types/test_vector_types.py"
    ),
    "Image.visualize": (
        "displays a layer on wf.map, an ipyleaflet widget that needs a notebook front end; "
        "visualize and its parameters are tested in tests/mapwidget/test_mapwidget.py"
    ),
}


# -- extraction ----------------------------------------------------------------------------

_CLASS = re.compile(r"^class (\w+)")
_MEMBER = re.compile(r"^(?:classmethod |property )?(\w+)\(.*\)(?:\[source\])?$")
_PROPERTY = re.compile(r"^property (\w+)$")
# the line that starts the next entry, which the reference's text runs into an example
_NEXT_ENTRY = re.compile(r"^(?:(?:classmethod )?\w+\(.*\)(?:\[source\])?|property \w+|Type)$")


@dataclass
class Example:
    name: str
    line: int
    lines: list[str]

    @property
    def id(self) -> str:
        return f"{self.name}@{self.line}"


def extract_examples(text: str) -> list[Example]:
    """The reference's examples, each named by the class and member it documents."""
    lines = text.split("\n")
    examples: list[Example] = []
    cls = member = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if m := _CLASS.match(line):
            cls, member = m[1], None
        elif cls and ((m := _MEMBER.match(line)) or (m := _PROPERTY.match(line))):
            member = m[1]
        if line.startswith(">>>") and cls:
            start = i
            while i < len(lines) and lines[i].strip():
                i += 1
            block = lines[start:i]
            while block and _NEXT_ENTRY.match(block[-1]):
                block.pop()  # scanned again below: it names the next member
            name = cls if member is None else f"{cls}.{member}"
            examples.append(Example(name, start + 1, block))
            i = start + len(block)
            continue
        i += 1
    return examples


def format_examples(examples: list[Example]) -> str:
    return "".join(f"### {ex.name} @ {ex.line}\n" + "\n".join(ex.lines) + "\n\n" for ex in examples)


def parse_examples(text: str) -> list[Example]:
    examples = []
    for chunk in text.strip("\n").split("\n\n"):
        header, *lines = chunk.split("\n")
        m = re.fullmatch(r"### (\S+) @ (\d+)", header)
        assert m, header
        examples.append(Example(m[1], int(m[2]), lines))
    return examples


def load_examples() -> list[Example]:
    return parse_examples(EXAMPLES.read_text())


# -- running -------------------------------------------------------------------------------


@dataclass
class Step:
    source: str
    expected: str | None  # the printed output, None when nothing is printed
    line: str  # the first source line, to match PLANS' data fragments


def _complete(source: str) -> bool:
    try:
        ast.parse(source)
    except SyntaxError:
        return False
    return True


def split_steps(lines: list[str]) -> list[Step]:
    """Statements and their outputs. A ``...`` line after a complete statement is output."""
    steps: list[Step] = []
    source: list[str] = []
    output: list[str] = []

    def flush() -> None:
        if source:
            expected = "\n".join(output) if output else None
            steps.append(Step("\n".join(source), expected, source[0]))
        source.clear()
        output.clear()

    for line in lines:
        if line.startswith(">>>"):
            flush()
            source.append(line[4:])
        elif line.startswith("...") and source and not output and not _complete("\n".join(source)):
            source.append(line[4:])
        elif source:
            output.append(line[4:] if line.startswith("... ") else line)
    flush()
    return steps


_LITERAL = re.compile(r"""(["'])((?:(?!\1).)*)\1""")


def _local_literal(m: re.Match) -> str:
    quote, inner = m[1], m[2]
    if inner in LOCAL_NAMES:
        return quote + LOCAL_NAMES[inner] + quote
    words = inner.split(" ")
    if len(words) > 1 and all(w in LOCAL_NAMES for w in words):
        return quote + " ".join(LOCAL_NAMES[w] for w in words) + quote
    return m[0]


def localize(text: str, plan: Plan) -> str:
    for ref, local in plan.subs:
        text = text.replace(ref, local)
    for ref, local in IMPORTS.items():
        text = text.replace(ref, local)
    text = _LITERAL.sub(_local_literal, text)
    for ref, local in LOCAL_NUMBERS.items():
        text = text.replace(ref, local)
    return text


_PROXY_REPR = re.compile(
    r"<descarteslabs\.workflows\.(?:[a-z_]+\.)+(?P<name>[A-Z].*?) object at.*>"
)
_SUMMARY = re.compile(r"(?P<cls>ImageResult|ImageCollectionResult)(?: of length (?P<n>\d+))?:")
_SHAPE = re.compile(r"\* ndarray: MaskedArray<shape=\((?P<shape>[\d, ]+)\), dtype=(?P<dtype>\w+)>")
_NAMES = re.compile(r"\* (?P<what>bandinfo|properties): ?(?P<names>.*)")


def _plain(value: Any) -> Any:
    if isinstance(value, KeysView):
        return list(value)
    if hasattr(value, "__geo_interface__"):
        return value.__geo_interface__  # vector results print as their GeoJSON
    return value


_CLOSERS = {"(": ")", "[": "]", "{": "}"}


def doc_literal(text: str) -> tuple[Any, bool]:
    """The Python literal the reference printed, and whether it was cut short with ``...``.

    The reference wraps long strings over several lines (joined back here) and ends long
    mappings with a ``...`` line (dropped, and the open brackets closed).
    """
    lines = text.split("\n")
    truncated = len(lines) > 1 and lines[-1].strip() == "..."
    if truncated:
        lines.pop()
    text = "\n".join(lines)
    out: list[str] = []
    stack: list[str] = []
    quote = None
    i = 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\n":
                while i + 1 < len(text) and text[i + 1] == " ":
                    i += 1
                i += 1
                continue
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c in _CLOSERS:
            stack.append(_CLOSERS[c])
        elif c in ")]}" and stack:
            stack.pop()
        out.append(c)
        i += 1
    source = "".join(out).rstrip().rstrip(",") + "".join(reversed(stack))
    return ast.literal_eval(source), truncated


def check_literal(
    value: Any,
    expected: Any,
    exact: bool,
    where: str = "value",
    partial: bool = False,
    extra_keys: frozenset[str] = frozenset(),
) -> None:
    """``value`` equals ``expected`` (exact) or has its structure (types, keys, nesting).

    ``partial``: ``expected`` is a mapping cut short, its keys a subset of the value's.
    """
    value = _plain(value)
    if isinstance(expected, dict):
        assert isinstance(value, dict), f"{where}: {value!r} is not a dict"
        if partial and not exact:
            return  # a few of the original's metadata fields
        missing = set(expected) - set(value)
        assert not missing, f"{where}: keys {missing} missing from {list(value)}"
        if not partial:
            extra = set(value) - set(expected) - extra_keys
            assert not extra, f"{where}: unexpected keys {extra}"
        for key in expected:
            check_literal(value[key], expected[key], exact, f"{where}[{key!r}]")
    elif isinstance(expected, list | tuple):
        assert type(value) is type(expected), f"{where}: {value!r} is not a {type(expected)}"
        if expected and expected[-1] is Ellipsis:
            expected = expected[:-1]
            assert len(value) >= len(expected), f"{where}: {value!r} shorter than {expected!r}"
            value = value[: len(expected)]
        elif exact:
            assert len(value) == len(expected), f"{where}: {value!r} != {expected!r}"
        for i, (v, e) in enumerate(zip(value, expected, strict=False)):
            check_literal(v, e, exact, f"{where}[{i}]")
    elif isinstance(expected, bool):
        assert value is expected, f"{where}: {value!r} is not {expected!r}"
    elif isinstance(expected, int | float):
        assert isinstance(value, int | float | np.number), f"{where}: {value!r} is not a number"
        if exact:
            # the reference's own float digits may differ from PROJ's in the last places
            assert value == pytest.approx(expected, rel=1e-9, abs=1e-9), f"{where}: {value!r}"
    elif isinstance(expected, str) and exact:
        assert value == expected, f"{where}: {value!r} != {expected!r}"
    else:
        assert isinstance(value, type(expected)), f"{where}: {value!r} is not a {type(expected)}"


def check_summary(value: Any, expected: str, exact: bool) -> None:
    """``ImageResult:`` / ``ImageCollectionResult of length N:`` and the lines that follow."""
    header, *rest = [line.strip() for line in expected.split("\n")]
    m = _SUMMARY.fullmatch(header)
    assert m, f"unrecognised summary {header!r}"
    cls = ImageCollectionResult if m["cls"] == "ImageCollectionResult" else ImageResult
    assert type(value) is cls, f"{value!r} is not an {cls.__name__}"
    if m["n"] is not None and exact:
        assert len(value) == int(m["n"]), f"length {len(value)} != {m['n']}"
    if cls is ImageResult or (m["n"] is not None and int(m["n"]) > 0):
        # printed as a result, not as "EmptyImage": there are pixels
        assert value.ndarray is not None, f"{value!r} is empty where the reference has data"
    complete_bands = None
    for line in rest:
        if mm := _NAMES.fullmatch(line):
            names = mm["names"]
            if mm["what"] == "bandinfo" and not names.endswith("..."):
                complete_bands = [ast.literal_eval(n.strip()) for n in names.split(",")]
                assert list(value.bandinfo) == complete_bands
            elif (
                mm["what"] == "properties" and exact and (n := re.fullmatch(r"(\d+) items", names))
            ):
                assert len(value.properties) == int(n[1])
    for line in rest:
        if mm := _SHAPE.fullmatch(line):
            shape = tuple(int(s) for s in mm["shape"].split(","))
            array = value.ndarray
            assert isinstance(array, np.ma.MaskedArray), f"{array!r} is not a masked array"
            assert array.ndim == len(shape)
            assert array.shape[-2:] == tuple(value.geocontext["arr_shape"])
            if complete_bands is not None:
                assert array.shape[-3] == len(complete_bands)
            if exact:
                assert array.shape[:-3] == shape[:-3]
                assert str(array.dtype) == mm["dtype"]


def check_output(
    value: Any, expected: str, exact: bool, extra_keys: frozenset[str] = frozenset()
) -> None:
    text = expected.strip()
    if m := _PROXY_REPR.fullmatch(text):
        assert type(value).__name__ == m["name"]
    elif text == "EmptyImage":
        assert isinstance(value, ImageResult) and value.ndarray is None, repr(value)
    elif _SUMMARY.match(text):
        check_summary(value, text, exact)
    elif text.startswith("masked_array("):
        assert isinstance(value, np.ma.MaskedArray), repr(value)
    elif text.startswith(
        (
            "GeometryResult(",
            "GeometryCollectionResult(",
            "FeatureResult(",
            "FeatureCollectionResult(",
        )
    ):
        assert " ".join(repr(value).split()) == " ".join(text.split())
    else:
        try:
            literal, truncated = doc_literal(text)
        except (ValueError, SyntaxError):
            assert not exact, f"cannot check the printed output {text!r}: list it in PLANS"
            return  # a truncated or malformed print of data-dependent values
        check_literal(value, literal, exact, partial=truncated, extra_keys=extra_keys)


def run_example(example: Example) -> int:
    """Run an example's statements in order, checking each printed output. Returns checks."""
    plan = PLANS.get(example.name, Plan())
    context = CONTEXTS[plan.context]
    namespace: dict[str, Any] = {"geoctx": context, "ctx": context}
    checked = 0
    for step in split_steps(example.lines):
        source = localize(step.source, plan)
        tree = ast.parse(source)
        if not tree.body:
            continue  # a comment
        if step.expected is None or not isinstance(tree.body[-1], ast.Expr):
            assert step.expected is None, (
                f"{source!r} prints {step.expected!r} but is no expression"
            )
            exec(compile(tree, example.id, "exec"), namespace)
            continue
        *head, last = tree.body
        exec(compile(ast.Module(head, []), example.id, "exec"), namespace)
        value = eval(compile(ast.Expression(last.value), example.id, "eval"), namespace)
        exact = not any(fragment in step.line for fragment in plan.loose)
        try:
            check_output(value, localize(step.expected, plan), exact, plan.extra_keys)
            for fragment, expect in EXPECTATIONS.get(example.name, {}).items():
                if fragment in step.line:
                    expect(namespace, value, namespace["geoctx"])  # examples may redefine it
        except AssertionError as e:
            raise AssertionError(f"{example.id}: {source}\n{e}") from e
        checked += 1
    return checked


# -- the tests -----------------------------------------------------------------------------

ALL_EXAMPLES = load_examples()


@pytest.fixture(scope="module", autouse=True)
def product_with_levels(tmp_path_factory) -> None:
    """The images of the processing_level examples (see tests/data/levels_product.py)."""
    levels_product.create_levels_product(tmp_path_factory.mktemp("levels"))


RUNNABLE = [ex for ex in ALL_EXAMPLES if ex.name not in NOT_RUNNABLE]


@pytest.mark.skipif(not SPEC.is_file(), reason=f"the API reference is not at {SPEC}")
def test_checked_in_examples_match_the_reference() -> None:
    assert format_examples(extract_examples(SPEC.read_text())) == EXAMPLES.read_text()


def test_every_plan_and_exclusion_names_an_example() -> None:
    names = {ex.name for ex in ALL_EXAMPLES}
    assert set(PLANS) <= names, set(PLANS) - names
    assert set(NOT_RUNNABLE) <= names, set(NOT_RUNNABLE) - names


def test_every_expectation_meets_a_printed_output() -> None:
    """Each expectation names a step that prints something, and every output whose numbers
    the reference takes from its own imagery (PLANS' loose steps) has an expectation."""
    printed = {
        ex.name: [s.line for s in split_steps(ex.lines) if s.expected is not None]
        for ex in ALL_EXAMPLES
    }
    for name, checks in EXPECTATIONS.items():
        for fragment in checks:
            assert any(fragment in line for line in printed.get(name, [])), (name, fragment)
    for name, plan in PLANS.items():
        for line in printed.get(name, []):
            if any(fragment in line for fragment in plan.loose):
                assert any(f in line for f in EXPECTATIONS.get(name, {})), (name, line)


@pytest.mark.parametrize("example", RUNNABLE, ids=lambda ex: ex.id)
def test_reference_example(example: Example) -> None:
    run_example(example)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--write":
        EXAMPLES.parent.mkdir(exist_ok=True)
        EXAMPLES.write_text(format_examples(extract_examples(SPEC.read_text())))
    else:
        print(format_examples(extract_examples(SPEC.read_text())), end="")
