"""Which packages the distribution holds; everything else is in pyproject.toml.

The web viewer's source is ``static/`` at the repository root; it is installed as the
data-only package ``tiles.server.viewer`` so that an installed server finds it through
``importlib.resources``. pyproject.toml cannot map one folder to a package while also
discovering the rest, hence this file.
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["tiles", "tiles.*", "mapwidget", "mapwidget.*"])
    + ["tiles.server.viewer"],
    package_dir={"tiles.server.viewer": "static"},
)
