"""ParameterSet: a layer's parameter values as traits (``lyr.parameters.threshold = 0.3``).

Each parameter the layer's imagery depends on is one trait, typed from the parameter's
proxy type. A trait may be linked to an ipywidget's ``value`` (a widget given to
``visualize``, or the widget of a ``wf.widgets`` parameter), so moving the widget
changes the value and the layer re-renders.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ipywidgets
import traitlets

from tiles.types import Bool, Datetime, Float, Int, Str


def _trait_for(proxy_type: type) -> traitlets.TraitType:
    # Typed traits cast what users assign (1 -> 1.0 for a Float), so URLs stay stable.
    if issubclass(proxy_type, Bool):
        return traitlets.Bool(None, allow_none=True)
    if issubclass(proxy_type, Float):
        return traitlets.CFloat(None, allow_none=True)
    if issubclass(proxy_type, Int):
        return traitlets.CInt(None, allow_none=True)
    if issubclass(proxy_type, Str):
        return traitlets.Unicode(None, allow_none=True)
    return traitlets.Any(None, allow_none=True)


def _proxy_base(proxy_type: type) -> type:
    """The plain proxy type of a parameter (a widget parameter's class minus the widget)."""
    from mapwidget.widgets import WidgetParameter

    for klass in proxy_type.__mro__:
        if not issubclass(klass, WidgetParameter):
            return klass
    return proxy_type


class ParameterSet(traitlets.HasTraits):
    """Values for a layer's parameters; assigning one re-renders the layer.

    Create it with :meth:`for_params`; each instance gets its own traits.

    Parameters
    ----------
    types : dict, optional
        Parameter name -> proxy type (traits are added by :meth:`for_params`).

    Examples
    --------
    >>> layer.parameters.threshold = 0.3                  # doctest: +SKIP
    >>> layer.parameters.link("threshold", some_slider)   # doctest: +SKIP
    """

    def __init__(self, types: dict[str, type] | None = None) -> None:
        """A set of the parameters ``types`` names, without traits yet (see the class)."""
        super().__init__()
        self._types: dict[str, type] = dict(types or {})
        self._links: dict[str, Any] = {}
        self._sources: dict[str, Any] = {}
        self._panel: ipywidgets.Widget | None = None

    @classmethod
    def for_params(cls, params: tuple) -> ParameterSet:
        """A ParameterSet with one unset trait per parameter in ``params``.

        Parameters
        ----------
        params : tuple
            The parameters of an imagery object (``obj.params``).

        Returns
        -------
        ParameterSet
            Traits typed from each parameter's proxy type (Float values are floats ...).
        """
        types = {p._name: _proxy_base(type(p)) for p in params}
        pset = cls(types)
        # add_traits gives this instance its own subclass, so sets never share traits.
        pset.add_traits(**{name: _trait_for(t) for name, t in types.items()})
        return pset

    @property
    def types(self) -> dict[str, type]:
        """Parameter name -> proxy type."""
        return dict(self._types)

    def names(self) -> list[str]:
        """Parameter names in declaration order."""
        return list(self._types)

    def to_dict(self) -> dict[str, Any]:
        """Current values by name.

        Returns
        -------
        dict
            Name -> value (None where no value is set yet).
        """
        return {name: getattr(self, name) for name in self._types}

    def missing(self) -> list[str]:
        """Names of parameters without a value.

        Returns
        -------
        list of str
        """
        return [name for name, value in self.to_dict().items() if value is None]

    def source(self, name: str) -> Any:
        """The widget parameter ``name`` is linked to.

        Parameters
        ----------
        name : str
            A parameter name.

        Returns
        -------
        ipywidgets.Widget or None
        """
        return self._sources.get(name)

    def link(self, name: str, widget: Any, attr: str = "value") -> None:
        """Link parameter ``name`` to ``widget.<attr>`` (both ways unless it is read-only).

        A previous link of ``name`` is removed first.

        Parameters
        ----------
        name : str
            A parameter name.
        widget : ipywidgets.Widget
            The widget to follow.
        attr : str
            The widget's trait holding the value.

        Raises
        ------
        ValueError
            When the layer has no parameter ``name``.
        """
        self._check(name)
        self.unlink(name)
        trait = widget.traits().get(attr)
        if trait is not None and trait.read_only:
            self._links[name] = traitlets.dlink((widget, attr), (self, name))
        else:
            self._links[name] = traitlets.link((widget, attr), (self, name))
        self._sources[name] = widget
        self._panel = None

    def unlink(self, name: str) -> None:
        """Remove the widget link of ``name``, if any (the current value stays).

        Parameters
        ----------
        name : str
            A parameter name.
        """
        link = self._links.pop(name, None)
        if link is not None:
            link.unlink()
            self._panel = None
        self._sources.pop(name, None)

    def unlink_all(self) -> None:
        """Remove every widget link."""
        for name in list(self._links):
            self.unlink(name)

    def update(self, **values: Any) -> None:
        """Set values by name; ipywidgets are linked instead, anything else is assigned.

        Parameters
        ----------
        **values
            Parameter name -> value or ipywidget.

        Raises
        ------
        ValueError
            For a name the layer does not take.
        """
        for name, value in values.items():
            self._check(name)
            if isinstance(value, ipywidgets.Widget):
                self.link(name, value)
            else:
                self.unlink(name)
                setattr(self, name, value)

    def _check(self, name: str) -> None:
        if name not in self._types:
            takes = ", ".join(repr(n) for n in self._types) or "no parameters"
            raise ValueError(f"unexpected parameter {name!r}; this layer takes {takes}")

    def __setattr__(self, name: str, value: Any) -> None:
        """Set a parameter's value; a name the layer does not take is an AttributeError."""
        # Catch typos such as ``lyr.parameters.treshold = 1`` instead of silently
        # creating a plain attribute the layer never reads.
        if not name.startswith("_") and name not in self.trait_names():
            raise AttributeError(
                f"layer has no parameter {name!r}; it takes "
                f"{', '.join(repr(n) for n in self._types) or 'no parameters'}"
            )
        super().__setattr__(name, value)

    @property
    def widget(self) -> ipywidgets.Widget:
        """Controls for every parameter: linked widgets as they are, plain values as inputs."""
        if self._panel is None:
            rows = [self._row(name) for name in self._types]
            self._panel = ipywidgets.VBox(rows)
        return self._panel

    def _row(self, name: str) -> ipywidgets.Widget:
        source = self._sources.get(name)
        if source is not None:
            control = source
        else:
            control = _input_for(self._types[name], getattr(self, name))
            if control is not None:
                self._bind(control, name)
        if control is None:
            control = ipywidgets.Label(f"{type(getattr(self, name)).__name__} (set from code)")
        if getattr(control, "description", ""):
            return control  # a widget that names itself needs no second label
        label = ipywidgets.Label(name, layout=ipywidgets.Layout(min_width="6em"))
        return ipywidgets.HBox([label, control])

    def _bind(self, control: ipywidgets.ValueWidget, name: str) -> None:
        # Not traitlets.link: an unset (None) value must stay unset rather than take
        # the input box's 0, and a box cannot hold None.
        def to_value(change: dict) -> None:
            setattr(self, name, change["new"])

        def to_control(change: dict) -> None:
            if change["new"] is not None:
                control.value = change["new"]

        control.observe(to_value, "value")
        self.observe(to_control, name)

    def __repr__(self) -> str:
        """``ParameterSet(name=value, ...)``."""
        shown = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items())
        return f"ParameterSet({shown})"


def _input_for(proxy_type: type, value: Any) -> ipywidgets.ValueWidget | None:
    """An input box suited to a parameter's type, or None for values only code can set."""
    layout = ipywidgets.Layout(width="12em")
    if issubclass(proxy_type, Bool):
        return ipywidgets.Checkbox(value=bool(value), indent=False)
    if issubclass(proxy_type, Float):
        return ipywidgets.FloatText(value=value or 0.0, continuous_update=False, layout=layout)
    if issubclass(proxy_type, Int):
        return ipywidgets.IntText(value=value or 0, continuous_update=False, layout=layout)
    if issubclass(proxy_type, Str):
        return ipywidgets.Text(value=value or "", continuous_update=False, layout=layout)
    if issubclass(proxy_type, Datetime) and isinstance(value, dt.date | type(None)):
        return ipywidgets.DatePicker(value=value, layout=layout)
    return None
