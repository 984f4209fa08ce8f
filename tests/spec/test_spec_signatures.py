"""Every class, method, property and function of the API reference exists with its signature.

The reference (``workflows-geospatial-api.txt``) documents 209 names. They are extracted into
``tests/spec_examples/geospatial_api_signatures.txt``, a checked-in copy, so this module runs
wherever the tests run; when the reference is present beside the project,
``test_checked_in_signatures_match_the_reference`` re-extracts them and fails if the copy is
stale. ``python tests/test_spec_signatures.py --write`` rewrites it.

How the reference is read:

* a member's full signature is the line that opens its entry (``name(params)[source]``,
  ``classmethod name(params)``, ``property name``); the class's summary table lists the member
  a first time in a short form (``name(a[, b, …])``);
* ``compute``, ``inspect`` and ``publish`` print their signature without the first parameter
  their "Parameters" list documents (``geoctx``, ``id``), which callers give positionally
  (``img.compute(ctx)``, ``obj.publish("me:x", "1.0.0")``): it is put back, with the default
  ``None`` when its documented type says "or None" or "optional", else required;
* the reference's text stops in the middle of ``ImageCollection``: members listed only in a
  summary table are checked against that short form (names and which are optional; a
  trailing ``…`` means more parameters follow; without brackets it is the full signature);
* module-level functions are the "Functions:" table at the top.

A signature matches when parameter names, order, kinds (positional, ``*args``, keyword-only,
``**kwargs``) and defaults (value and type) are the same; ``self`` and ``cls`` are not counted.
"""

from __future__ import annotations

import ast
import inspect
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import tiles as wf

SPEC = Path(__file__).resolve().parents[3] / "shared" / "spec" / "workflows-geospatial-api.txt"
SIGNATURES = Path(__file__).resolve().parent / "spec_examples" / "geospatial_api_signatures.txt"
DOCUMENTED_NAMES = 209

# -- extraction ----------------------------------------------------------------------------

_CLASS = re.compile(r"^class (\w+)(\(.*\))?(?:\[source\])?$")
_MEMBER = re.compile(r"^(classmethod |staticmethod )?(\w+)(\(.*\))(?:\[source\])?$")
_PROPERTY = re.compile(r"^property (\w+)$")
_BULLET = re.compile(r"^\s+• (\*{0,2}\w+) \(([^)]*)\)")


@dataclass(frozen=True)
class Entry:
    kind: str  # function | class | method | classmethod | staticmethod | property
    name: str  # "concat", "Kernel", "Kernel.compute"
    signature: str = ""  # "(dims, data)"; "" for properties
    short: bool = False  # only the summary table's short form is known

    def line(self) -> str:
        return f"{self.kind} {self.name}{' ' if self.signature else ''}{self.signature}" + (
            " [summary]" if self.short else ""
        )

    @classmethod
    def from_line(cls, line: str) -> Entry:
        short = line.endswith(" [summary]")
        line = line.removesuffix(" [summary]")
        kind, rest = line.split(" ", 1)
        name, _, signature = rest.partition(" ")
        return cls(kind, name, signature, short)


def _documented_parameters(lines: list[str], start: int) -> list[tuple[str, str]]:
    """(name, type text) of the "Parameters" bullets of the entry opening at ``start``."""
    i = start + 1
    while i < len(lines) and lines[i] != "Parameters":
        if _MEMBER.match(lines[i]) or _PROPERTY.match(lines[i]):
            return []  # the next entry: this one documents no parameters
        i += 1
    params: list[tuple[str, str]] = []
    # bullets and their indented continuation lines, up to the next heading
    for line in lines[i + 1 :]:
        if line and not line[0].isspace():
            break
        if m := _BULLET.match(line):
            params.append((m[1], m[2]))
    return params


def _restore_leading(signature: str, documented: list[tuple[str, str]]) -> str:
    """Put back the documented parameters the printed signature leaves out before its first."""
    printed = ast.parse(f"def f{signature}: pass").body[0].args
    names = {a.arg for a in (*printed.args, *printed.kwonlyargs)}
    if printed.vararg is not None:
        return signature
    leading = []
    for name, type_text in documented:
        if name in names or name.startswith("*"):
            break
        optional = "or None" in type_text or "optional" in type_text
        leading.append(f"{name}=None" if optional else name)
    if not leading:
        return signature
    inner = signature[1:-1]
    return "(" + ", ".join(leading) + (", " + inner if inner else "") + ")"


