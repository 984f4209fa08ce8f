"""Metadata rules applied when imagery is combined, reduced or re-banded.

The rules (one place, used by every operation):

* **merge** (Image with Image, reductions over images, composites): a property key survives
  when it is present in *every* input with *equal* values; all other keys are dropped. So a
  ``"group"`` property shared by a group survives its composite while ``"date"`` does not.
* **bandinfo merge**: per band, the same rule applied to the band's info fields.
* **intersect bandinfo** (``concat``, ``from_images``): per band name, the merged info of every
  input.
* **unique names**: repeated band names get ``_1``, ``_2`` ... suffixes (``red red`` ->
  ``red red_1``), skipping names that are already taken.

Example::

    >>> merge_properties({"a": 1, "b": 2}, {"a": 1, "b": 3})
    {'a': 1}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "intersect_bandinfo",
    "merge_bandinfo",
    "merge_info",
    "merge_properties",
    "unique_names",
    "values_equal",
]


def values_equal(a: Any, b: Any) -> bool:
    """Equality that also works for arrays, nested lists and values whose ``==`` raises."""
    if a is b:
        return True
    try:
        result = a == b
        if isinstance(result, (bool, np.bool_)):
            return bool(result)
    except Exception:  # noqa: BLE001 - any comparison failure means "not equal"
        return False
    # Array-like comparisons return arrays; compare element-wise with matching shapes.
    try:
        return bool(np.array_equal(np.asarray(a, dtype=object), np.asarray(b, dtype=object)))
    except Exception:  # noqa: BLE001
        return False


def merge_info(dicts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Keys present in every mapping with equal values, in the first mapping's key order."""
    if not dicts:
        return {}
    first, rest = dicts[0], dicts[1:]
    return {
        key: value
        for key, value in first.items()
        if all(key in other and values_equal(value, other[key]) for other in rest)
    }


def merge_properties(*properties: Mapping[str, Any]) -> dict[str, Any]:
    """Properties of imagery combined from several images (see the module rules)."""
    return merge_info(properties)


def merge_bandinfo(*infos: Mapping[str, Any]) -> dict[str, Any]:
    """Info of one band made from bands with the given infos (fields equal in all are kept)."""
    return merge_info(infos)


def intersect_bandinfo(bandinfos: Sequence[Mapping[str, Mapping[str, Any]]]) -> dict[str, dict]:
    """Bandinfo of several imagery with the same band names: each band's merged info.

    Band order follows the first bandinfo.
    """
    if not bandinfos:
        return {}
    return {name: merge_info([dict(b.get(name, {})) for b in bandinfos]) for name in bandinfos[0]}


def unique_names(names: Iterable[str], taken: Iterable[str] = ()) -> list[str]:
    """Make ``names`` unique: later repeats get ``_1``, ``_2`` ... (names in ``taken`` count as used)."""
    used = set(taken)
    counts: dict[str, int] = {}
    out: list[str] = []
    for name in names:
        candidate = name
        n = counts.get(name, 0)
        while candidate in used:
            n += 1
            candidate = f"{name}_{n}"
        counts[name] = n
        used.add(candidate)
        out.append(candidate)
    return out
