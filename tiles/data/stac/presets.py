"""Well-known public STAC APIs: product ids ``"<preset>:<collection>"`` search them."""

from __future__ import annotations

import dataclasses
from typing import Any

from tiles.data.stac.fetch import SIGNERS
from tiles.errors import ParameterError


@dataclasses.dataclass(frozen=True)
class Preset:
    """A public STAC API: product ids ``"<name>:<collection>"`` search it for that collection."""

    url: str
    signer: str | None = None
    description: str = ""


#: Presets by name. ``from_id("earth-search:sentinel-2-l2a")`` defines the product
#: ``earth-search:sentinel-2-l2a`` from the collection the first time it is used (which
#: needs the catalog to be reachable).
#:
#: * ``earth-search``: Element 84 Earth Search v1 on AWS — ``sentinel-2-l2a``,
#:   ``sentinel-2-c1-l2a``, ``sentinel-2-l1c``, ``cop-dem-glo-30``, ``cop-dem-glo-90``,
#:   ``naip``, ``landsat-c2-l2`` (its assets are requester-pays ``s3://`` objects: they need
#:   AWS credentials in GDAL's environment, ``AWS_REQUEST_PAYER=requester``).
#: * ``planetary-computer``: Microsoft Planetary Computer — ``sentinel-2-l2a``,
#:   ``landsat-c2-l2``, ``cop-dem-glo-30``, ``naip``, ``io-lulc-annual-v02``...; asset URLs are
#:   signed with a short-lived token from its SAS API.
PRESETS: dict[str, Preset] = {
    "earth-search": Preset(
        "https://earth-search.aws.element84.com/v1", description="Element 84 Earth Search v1"
    ),
    "planetary-computer": Preset(
        "https://planetarycomputer.microsoft.com/api/stac/v1",
        signer="planetary-computer",
        description="Microsoft Planetary Computer",
    ),
}


def register_preset(name: str, url: str, signer: str | None = None, description: str = "") -> None:
    """Add (or replace) a preset so ids ``"<name>:<collection>"`` search the STAC API ``url``."""
    if not name or ":" in name or any(c.isspace() for c in name):
        raise ParameterError(f"invalid preset name {name!r}: no spaces or colons allowed")
    if signer is not None and signer not in SIGNERS:
        raise ParameterError(f"unknown signer {signer!r}; one of {', '.join(SIGNERS)}")
    PRESETS[name] = Preset(url, signer, description)


def expand_preset(product_id: str) -> dict[str, Any] | None:
    """``{"url", "collection", "signer"}`` for a preset id ``"<preset>:<collection>"``, else None."""
    name, sep, collection = product_id.partition(":")
    preset = PRESETS.get(name)
    if not sep or preset is None or not collection or ":" in collection:
        return None
    return {"url": preset.url, "collection": collection, "signer": preset.signer}