def _summary_table(
    lines: list[str], start: int, methods: bool, known: dict[str, str]
) -> tuple[dict[str, str], int]:
    """A summary table and the line after it: lines alternating between a name (with its
    short signature for methods) and a one-line description, up to where something else
    begins."""
    table: dict[str, str] = {}
    i = start
    while True:
        rows = [j for j in range(i, min(i + 6, len(lines))) if lines[j]][:2]
        if len(rows) < 2:
            return table, i
        line = lines[rows[0]]
        m = _MEMBER.match(line) if methods else re.fullmatch(r"(\w+)", line)
        name = m and (m[2] if methods else m[1])
        if not name or name in known or name in table:
            return table, i
        table[name] = m[3] if methods else ""
        i = rows[1] + 1


def extract_signatures(text: str) -> list[Entry]:
    """The reference's documented names, in the order it documents them."""
    lines = text.replace("\xa0", " ").split("\n")  # the reference's no-break spaces
    entries: list[Entry] = []
    # The "Functions:" table at the top: name(params) lines, each with a description.
    i = lines.index("Functions:") + 1
    while lines[i] != "Classes:":
        if m := _MEMBER.match(lines[i]):
            entries.append(Entry("function", m[2], m[3]))
        i += 1
    cls: str | None = None
    summary: dict[str, str] = {}  # name -> short signature ("" for attributes)
    detailed: set[str] = set()

    def close_class() -> None:
        for name, short in summary.items():
            if name not in detailed:
                kind = "method" if short else "property"
                entries.append(Entry(kind, f"{cls}.{name}", short, short=True))

    skip_to = 0
    for i, line in enumerate(lines):
        if i < skip_to:
            continue
        if m := _CLASS.match(line):
            if cls is not None:
                close_class()
            cls, summary, detailed = m[1], {}, set()
            entries.append(Entry("class", cls, m[2] or "()"))
        elif cls is None:
            continue
        elif line in ("Methods:", "Attributes:"):
            table, skip_to = _summary_table(lines, i + 1, line == "Methods:", summary)
            summary.update(table)
        elif m := _PROPERTY.match(line):
            detailed.add(m[1])
            entries.append(Entry("property", f"{cls}.{m[1]}"))
        elif (m := _MEMBER.match(line)) and m[2] in summary and m[2] not in detailed:
            # the second time a name opens a line: its entry, with the full signature
            detailed.add(m[2])
            kind = (m[1] or "method").strip()
            signature = _restore_leading(m[3], _documented_parameters(lines, i))
            entries.append(Entry(kind, f"{cls}.{m[2]}", signature))
    close_class()
    return entries


def format_signatures(entries: list[Entry]) -> str:
    return "".join(e.line() + "\n" for e in entries)


def load_signatures() -> list[Entry]:
    return [Entry.from_line(line) for line in SIGNATURES.read_text().splitlines() if line]


# -- comparison ----------------------------------------------------------------------------

_NO_DEFAULT = inspect.Parameter.empty
_KINDS = inspect.Parameter


@dataclass(frozen=True)
class Param:
    name: str
    kind: inspect._ParameterKind
    default: object = _NO_DEFAULT

    def __str__(self) -> str:
        prefix = {_KINDS.VAR_POSITIONAL: "*", _KINDS.VAR_KEYWORD: "**"}.get(self.kind, "")
        default = "" if self.default is _NO_DEFAULT else f"={self.default!r}"
        return f"{prefix}{self.name}{default}"


def parse_full(signature: str) -> list[Param]:
    """Parameters of a signature printed in full: ``(a, b=1, *c, d=None, **e)``."""
    args = ast.parse(f"def f{signature}: pass").body[0].args
    params: list[Param] = []
    defaults = [ast.literal_eval(d) for d in args.defaults]
    padded = [_NO_DEFAULT] * (len(args.args) - len(defaults)) + defaults
    params += [
        Param(a.arg, _KINDS.POSITIONAL_OR_KEYWORD, d)
        for a, d in zip(args.args, padded, strict=True)
    ]
    if args.vararg:
        params.append(Param(args.vararg.arg, _KINDS.VAR_POSITIONAL))
    for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        default = _NO_DEFAULT if d is None else ast.literal_eval(d)
        params.append(Param(a.arg, _KINDS.KEYWORD_ONLY, default))
    if args.kwarg:
        params.append(Param(args.kwarg.arg, _KINDS.VAR_KEYWORD))
    return params


def parse_short(signature: str) -> tuple[list[tuple[str, bool]], bool]:
    """A summary table's ``(a, b[, c, …])``: (name, optional) pairs and whether more follow."""
    inner = signature[1:-1]
    more = "…" in inner
    required, _, optional = inner.replace("…", "").partition("[")
    pairs = [(n.strip(), False) for n in required.split(",") if n.strip()]
    pairs += [(n.strip(" ]"), True) for n in optional.split(",") if n.strip(" ]")]
    return pairs, more


