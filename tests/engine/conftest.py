"""Engine inputs as fixtures: one NAIP date as an ImageValue and the series as a CollectionValue."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine.support import naip_collection, naip_image
from tiles.engine import CollectionValue, ImageValue


@pytest.fixture
def img(shared_data: Path) -> ImageValue:
    """The first NAIP date, cropped, with nodata and bright-NIR pixels masked."""
    return naip_image(shared_data)


@pytest.fixture
def ic(shared_data: Path) -> CollectionValue:
    """All NAIP dates, cropped and masked like ``img``, as a loaded collection."""
    return naip_collection(shared_data)
