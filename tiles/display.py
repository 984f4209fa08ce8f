"""How a map layer shows its imagery: one :class:`DisplayOptions` value, validated once.

The four options are ``scales`` (up to 3 ``[min, max]`` pairs), ``colormap`` (a matplotlib
name, or none), ``reduction`` (how a collection becomes one image: ``"mosaic"`` or one of
:data:`REDUCTIONS`) and ``checkerboard`` (draw one behind masked pixels). They travel in three
forms, all converted here: Python keywords, the tile URL query of the original map client
(:meth:`DisplayOptions.to_query`) and a JSON object (:meth:`DisplayOptions.to_json`).

matplotlib is imported only when a colormap name is checked, so proxies can import this
module without loading it.

>>> opts = DisplayOptions(scales=[0, 0.3], colormap="rdylgn")
>>> opts
DisplayOptions(scales=((0.0, 0.3),), colormap='RdYlGn', reduction='mosaic', checkerboard=True)
>>> opts.to_query()
[('colormap', 'RdYlGn'), ('reduction', 'mosaic'), ('checkerboard', 'true'), ('scales', '[[0.0, 0.3]]')]
>>> DisplayOptions.from_query(opts.to_query()) == opts
True
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import json
import math
import numbers
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

from tiles.errors import DisplayOptionError

#: Reductions of imagery along an axis (``img.median(axis="images")``, ``wf.reduction``).
REDUCTIONS: tuple[str, ...] = ("min", "max", "mean", "median", "sum", "std", "count")
#: How a map layer turns an ImageCollection into one Image before rendering.
LAYER_REDUCTIONS: tuple[str, ...] = ("mosaic", *REDUCTIONS)
#: The tile URL query keys that carry display options.
QUERY_KEYS: frozenset[str] = frozenset({"scales", "colormap", "reduction", "checkerboard"})

_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})

ScalePair = tuple[float | None, float | None]


# --------------------------------------------------------------------------- one option each


@functools.cache
def colormap_names() -> frozenset[str]:
    """Every colormap name matplotlib knows (exact spelling).

    Returns
    -------
    frozenset of str
        The names ``colormap`` accepts.
    """
    import matplotlib

    return frozenset(matplotlib.colormaps)


def available_colormaps() -> list[str]:
    """Names accepted as ``colormap``, sorted: every colormap registered with matplotlib."""
    return sorted(colormap_names())


def normalize_scales(scales: Any) -> list[ScalePair]:
    """Check ``scales`` and return it as a list of ``(min, max)`` float pairs.

    Accepts what users write and what the original map client sends: ``None`` or
    ``[]`` (no scaling), a bare pair ``[0, 1]``, or up to three pairs. A pair may be
    ``[None, None]`` (that band uses its declared value range) but not half-filled.

    Parameters
    ----------
    scales : list, tuple or None
        The scales as given.

    Returns
    -------
    list of (float or None, float or None)

    Raises
    ------
    DisplayOptionError
        Naming the bad pair.

    Examples
    --------
    >>> normalize_scales([0, 1])
    [(0.0, 1.0)]
    >>> normalize_scales([[0, 1], (None, None)])
    [(0.0, 1.0), (None, None)]
    """
    if scales is None:
        return []
    if isinstance(scales, str | bytes) or not isinstance(scales, Sequence):
        raise _invalid(
            "scales",
            scales,
            f"Invalid scales {scales!r}: expected a list of [min, max] pairs, like [[0, 1]]",
        )
    if len(scales) == 0:
        return []
    if len(scales) == 2 and all(_is_scale_number(v) or v is None for v in scales):
        scales = [scales]
    if len(scales) > 3:
        raise _invalid(
            "scales",
            scales,
            f"Invalid scales: {len(scales)} pairs given, but at most 3 bands can be rendered",
        )
    pairs: list[ScalePair] = []
    for i, pair in enumerate(scales):
        if isinstance(pair, str | bytes) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise _invalid(
                "scales",
                scales,
                f"Invalid scales: item {i} is {pair!r}, expected a [min, max] pair of numbers",
            )
        lo, hi = pair
        if lo is None and hi is None:
            pairs.append((None, None))
            continue
        if not (_is_scale_number(lo) and _is_scale_number(hi)):
            raise _invalid(
                "scales",
                scales,
                f"Invalid scales: item {i} is {list(pair)!r}; both min and max must be numbers "
                "(or both None for that band's declared value range)",
            )
        try:
            # The span too: [-1e308, 1e308] has finite ends but no float between them.
            finite = math.isfinite(float(hi) - float(lo))
        except OverflowError:  # an int beyond any float
            finite = False
        if not finite:
            raise _invalid(
                "scales",
                scales,
                f"Invalid scales: item {i} {list(pair)!r:.100} is not finite (nor may max - min "
                "exceed the largest float)",
            )
        pairs.append((float(lo), float(hi)))
    return pairs


def _is_scale_number(value: Any) -> bool:
    # bool is an int subclass, but True/False as a scale bound is always a mistake.
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def normalize_colormap(colormap: str | None) -> str | None:
    """Return a valid colormap name, or None for "no colormap" (``None`` or ``""``).

    A name in other letter case is corrected (``"rdylgn"`` -> ``"RdYlGn"``).

    Raises
    ------
    DisplayOptionError
        When the name is unknown, suggesting close matches.
    """
    if colormap is None or colormap == "":
        return None
    if not isinstance(colormap, str):
        raise _invalid(
            "colormap",
            colormap,
            f"Invalid colormap {colormap!r}: expected a name such as 'viridis'",
        )
    names = colormap_names()
    if colormap in names:
        return colormap
    lowered = {name.lower(): name for name in names}
    if colormap.lower() in lowered:
        return lowered[colormap.lower()]
    close = difflib.get_close_matches(colormap, sorted(names), n=3)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise _invalid("colormap", colormap, f"Unknown colormap {colormap!r}{hint}")


def normalize_reduction(reduction: str | None) -> str:
    """Return a valid layer reduction name (``None`` or ``""`` mean the default, ``"mosaic"``).

    Raises
    ------
    DisplayOptionError
        When ``reduction`` is not one of :data:`LAYER_REDUCTIONS`.
    """
    if reduction is None or reduction == "":
        return "mosaic"
    if reduction not in LAYER_REDUCTIONS:
        raise _invalid(
            "reduction",
            reduction,
            f"Invalid reduction {reduction!r}: must be one of {', '.join(LAYER_REDUCTIONS)}",
        )
    return reduction


def _check_checkerboard(checkerboard: Any) -> bool:
    if not isinstance(checkerboard, bool):
        raise _invalid(
            "checkerboard",
            checkerboard,
            f"checkerboard must be true or false, not {checkerboard!r}",
        )
    return checkerboard


# --------------------------------------------------------------------------- the value


@dataclasses.dataclass(frozen=True)
class DisplayOptions:
    """The look of a map layer: scales, colormap, reduction and checkerboard, validated.

    Constructing one checks and normalises every option, so a ``DisplayOptions`` that
    exists is valid; a bad option raises :class:`~tiles.errors.DisplayOptionError` (a
    ``ParameterError``; the server answers 400) naming the option and the value.

    Parameters
    ----------
    scales : list or None
        Up to 3 ``[min, max]`` pairs, one per band, or one bare pair for every band;
        ``None``/``[]`` (or a ``[None, None]`` pair) uses each band's declared value range,
        the same in every tile. Kept as a tuple of float pairs.
    colormap : str or None
        A matplotlib colormap name (letter case is corrected) for a 1-band image, or
        ``None``/``""`` for none. Needs at most one scale pair.
    reduction : str
        How an ImageCollection becomes one Image: one of :data:`LAYER_REDUCTIONS`
        (``None``/``""`` mean ``"mosaic"``).
    checkerboard : bool
        Whether masked pixels show a checkerboard (else they are transparent).

    Examples
    --------
    >>> DisplayOptions(scales=[[0, 1], [0, 1]], colormap="viridis")
    Traceback (most recent call last):
    ...
    tiles.errors.DisplayOptionError: colormap 'viridis' applies to a single band, but 2 scale pairs were given
    >>> DisplayOptions(reduction="median").replace(checkerboard=False).to_json()
    {'scales': None, 'colormap': None, 'reduction': 'median', 'checkerboard': False}
    """

    scales: tuple[ScalePair, ...] = ()
    colormap: str | None = None
    reduction: str = "mosaic"
    checkerboard: bool = True

    def __post_init__(self) -> None:
        pairs = tuple(normalize_scales(self.scales))
        cmap = normalize_colormap(self.colormap)
        object.__setattr__(self, "scales", pairs)
        object.__setattr__(self, "colormap", cmap)
        object.__setattr__(self, "reduction", normalize_reduction(self.reduction))
        object.__setattr__(self, "checkerboard", _check_checkerboard(self.checkerboard))
        if cmap is not None and len(pairs) > 1:
            raise _invalid(
                "colormap",
                cmap,
                f"colormap {cmap!r} applies to a single band, but {len(pairs)} scale pairs "
                "were given",
            )

    def replace(self, **changes: Any) -> DisplayOptions:
        """A copy with some options changed (and validated again).

        Parameters
        ----------
        **changes
            New values for ``scales``, ``colormap``, ``reduction`` or ``checkerboard``.

        Returns
        -------
        DisplayOptions
        """
        return dataclasses.replace(self, **changes)

    @property
    def json_scales(self) -> list[list[float | None]] | None:
        """The scales as JSON: a list of ``[min, max]`` lists, or None when there are none."""
        return [list(p) for p in self.scales] or None

    def check_band_count(self, nbands: int) -> None:
        """Check the options fit an image of ``nbands`` bands (known at render time).

        Parameters
        ----------
        nbands : int
            Bands of the image to render.

        Raises
        ------
        DisplayOptionError
            When the image cannot be rendered (not 1-3 bands), a colormap meets more than
            one band, or there are more scale pairs than bands.
        """
        if nbands < 1 or nbands > 3:
            raise _invalid(
                "bands",
                nbands,
                f"Cannot render an image with {nbands} bands: pick 1 band (grey or colormap) "
                "or 3 bands (red, green, blue) first",
            )
        if self.colormap is not None and nbands != 1:
            raise _invalid(
                "colormap",
                self.colormap,
                f"colormap {self.colormap!r} needs an image with exactly 1 band, "
                f"this one has {nbands}",
            )
        if len(self.scales) > nbands:
            raise _invalid(
                "scales",
                self.json_scales,
                f"scales has {len(self.scales)} pairs but the image has only {nbands} band(s)",
            )

    # -- the tile URL query ----------------------------------------------------------------

    def to_query(self) -> list[tuple[str, str]]:
        """The options as tile URL query pairs, ready for :func:`urllib.parse.urlencode`.

        Returns
        -------
        list of (str, str)
            ``colormap`` (empty for none), ``reduction``, ``checkerboard`` (``true`` or
            ``false``) and ``scales`` (JSON, or ``null`` for none).
        """
        scales = self.json_scales
        return [
            ("colormap", self.colormap or ""),
            ("reduction", self.reduction),
            ("checkerboard", "true" if self.checkerboard else "false"),
            ("scales", "null" if scales is None else json.dumps(scales)),
        ]

    @classmethod
    def from_query(
        cls,
        query: str | Mapping[str, Any] | Sequence[tuple[str, Any]],
        defaults: DisplayOptions | None = None,
    ) -> DisplayOptions:
        """The options a tile URL query asks for; keys it leaves out keep ``defaults``.

        Parameters
        ----------
        query : str, mapping or sequence of pairs
            A query string, pairs as :meth:`to_query` gives them, or a mapping of key to a
            value or list of values (as a web framework parses them; the last one counts;
            bytes are decoded). Keys other than :data:`QUERY_KEYS` are ignored.
        defaults : DisplayOptions, optional
            The options of keys the query does not give (a layer's registered look).

        Returns
        -------
        DisplayOptions

        Raises
        ------
        DisplayOptionError
            Naming the query parameter at fault.
        """
        if isinstance(query, str):
            query = urllib.parse.parse_qsl(query, keep_blank_values=True)
        if not isinstance(query, Mapping):
            pairs: dict[str, list[Any]] = {}
            for key, value in query:
                pairs.setdefault(key, []).append(value)
            query = pairs
        changes: dict[str, Any] = {}
        if "scales" in query:
            text = _last_text(query["scales"])
            changes["scales"] = None if text.strip() in ("", "null") else _scales_json(text)
        if "colormap" in query:
            changes["colormap"] = _last_text(query["colormap"])
        if "reduction" in query:
            changes["reduction"] = _last_text(query["reduction"])
        if "checkerboard" in query:
            text = _last_text(query["checkerboard"]).strip().lower()
            if text not in _TRUE | _FALSE:
                raise _invalid(
                    "checkerboard",
                    text,
                    f"query parameter 'checkerboard' must be true or false, not {text!r}",
                )
            changes["checkerboard"] = text in _TRUE
        return (defaults or cls()).replace(**changes)

    # -- JSON ------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The options as a JSON object: ``scales`` (list of pairs or null), ``colormap``,
        ``reduction`` and ``checkerboard``."""
        return {
            "scales": self.json_scales,
            "colormap": self.colormap,
            "reduction": self.reduction,
            "checkerboard": self.checkerboard,
        }

    @classmethod
    def from_json(
        cls, data: Mapping[str, Any], defaults: DisplayOptions | None = None
    ) -> DisplayOptions:
        """The options in a JSON object such as :meth:`to_json` gives.

        Parameters
        ----------
        data : mapping
            Holds any of ``scales``, ``colormap``, ``reduction`` and ``checkerboard``;
            other keys are ignored, so a whole layer or viz-options object can be passed.
        defaults : DisplayOptions, optional
            The options of keys ``data`` leaves out.

        Returns
        -------
        DisplayOptions

        Raises
        ------
        DisplayOptionError
            Naming the bad option and value.
        """
        if not isinstance(data, Mapping):
            raise _invalid(
                "display options", data, f"display options must be a JSON object, not {data!r}"
            )
        changes = {key: data[key] for key in QUERY_KEYS if key in data}
        return (defaults or cls()).replace(**changes)


def _invalid(option: str, value: Any, message: str) -> DisplayOptionError:
    return DisplayOptionError(message, option=option, value=value)


def _last_text(values: Any) -> str:
    value = values if isinstance(values, str | bytes) else values[-1]
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _scales_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _invalid(
            "scales", text, f"query parameter 'scales': {text[:80]!r} is not valid JSON"
        ) from exc
