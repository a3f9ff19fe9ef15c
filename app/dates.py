"""Date fields as Indonesian staff write them: 15/03/2019 (dd/mm/yyyy), typed or picked.

FAB's forms give a Date column WTForms' DateField (ISO only) with FAB's DatePickerWidget, whose
picker (bootstrap-datepicker, set up by FAB's ab.js as yyyy-mm-dd, in English) read a typed
15/03/2019 as year 15 and wrote "20-09-08" back, and emptied a pasted date it could not read.
Here the field reads dd/mm/yyyy (and ISO yyyy-mm-dd, as imports and old links send it) and
writes dd/mm/yyyy; the widget shows the format as its placeholder and is set up by
app/static/loket/datepicker.js in Indonesian, never by ab.js.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from wtforms import DateField
from wtforms.fields.core import UnboundField
from wtforms.widgets import html_params

DISPLAY_FORMAT = "%d/%m/%Y"
# Read in this order; %Y takes exactly four digits, so 15/03/19 is refused, not taken as year 19.
INPUT_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d")
PLACEHOLDER = _l("dd/mm/yyyy")
INVALID = _l("Not a valid date: write it as dd/mm/yyyy, e.g. 15/03/2019.")


def parse_date(text: str) -> dt.date | None:
    """A date as staff write it (15/03/2019, 15-03-2019, 15.03.2019) or in ISO (2019-03-15); None
    if it is none of these or no real day (31/02/2019)."""
    text = text.strip()
    for pattern in INPUT_FORMATS:
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


class IndonesianDateWidget:
    """A text input with the calendar button, the format as placeholder, and the scripts that make
    it an Indonesian picker (our origin only: the content security policy allows nothing else)."""

    def __call__(self, field: DateField, **kwargs: Any) -> Markup:  # noqa: ANN401
        kwargs.setdefault("id", field.id)
        kwargs.setdefault("name", field.name)
        kwargs["class"] = f"{kwargs.get('class', '')} form-control".strip()
        kwargs.setdefault("placeholder", str(PLACEHOLDER))
        kwargs.setdefault("autocomplete", "off")
        locale = url_for("static", filename="vendor/bootstrap-datepicker/bootstrap-datepicker.id.min.js")
        script = url_for("static", filename="loket/datepicker.js")
        return Markup(
            '<div class="input-group date loket-date">'
            '<span class="input-group-addon"><i class="fa fa-calendar cursor-hand"></i></span>'
            f"<input {html_params(type='text', value=field._value(), **kwargs)}>"  # noqa: SLF001
            "</div>"
            # defer: FAB loads the picker itself at the end of the page, after this field.
            f'<script defer src="{escape(locale)}"></script><script defer src="{escape(script)}"></script>'
        )


class IndonesianDateField(DateField):
    """Reads dd/mm/yyyy or yyyy-mm-dd, shows dd/mm/yyyy; an unreadable value is a form error in
    Indonesian that names the format (and keeps what was typed in the field)."""

    widget = IndonesianDateWidget()

    def __init__(self, label: object = None, validators: list | None = None, **kwargs: Any) -> None:  # noqa: ANN401
        kwargs.pop("format", None)
        kwargs.pop("widget", None)  # FAB's converter passes its own picker
        super().__init__(label, validators, format=DISPLAY_FORMAT, **kwargs)

    def process_formdata(self, valuelist: list) -> None:
        if not valuelist:
            return
        text = " ".join(str(v) for v in valuelist).strip()
        if not text:
            self.data = None
            return
        self.data = parse_date(text)
        if self.data is None:
            raise ValueError(str(INVALID))


def indonesian_dates(form_class: type | None) -> type | None:
    """The form class with each of FAB's generated DateFields made an IndonesianDateField (label,
    description, validators and default kept). Changes the class in place; returns it."""
    if form_class is None:
        return None
    for name in list(vars(form_class)):
        unbound = vars(form_class)[name]
        if isinstance(unbound, UnboundField) and unbound.field_class is DateField:
            replacement = UnboundField(IndonesianDateField, *unbound.args, **unbound.kwargs)
            replacement.creation_counter = unbound.creation_counter  # the form keeps its field order
            setattr(form_class, name, replacement)
    return form_class
