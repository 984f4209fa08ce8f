"""Sphinx configuration of the API reference, built from the package's docstrings.

Build it with ``python -m sphinx -W --keep-going -b html docs docs/_build/html`` (CI does,
with warnings as errors).
"""

import sys
from pathlib import Path

# The checkout's own packages, whether or not they are installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tiles  # noqa: E402

project = "tiles"
copyright = "the tiles authors; Apache License 2.0"
release = version = tiles.__version__

extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.viewcode"]
napoleon_google_docstring = False
napoleon_numpy_docstring = True
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"show-inheritance": True}
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_theme_options = {"description": "A self-hosted Workflows geospatial API"}
