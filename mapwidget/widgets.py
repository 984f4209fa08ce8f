"""``wf.widgets``: parameters that are also widgets.

Each factory returns an object that is both a proxy value (an ``Int``, ``Float``,
``Str``, ``Bool``, ``Datetime``, ``Image`` or ``ImageCollection`` whose graft is
``{"returns": name}`` and whose ``params`` is itself) and a wrapper around an ipywidget
(``.widget``, ``.value``, ``.observe``; displaying it shows the widget). Use it in
expressions like any value; every layer built from it shows the widget in its
parameter panel and re-renders when it moves.

>>> import tiles as wf                                          # doctest: +SKIP
>>> t = wf.widgets.slider("threshold", 0, 1, default=0.4)       # doctest: +SKIP
>>> (ndvi > t).visualize("green")                               # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ipywidgets
import traitlets

from tiles import graft as g
from tiles.types import Bool, Datetime, Float, Image, ImageCollection, Int, Str

__all__ = [
    "WidgetParameter",
    "checkbox",
    "date",
    "image",
    "imagecollection",
    "input",
    "select",
    "slider",
]


class WidgetParameter:
    """Mixin making a proxy type a named parameter backed by an ipywidget.

    Parameters
    ----------
    name : str
        The parameter's name (a Python identifier), as values are given for it.
    widget : ipywidgets.Widget
        The control; its ``value`` is the parameter's value.
    label : str, optional
        The control's label (default ``name``).
    """

    widget: ipywidgets.Widget

    def __init__(self, name: str, widget: ipywidgets.Widget, label: str = "") -> None:
        """Make ``widget`` the parameter ``name`` (see the class)."""
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"parameter name must be a Python identifier, got {name!r}")
        self.graft = g.keyref_graft(name)
        self.params = (self,)
        self._name = name
        self._label = label or name
        self.widget = widget
        if hasattr(widget, "description") and not widget.description:
            widget.description = self._label

    @classmethod
    def _proxy_type(cls) -> type:
        """The plain proxy type this widget class is (``Float`` for ``FloatSlider``)."""
        for klass in cls.__mro__:
            if not issubclass(klass, WidgetParameter) and hasattr(klass, "_from_graft"):
                return klass
        raise TypeError(f"{cls.__name__} has no proxy type")

    @classmethod
    def _from_graft(cls, graft: dict, params: tuple = ()) -> Any:
        # Expressions built from a widget (``-slider``) are plain proxies, not new widgets.
        return cls._proxy_type()._from_graft(graft, params)

    @classmethod
    def _promote(cls, obj: Any) -> Any:
        # Values given for a widget parameter (compute(..., threshold=0.3)) are promoted
        # like values for a plain parameter of the same type.
        return cls._proxy_type()._promote(obj)

    @property
    def value(self) -> Any:
        """The widget's current value."""
        return self.widget.value

    @value.setter
    def value(self, new: Any) -> None:
        self.widget.value = new

    def observe(self, handler: Any, names: Any = traitlets.All, type: str = "change") -> None:
        """Observe the underlying widget (like ``ipywidgets.Widget.observe``).

        Parameters
        ----------
        handler : callable
            Called with each change.
        names : str or list, optional
            Traits to observe (default all).
        type : str
            The kind of notification.
        """
        self.widget.observe(handler, names=names, type=type)

    def unobserve(self, handler: Any, names: Any = traitlets.All, type: str = "change") -> None:
        """Stop observing the underlying widget.

        Parameters
        ----------
        handler, names, type
            As given to :meth:`observe`.
        """
        self.widget.unobserve(handler, names=names, type=type)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        """``<Kind parameter 'name' = value>``."""
        return f"<{type(self).__name__} parameter {self._name!r} = {self.value!r}>"


class Checkbox(WidgetParameter, Bool):
    """A Bool parameter shown as a checkbox."""


class Date(WidgetParameter, Datetime):
    """A Datetime parameter shown as a date picker (dates are UTC)."""


class StringInput(WidgetParameter, Str):
    """A Str parameter shown as a text box."""


class IntInput(WidgetParameter, Int):
    """An Int parameter shown as a number box."""


class FloatInput(WidgetParameter, Float):
    """A Float parameter shown as a number box."""


class StringSelect(WidgetParameter, Str):
    """A Str parameter chosen from options."""


