"""WorkflowsLayer: an ipyleaflet TileLayer whose URL follows its imagery, options and parameters.

Everything that changes what the tiles show is a trait: ``imagery``, ``scales``,
``colormap``, ``checkerboard``, ``reduction``, ``visible`` and the values in
``parameters``. Any change rebuilds ``url`` once (several changes inside
:meth:`WorkflowsLayer.hold_url_updates` make one update), and Leaflet reloads the tiles.
A hidden layer, or one with a parameter still missing a value, has the URL ``""`` so
the browser requests nothing; the reason for a blank layer goes to ``log_messages``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import urllib.parse
import uuid
from collections.abc import Iterator
from typing import Any

import ipyleaflet
import traitlets

from mapwidget import routing
from mapwidget.parameters import ParameterSet
from tiles import display
from tiles.display import DisplayOptions
from tiles.errors import ParameterError, ProxyTypeError, WorkflowsError
from tiles.types import Datetime, Function, Image, ImageCollection

#: Leaflet never asks for tiles below this zoom: a whole continent per tile is too costly.
MIN_ZOOM = 5
#: TileJSON bounds of a layer whose data could be anywhere.
WORLD = (-180.0, -85.0511287798066, 180.0, 85.0511287798066)


def _now() -> str:
    # Same format as the server's log records, so the two compare as strings.
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


def _url_value(proxy_type: type, value: Any) -> Any:
    """A parameter value as the tile URL should carry it."""
    # Dates travel as a Datetime graft so that date arithmetic in the graph works on them.
    if issubclass(proxy_type, Datetime) and isinstance(value, dt.date | str):
        return Datetime._promote(value)
    return value


def _check_imagery(imagery: Any) -> None:
    if not isinstance(imagery, Image | ImageCollection):
        raise ProxyTypeError(
            f"a map layer shows an Image or ImageCollection, not {type(imagery).__name__}"
        )


class WorkflowsLayer(ipyleaflet.TileLayer):
    """A map layer computed by the tile server from an Image or ImageCollection.

    Its ``url`` follows its traits: one URL for each state, rebuilt once per change (or
    once per :meth:`hold_url_updates` block), and the front end never keeps tiles of an
    older URL.

    Parameters
    ----------
    imagery : Image or ImageCollection, optional
        What the layer shows.
    scales : list, optional
        Up to 3 ``[min, max]`` pairs; by default each band's declared value range.
    colormap : str, optional
        A matplotlib colormap name, for a single band.
    checkerboard : bool
        Whether masked pixels inside the data show a checkerboard.
    reduction : str
        How a collection becomes one image.
    log_level : int
        The lowest level of server log records kept in ``log_messages``.
    parameter_overrides : dict, optional
        Values (or ipywidgets) for the imagery's parameters.
    **kwargs
        ipyleaflet ``TileLayer`` traits, such as ``name`` and ``opacity``.

    Examples
    --------
    >>> lyr = WorkflowsLayer(imagery=img, name="NDVI", scales=[[0, 1]],     # doctest: +SKIP
    ...                      colormap="viridis", parameter_overrides={"threshold": 0.4})
    >>> lyr.parameters.threshold = 0.3                                       # doctest: +SKIP
    """

    url = traitlets.Unicode("").tag(sync=True)
    attribution = traitlets.Unicode("tiles", allow_none=True).tag(sync=True, o=True)
    min_zoom = traitlets.Int(MIN_ZOOM).tag(sync=True, o=True)

    imagery = traitlets.Any(None, allow_none=True)
    #: Scale pairs ``[[min, max], ...]`` (at most 3), or None for the bands' declared ranges.
    scales = traitlets.Any(None, allow_none=True)
    colormap = traitlets.Unicode(None, allow_none=True)
    checkerboard = traitlets.Bool(True)
    reduction = traitlets.Unicode("mosaic")
    log_level = traitlets.Int(logging.DEBUG)
    session_id = traitlets.Unicode()
    parameters = traitlets.Instance(ParameterSet)
    #: The server's record of this layer (a ``tiles.server.TileLayer``): id and URL template.
    registration = traitlets.Any(None, allow_none=True)
    #: "LEVEL - message" lines about this layer since its URL last changed, without repeats.
    log_messages = traitlets.List(traitlets.Unicode())
    #: "" idle, "running", "done", or "error: ..." for the last autoscale.
    autoscale_state = traitlets.Unicode("")

    def __init__(
        self,
        imagery: Any = None,
        scales: Any = None,
        colormap: str | None = None,
        checkerboard: bool = True,
        reduction: str = "mosaic",
        log_level: int = logging.DEBUG,
        parameter_overrides: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """A layer showing ``imagery`` as given (see the class for the parameters)."""
        # Held from the start: construction ends with exactly one URL update.
        self._hold_depth = 1
        self._pending = True
        self._logs_since = _now()
        self._styled: tuple[tuple, Any] | None = None
        kwargs.setdefault("session_id", uuid.uuid4().hex)
        kwargs.setdefault("parameters", ParameterSet())
        super().__init__(**kwargs)
        self.parameters.observe(self._on_parameter, traitlets.All)
        self.on_load(self._on_tiles_loaded)
        routing.state.observe(self._on_route, ["public_url", "page_url"])
        try:
            self.set_options(scales, colormap, checkerboard, reduction, log_level)
            if imagery is not None:
                self.set_imagery(imagery, **(parameter_overrides or {}))
        finally:
            self._hold_depth = 0
        self._update_url()

    # -- changing what the layer shows -------------------------------------------------------

    def set_options(
        self,
        scales: Any = None,
        colormap: str | None = None,
        checkerboard: bool = True,
        reduction: str = "mosaic",
        log_level: int = logging.DEBUG,
    ) -> None:
        """Set the display options together (checked first, so a bad one changes nothing).

        Parameters
        ----------
        scales, colormap, checkerboard, reduction, log_level
            As the class takes them.

        Raises
        ------
        tiles.errors.DisplayOptionError
            Naming the bad option; nothing changes then.
        """
        look = DisplayOptions(scales, colormap, reduction, checkerboard)
        with self.hold_url_updates():
            self.scales = look.json_scales
            self.colormap = look.colormap
            self.checkerboard = look.checkerboard
            self.reduction = look.reduction
            self.log_level = int(log_level)

    def set_imagery(self, imagery: Any, **parameter_overrides: Any) -> None:
        """Show ``imagery``; values (or ipywidgets) for its parameters come as keywords.

        Parameters without a keyword keep their current value, or follow their widget
        for ``wf.widgets`` parameters; any still without a value is reported in
        ``log_messages`` and the layer stays blank until it is given one.

        Parameters
        ----------
        imagery : Image or ImageCollection
            What to show; it is registered on the tile server with the layer's look.
        **parameter_overrides
            Values or ipywidgets for its parameters, by name.

        Raises
        ------
        ProxyTypeError
            When ``imagery`` is not an Image or ImageCollection.
        ParameterError
            For a keyword that is not one of its parameters.
        """
        from mapwidget.widgets import WidgetParameter

        _check_imagery(imagery)
        params = {p._name: p for p in imagery.params}
        unknown = sorted(set(parameter_overrides) - set(params))
        if unknown:
            takes = ", ".join(repr(n) for n in params) or "no parameters"
            raise ParameterError(
                f"unexpected parameter(s) {', '.join(map(repr, unknown))}; "
                f"this {type(imagery).__name__} takes {takes}"
            )
        with self.hold_url_updates():
            fresh = ParameterSet.for_params(tuple(params.values()))
            if fresh.types != self.parameters.types:
                self._replace_parameters(fresh)
            pset = self.parameters
            for name, param in params.items():
                if name in parameter_overrides:
                    pset.update(**{name: parameter_overrides[name]})
                elif isinstance(param, WidgetParameter):
                    if pset.source(name) is not param.widget:
                        pset.link(name, param.widget)
            if imagery is not self.imagery:
                self.registration = self._register(imagery)
                self.imagery = imagery

    def _replace_parameters(self, fresh: ParameterSet) -> None:
        old = self.parameters
        old.unobserve(self._on_parameter, traitlets.All)
        old.unlink_all()
        # Values carry over where the name and type are unchanged (a re-run cell).
        for name, kind in fresh.types.items():
            if old.types.get(name) is kind and getattr(old, name) is not None:
                setattr(fresh, name, getattr(old, name))
        fresh.observe(self._on_parameter, traitlets.All)
        self.parameters = fresh

    def _register(self, imagery: Any) -> Any:
        """Register ``imagery`` with this layer's current look and parameter values.

        They become the layer's defaults on the server, so its bare ``url_template`` and
        TileJSON (in the viewer or any web map) show what this map shows.
        """
        from tiles.server import register_layer
        from tiles.server.client import encode_parameter

        names = {p._name for p in imagery.params}
        values = {}
        for name, value in self._parameter_values().items():
            if name not in names or value is None:
                continue
            try:
                encode_parameter(name, value)
            except ParameterError:
                continue  # no default: the tile URL carries the value, or reports it
            values[name] = value
        return register_layer(
            imagery,
            name=self.name or None,
            scales=self.scales,
            colormap=self.colormap,
            checkerboard=self.checkerboard,
            reduction=self.reduction,
            log_level=self.log_level,
            **values,
        )

    def _look(self) -> str:
        """Everything a registration stores besides the imagery, as comparable text."""
        from tiles.server.client import encode_parameter

        values = {}
        for name, value in self._parameter_values().items():
            try:
                values[name] = encode_parameter(name, value)
            except ParameterError:
                values[name] = None
        look = [self.name, self.scales, self.colormap, self.checkerboard, self.reduction, values]
        return json.dumps(look, sort_keys=True, default=str)

    @traitlets.validate("scales")
    def _valid_scales(self, proposal: dict) -> Any:
        try:
            return DisplayOptions(scales=proposal["value"]).json_scales
        except ParameterError as exc:
            raise traitlets.TraitError(str(exc)) from None

    @traitlets.validate("colormap")
    def _valid_colormap(self, proposal: dict) -> Any:
        try:
            return display.normalize_colormap(proposal["value"])
        except ParameterError as exc:
            raise traitlets.TraitError(str(exc)) from None

    @traitlets.validate("reduction")
    def _valid_reduction(self, proposal: dict) -> str:
        try:
            return display.normalize_reduction(proposal["value"])
        except ParameterError as exc:
            raise traitlets.TraitError(str(exc)) from None

    # -- the URL ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def hold_url_updates(self) -> Iterator[None]:
        """Within this block, changes are collected and the URL is rebuilt once at the end.

        Yields
        ------
        None

        Examples
        --------
        >>> with layer.hold_url_updates():                    # doctest: +SKIP
        ...     layer.colormap = "magma"
        ...     layer.scales = [[0, 0.5]]
        """
        self._hold_depth += 1
        try:
            yield
        finally:
            self._hold_depth -= 1
            if self._hold_depth == 0 and self._pending:
                self._update_url()

    @traitlets.observe(
        "visible",
        "checkerboard",
        "colormap",
        "reduction",
        "scales",
        "registration",
        "session_id",
        "parameters",
    )
    def _on_option(self, change: dict) -> None:
        self._request_update()

    def _on_parameter(self, change: dict) -> None:
        self._request_update()

    def _on_route(self, change: dict) -> None:
        self._request_update()

    def _request_update(self) -> None:
        if self._hold_depth:
            self._pending = True
        else:
            self._update_url()

    def _update_url(self) -> None:
        self._pending = False
        self.clear_logs()
        url = self.make_url()
        if url != self.url:
            self.url = url
            if url:
                self._drop_old_tiles()

    def _drop_old_tiles(self) -> None:
        """Make the front end replace every tile it has, so none of an older URL stays.

        ipyleaflet answers a new URL by re-fetching only the tiles already shown, each
        swapped in when its image arrives: tiles still loading keep the old URL, and a
        slow answer for an older URL can land after a newer one. A redraw removes every
        tile (cancelling its request) and requests the visible ones from the new URL.
        """
        if self._holding_sync:
            # Inside a front-end update the URL would be sent after the redraw; send it first.
            self.send_state("url")
        self.redraw()

    def _parameter_values(self) -> dict[str, Any]:
        types = self.parameters.types
        return {n: _url_value(types[n], v) for n, v in self.parameters.to_dict().items()}

    def _server_url(self) -> str | None:
        """The tile URL on the server's own address, or None (reason logged) if none."""
        if self.registration is None:
            return None
        missing = self.parameters.missing()
        if missing:
            for name in missing:
                kind = self.parameters.types[name].__name__
                self.log(
                    "ERROR",
                    f"missing a value for parameter {name!r} ({kind}): give it to visualize("
                    f"..., {name}=...) or set lyr.parameters.{name}",
                )
            return None
        try:
            return self.registration.url(
                session_id=self.session_id,
                colormap=self.colormap or "",
                scales=self.scales or [],
                reduction=self.reduction,
                checkerboard=self.checkerboard,
                **self._parameter_values(),
            )
        except (ParameterError, WorkflowsError, TypeError, ValueError) as exc:
            self.log("ERROR", str(exc))
            return None

    def make_url(self) -> str:
        """The tile URL for the current state, as the browser should request it.

        Returns
        -------
        str
            ``{z}/{x}/{y}`` template with the whole state in its query, on the route the
            browser reaches the server by; ``""`` when hidden or a parameter lacks a value.
        """
        url = self._server_url()
        if url is None or not self.visible:
            # Leaflet loads hidden layers too; an empty URL is the way to stop it.
            return ""
        return routing.resolve(self.registration.base_url).public(url)

    def styled_registration(self) -> Any:
        """The server's record of this layer as it looks now, for use outside this map.

        Returns
        -------
        tiles.server.TileLayer or None
            A registration whose stored defaults are the layer's current scales, colormap,
            checkerboard, reduction and parameter values (registered again when they
            changed since), or None before the layer has imagery.
        """
        if self.imagery is None:
            return None
        key = (getattr(self.registration, "id", None), self._look())
        if self._styled is None or self._styled[0] != key:
            self._styled = (key, self._register(self.imagery))
        return self._styled[1]

    @property
    def url_template(self) -> str | None:
        """The server's ``{z}/{x}/{y}`` template for this layer as it looks now (no query).

        Any web map can use it: the look and parameter values are the layer's defaults on
        the server.
        """
        registration = self.styled_registration()
        return None if registration is None else registration.url_template

    @property
    def tilejson_url(self) -> str | None:
        """URL of the TileJSON of this layer as it looks now (None before it has imagery)."""
        registration = self.styled_registration()
        return None if registration is None else registration.tilejson_url

    def footprint_bounds(self) -> tuple[float, float, float, float] | None:
        """Lon/lat ``(west, south, east, north)`` of the layer's data, as its TileJSON says.

        Returns
        -------
        tuple of float or None
            None when the server does not know where the data is (computed or remote
            sources give the whole world) or cannot be asked.
        """
        if self.registration is None:
            return None
        try:
            tilejson = self.registration.tilejson()
        except (OSError, WorkflowsError):
            return None
        west, south, east, north = tilejson.get("bounds", WORLD)
        if east - west >= 359.0:
            return None
        return west, south, east, north

    def value_url(self, x: float, y: float) -> str | None:
        """URL (on the kernel side) of the band values under a point, for this layer's state.

        Parameters
        ----------
        x, y : float
            The point in EPSG:3857 metres.

        Returns
        -------
        str or None
            None when the layer has no URL (see ``log_messages``).
        """
        url = self._server_url()
        if url is None:
            return None
        query = urllib.parse.urlsplit(url).query
        reg = self.registration
        return f"{reg.base_url}/layers/{reg.id}/value?x={x!r}&y={y!r}&{query}"

    # -- imagery with parameter values applied ---------------------------------------------

    @property
    def value(self) -> Any:
        """The imagery with the current parameter values bound (no parameters left), or None."""
        if self.imagery is None or self.parameters.missing():
            return None
        if not self.imagery.params:
            return self.imagery
        function = Function.from_object(self.imagery)
        return function(**self._parameter_values())

    @property
    def image_value(self) -> Any:
        """:attr:`value` as an Image: collections are reduced with the layer's reduction."""
        value = self.value
        if isinstance(value, ImageCollection):
            if self.reduction == "mosaic":
                return value.mosaic()
            return value.reduction(self.reduction, axis="images")
        return value

    # -- logs -----------------------------------------------------------------------------------

    def log(self, level: str, message: str) -> None:
        """Add a line to ``log_messages`` unless the same line is there already.

        Parameters
        ----------
        level : str
            ``"ERROR"``, ``"WARNING"``, ...
        message : str
            What to say.
        """
        line = f"{level} - {message}"
        if line not in self.log_messages:
            self.log_messages = [*self.log_messages, line]

    def clear_logs(self) -> None:
        """Forget this layer's messages; only newer server records are shown from now on."""
        self._logs_since = _now()
        if self.log_messages:
            self.log_messages = []

    def errors(self) -> list[dict]:
        """The server's records for this layer's session since its URL last changed.

        Returns
        -------
        list of dict
            Log records (``time``, ``level``, ``message``, ``tile``) at or above
            ``log_level``.
        """
        if self.registration is None:
            return []
        records = self.registration.errors(session_id=self.session_id, level=self.log_level)
        return [r for r in records if r["time"] >= self._logs_since]

    def refresh_logs(self) -> None:
        """Read the server's new records for this layer into ``log_messages``."""
        try:
            records = self.errors()
        except (OSError, WorkflowsError) as exc:
            self.log("WARNING", f"could not read this layer's log from the tile server: {exc}")
            return
        for record in records:
            self.log(record["level"], record["message"])

    def _on_tiles_loaded(self, **event: Any) -> None:
        # Leaflet reports "load" once every tile in view has arrived or failed: the
        # moment new server records can exist, so no polling is needed.
        self.refresh_logs()

    def close(self) -> None:
        """Stop following the route and close the widget."""
        routing.state.unobserve(self._on_route, ["public_url", "page_url"])
        self.parameters.unlink_all()
        super().close()