def actual_parameters(entry: Entry) -> list[Param]:
    """The project's parameters for ``entry`` (without ``self``/``cls``)."""
    obj = resolve(entry)
    signature = inspect.signature(obj)
    params = [Param(p.name, p.kind, p.default) for p in signature.parameters.values()]
    if entry.kind == "method":
        assert params and params[0].name == "self", f"{entry.name} is not a plain method"
        params = params[1:]
    return params


def resolve(entry: Entry) -> object:
    if entry.kind in ("function", "class"):
        obj = getattr(wf, entry.name, None)
        assert obj is not None, f"wf.{entry.name} is missing"
        return obj
    cls_name, member = entry.name.split(".")
    cls = getattr(wf, cls_name)
    try:
        static = inspect.getattr_static(cls, member)
    except AttributeError:
        raise AssertionError(f"{entry.name} is missing") from None
    if entry.kind == "property":
        assert isinstance(static, property), f"{entry.name} is a {type(static).__name__}"
        return static
    expected = {"classmethod": classmethod, "staticmethod": staticmethod}.get(entry.kind)
    if expected is not None:
        assert isinstance(static, expected), f"{entry.name} is not a {entry.kind}"
        return getattr(cls, member)
    assert not isinstance(static, (classmethod, staticmethod, property)), (
        f"{entry.name} is a {type(static).__name__}, not a method"
    )
    return static


def _same_default(a: object, b: object) -> bool:
    return type(a) is type(b) and a == b


def check(entry: Entry) -> None:
    """Fails with the difference when the project does not match ``entry``."""
    if entry.kind == "property":
        resolve(entry)
        return
    actual = actual_parameters(entry)
    shown = f"{entry.name}({', '.join(map(str, actual))}), documented {entry.signature}"
    if entry.short and ("[" in entry.signature or "…" in entry.signature):
        pairs, more = parse_short(entry.signature)
        head = actual[: len(pairs)]
        assert [p.name for p in head] == [n for n, _ in pairs], shown
        for param, (_, optional) in zip(head, pairs, strict=True):
            assert (param.default is not _NO_DEFAULT) == optional, shown
        if not more:
            assert len(actual) == len(pairs), shown
        return
    expected = parse_full(entry.signature)
    assert [(p.name, p.kind) for p in actual] == [(p.name, p.kind) for p in expected], shown
    for a, e in zip(actual, expected, strict=True):
        assert _same_default(a.default, e.default), shown


# -- the tests -----------------------------------------------------------------------------

ENTRIES = load_signatures()


@pytest.mark.skipif(not SPEC.is_file(), reason=f"the API reference is not at {SPEC}")
def test_checked_in_signatures_match_the_reference() -> None:
    assert format_signatures(extract_signatures(SPEC.read_text())) == SIGNATURES.read_text()


def test_every_documented_name_is_listed() -> None:
    assert len(ENTRIES) == DOCUMENTED_NAMES
    assert len({e.name for e in ENTRIES}) == DOCUMENTED_NAMES


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_documented_signature(entry: Entry) -> None:
    check(entry)


def test_the_comparison_sees_differences() -> None:
    """A renamed, added, reordered, retyped or missing parameter or member fails."""
    check(Entry("method", "Image.pick_bands", "(bands, allow_missing=False)"))
    wrong = [
        Entry("method", "Image.pick_bands", "(band, allow_missing=False)"),
        Entry("method", "Image.pick_bands", "(allow_missing=False, bands=None)"),
        Entry("method", "Image.pick_bands", "(bands, allow_missing=False, extra=None)"),
        Entry("method", "Image.pick_bands", "(bands, allow_missing=0)"),
        Entry("method", "Image.pick_bands", "(bands, *, allow_missing=False)"),
        Entry("method", "Image.pick_bands", "(bands[, allow_missing, other])", short=True),
        Entry("method", "Image.pick_bands", "(bands, allow_missing)", short=True),
        Entry("method", "Image.no_such_method", "()"),
        Entry("classmethod", "Image.pick_bands", "(bands, allow_missing=False)"),
        Entry("property", "Image.pick_bands"),
        Entry("function", "no_such_function", "()"),
    ]
    for entry in wrong:
        with pytest.raises(AssertionError):
            check(entry)
    check(Entry("method", "Image.pick_bands", "(bands[, allow_missing])", short=True))
    check(Entry("method", "Image.pick_bands", "(bands[, …])", short=True))


if __name__ == "__main__":
    text = format_signatures(extract_signatures(SPEC.read_text()))
    if len(sys.argv) > 1 and sys.argv[1] == "--write":
        SIGNATURES.write_text(text)
    else:
        print(text, end="")