class IntSelect(WidgetParameter, Int):
    """An Int parameter chosen from options."""


class FloatSelect(WidgetParameter, Float):
    """A Float parameter chosen from options."""


class IntSlider(WidgetParameter, Int):
    """An Int parameter shown as a slider."""


class FloatSlider(WidgetParameter, Float):
    """A Float parameter shown as a slider."""


class ImagePicker(WidgetParameter, Image):
    """An Image parameter: one of the map's layers, chosen from a dropdown."""


class ImageCollectionPicker(WidgetParameter, ImageCollection):
    """An ImageCollection parameter: one of the map's collection layers."""


def checkbox(name: str, default: bool = False, label: str = "") -> Checkbox:
    """A Bool parameter shown as a checkbox.

    Parameters
    ----------
    name : str
        The parameter's name (a Python identifier), as values are given for it.
    default : bool
        Whether it starts checked.
    label : str, optional
        The control's label (default ``name``).

    Returns
    -------
    Checkbox
    """
    return Checkbox(name, ipywidgets.Checkbox(value=bool(default)), label)


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc)
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return _as_date(dt.datetime.fromisoformat(value.replace("Z", "+00:00")))
    raise TypeError(f"date default must be a date, datetime or ISO string, not {value!r}")


def date(name: str, default: Any, label: str = "") -> Date:
    """A Datetime parameter shown as a date picker.

    The parameter's value is midnight UTC of the chosen day.

    Parameters
    ----------
    name : str
        The parameter's name (a Python identifier), as values are given for it.
    default : date, datetime or str
        The first day shown (an ISO string; naive values are taken as UTC).
    label : str, optional
        The control's label (default ``name``).

    Returns
    -------
    Date

    Examples
    --------
    >>> start = wf.widgets.date("start", "2023-04-01")                      # doctest: +SKIP
    >>> wf.ImageCollection.from_id("sample:s2", start, "2023-10-01")        # doctest: +SKIP
    """
    return Date(name, ipywidgets.DatePicker(value=_as_date(default)), label)


def input(name: str, default: Any, label: str = "") -> StringInput | IntInput | FloatInput:  # noqa: A001
    """A text or number box; its type (Str, Int or Float) follows ``default``.

    Parameters
    ----------
    name : str
        The parameter's name (a Python identifier), as values are given for it.
    default : str, int or float
        The first value; its type is the parameter's.
    label : str, optional
        The control's label (default ``name``).

    Returns
    -------
    StringInput, IntInput or FloatInput

    Raises
    ------
    TypeError
        For a default of another type (use :func:`checkbox` for booleans).
    """
    if isinstance(default, bool):
        raise TypeError("use wf.widgets.checkbox for booleans")
    if isinstance(default, str):
        return StringInput(name, ipywidgets.Text(value=default, continuous_update=False), label)
    if isinstance(default, int):
        return IntInput(name, ipywidgets.IntText(value=default, continuous_update=False), label)
    if isinstance(default, float):
        return FloatInput(name, ipywidgets.FloatText(value=default, continuous_update=False), label)
    raise TypeError(f"input default must be a str, int or float, not {default!r}")


_SELECT_WIDGETS = {
    "dropdown": ipywidgets.Dropdown,
    "radio": ipywidgets.RadioButtons,
    "slider": ipywidgets.SelectionSlider,
}


def select(
    name: str,
    options: list,
    format: str = "dropdown",
    default: Any = None,
    label: str = "",  # noqa: A002
) -> StringSelect | IntSelect | FloatSelect:
    """One of ``options``, as a dropdown, radio buttons or a slider.

    Parameters
    ----------
    name : str
        The parameter's name (a Python identifier), as values are given for it.
    options : list
        All str, all int or all numbers (then floats); the parameter's type follows.
    format : str
        "dropdown", "radio" or "slider".
    default : optional
        One of the options (default the first).
    label : str, optional
        The control's label (default ``name``).

    Returns
    -------
    StringSelect, IntSelect or FloatSelect

    Raises
    ------
    ValueError
        For no options, an unknown format or a default that is not an option.
    TypeError
        For options of mixed types.
    """
    options = list(options)
    if not options:
        raise ValueError("select needs at least one option")
    if format not in _SELECT_WIDGETS:
        raise ValueError(f"format must be one of {', '.join(_SELECT_WIDGETS)}, not {format!r}")
    if all(isinstance(o, str) for o in options):
        cls: type = StringSelect
    elif all(isinstance(o, int) and not isinstance(o, bool) for o in options):
        cls = IntSelect
    elif all(isinstance(o, int | float) and not isinstance(o, bool) for o in options):
        cls = FloatSelect
        options = [float(o) for o in options]
    else:
        raise TypeError("select options must be all strings, all ints or all numbers")
    default = options[0] if default is None else default
    if default not in options:
        raise ValueError(f"default {default!r} is not one of the options")
    return cls(name, _SELECT_WIDGETS[format](options=options, value=default), label)


