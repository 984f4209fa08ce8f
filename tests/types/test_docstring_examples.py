"""The examples in the docstrings of tiles.types run and print what they show.

Every docstring of the package's modules, their public classes, functions, methods and
properties (also those made by factories, such as ``Image.log`` or ``Image.mean``) is run
with ``wf`` (this package) and ``ctx`` (a GeoContext over the sample catalog) defined.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil

import pytest

import tiles as wf
import tiles.types
from tiles import scenes

CTX = scenes.AOI(
    bounds=(412980.0, 3949170.0, 416820.0, 3953010.0),
    bounds_crs="EPSG:32613",
    crs="EPSG:32613",
    resolution=60.0,
)


def _docstrings() -> dict[str, tuple[str, dict]]:
    """Qualified name -> (docstring, the globals of its module) of everything public."""
    found: dict[str, tuple[str, dict]] = {}
    seen: set[int] = set()

    def add(name: str, obj: object) -> None:
        doc = inspect.getdoc(obj) if not isinstance(obj, str) else None
        if doc and ">>>" in doc and id(obj) not in seen:
            seen.add(id(obj))
            home = inspect.getmodule(obj) or module
            found[name] = (doc, vars(home))

    for info in pkgutil.iter_modules(tiles.types.__path__):
        module = importlib.import_module(f"tiles.types.{info.name}")
        add(module.__name__, module)
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            add(f"{module.__name__}.{name}", obj)
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if not attr.startswith("_") or attr == "__init__":
                        add(f"{module.__name__}.{name}.{attr}", getattr(member, "__func__", member))
                for attr in dir(obj):  # inherited and factory-made members
                    if not attr.startswith("_"):
                        member = inspect.getattr_static(obj, attr)
                        add(f"{obj.__name__}.{attr}", getattr(member, "__func__", member))
    return found


DOCSTRINGS = _docstrings()


def test_the_package_has_examples() -> None:
    assert len(DOCSTRINGS) > 80
    for name in ("Image.from_id", "Image.mean", "Image.log", "ImageCollection.map"):
        assert any(key.endswith(name) for key in DOCSTRINGS), name


@pytest.mark.parametrize("name", sorted(DOCSTRINGS))
def test_docstring_example(name: str) -> None:
    parser = doctest.DocTestParser()
    doc, module_globals = DOCSTRINGS[name]
    test = parser.get_doctest(doc, {**module_globals, "wf": wf, "ctx": CTX}, name, None, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    output: list[str] = []
    runner.run(test, out=output.append)
    assert runner.failures == 0, "".join(output)
