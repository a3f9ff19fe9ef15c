"""Local days off (cuti daerah, a Bupati's circular): Admin keeps the list, every staff role reads it."""
from __future__ import annotations

from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l

from app.models import LocalHoliday
from app.office import forget_office_calendar
from app.security import roles
from app.views.base import LoketModelView


class LocalHolidayView(LoketModelView):
    """The SLA clock skips these days like national holidays (app.office.office_calendar)."""

    datamodel = SQLAInterface(LocalHoliday)
    class_permission_name = roles.LOCAL_HOLIDAY
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_delete"]
    list_title = _l("Local holidays")
    show_title = _l("Local holiday")
    add_title = _l("Add local holiday")
    edit_title = _l("Edit local holiday")
    label_columns = {
        "date": _l("Date"),
        "name": _l("Occasion"),
        "note": _l("Note"),
    }
    description_columns = {
        "date": _l(
            "The office is closed on this day: it is not a working day for service times. "
            "National holidays and cuti bersama are already known and need no entry."
        ),
        "note": _l("For example the number of the regent's circular letter."),
    }
    list_columns = ["date", "name", "note"]
    show_columns = add_columns = edit_columns = ["date", "name", "note"]
    search_columns = ["date", "name"]
    order_columns = ["date", "name"]
    base_order = ("date", "desc")
    date_columns = ("date",)

    def post_add(self, item: LocalHoliday) -> None:
        forget_office_calendar()

    def post_update(self, item: LocalHoliday) -> None:
        forget_office_calendar()

    def post_delete(self, item: LocalHoliday) -> None:
        forget_office_calendar()