def _slider_step(lo: float, hi: float, step: float | None, ints: bool) -> tuple[float, bool]:
    """The step and whether an int slider can be used (a tenth of the range by default)."""
    if step is None:
        step = (hi - lo) / 10
    if not ints:
        return step, False
    if step < 0.5:
        return step, False
    if step < 1:
        return 1, True
    if float(step).is_integer():
        return int(step), True
    rounded = round(step)
    if rounded and (hi - lo) % rounded == 0:
        return rounded, True
    return step, False


def slider(
    name: str, min: float, max: float, step: float | None = None, default: Any = None,  # noqa: A002
    label: str = "",
) -> IntSlider | FloatSlider:  # fmt: skip
    """A number slider from ``min`` to ``max``; Int when the bounds and step allow, else Float.

    Parameters
    ----------
    name : str
        The parameter's name (a Python identifier), as values are given for it.
    min, max : float
        The ends of the slider (``max > min``).
    step : float, optional
        The step (default a tenth of the range).
    default : float, optional
        The first value (default ``min``).
    label : str, optional
        The control's label (default ``name``).

    Returns
    -------
    IntSlider or FloatSlider

    Examples
    --------
    >>> t = wf.widgets.slider("threshold", 0.0, 0.8, step=0.05, default=0.3)  # doctest: +SKIP
    >>> (ndvi > t).visualize("green")                                         # doctest: +SKIP
    """
    if not max > min:
        raise ValueError(f"slider max ({max}) must be greater than min ({min})")
    ints = all(isinstance(v, int) and not isinstance(v, bool) for v in (min, max))
    ints = ints and (default is None or isinstance(default, int))
    step, use_int = _slider_step(min, max, step, ints)
    default = min if default is None else default
    if use_int:
        widget = ipywidgets.IntSlider(value=default, min=min, max=max, step=step)
        return IntSlider(name, widget, label)
    widget = ipywidgets.FloatSlider(
        value=default, min=min, max=max, step=step, readout_format=".3g"
    )
    return FloatSlider(name, widget, label)


def image(name: str, default_layer: Any = None, label: str = "", map: Any = None) -> ImagePicker:  # noqa: A002
    """An Image parameter whose value is a layer of a map, chosen from a dropdown.

    Parameters
    ----------
    name : str
        The parameter's name (a Python identifier), as values are given for it.
    default_layer : WorkflowsLayer, optional
        The layer chosen at first.
    label : str, optional
        The control's label (default ``name``).
    map : MapApp or Map, optional
        The map whose layers are offered (default ``wf.map``).

    Returns
    -------
    ImagePicker
    """
    from mapwidget.pickers import LayerPickerWidget

    widget = LayerPickerWidget(map=map, default_layer=default_layer, collections=False)
    picker = ImagePicker(name, widget, label)
    widget.exclude_dependents_of = name
    return picker


def imagecollection(
    name: str,
    default_layer: Any = None,
    label: str = "",
    map: Any = None,  # noqa: A002
) -> ImageCollectionPicker:
    """An ImageCollection parameter whose value is an ImageCollection layer of a map.

    Parameters
    ----------
    name : str
        The parameter's name (a Python identifier), as values are given for it.
    default_layer : WorkflowsLayer, optional
        The layer chosen at first.
    label : str, optional
        The control's label (default ``name``).
    map : MapApp or Map, optional
        The map whose collection layers are offered (default ``wf.map``).

    Returns
    -------
    ImageCollectionPicker
    """
    from mapwidget.pickers import LayerPickerWidget

    widget = LayerPickerWidget(map=map, default_layer=default_layer, collections=True)
    picker = ImageCollectionPicker(name, widget, label)
    widget.exclude_dependents_of = name
    return picker
