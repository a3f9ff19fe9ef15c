"""WTForms glue: domain validators that normalise the field, and choice fields for codes."""
from __future__ import annotations

from typing import Callable

from flask import current_app, url_for
from flask_appbuilder.fieldwidgets import BS3TextAreaFieldWidget, Select2Widget
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import exists, select
from wtforms import SelectField, TextAreaField
from wtforms.validators import ValidationError

from app.changes import frozen_refusal, needs_reason, reason_refusal
from app.extensions import db
from app.models import Dossier
from app.regions import desa_of, in_kecamatan, is_desa, kecamatan_choices
from app.validators import InvalidValue


class Normalized:
    """Runs a domain check; on success writes the normalised value back into the field."""

    def __init__(self, normalize: Callable[[str], str]) -> None:
        self.normalize = normalize
        self.field_flags: dict[str, bool] = {}

    def __call__(self, form, field) -> None:  # noqa: ANN001
        if field.data is None or str(field.data).strip() == "":
            return
        try:
            field.data = self.normalize(str(field.data))
        except InvalidValue as exc:
            raise ValidationError(str(exc.message)) from exc


def _with_blank(choices: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [("", "—"), *choices]


def kecamatan_field(label: object) -> SelectField:
    return SelectField(
        label,
        choices=lambda: _with_blank(kecamatan_choices(current_app.config["OFFICE_REGENCY_CODE"])),
        widget=Select2Widget(),
        validate_choice=True,
    )


KECAMATAN_FIELD = "kecamatan_code"  # the field a desa select follows, on the same form


def _chosen_kecamatan(form) -> str | None:  # noqa: ANN001
    return form[KECAMATAN_FIELD].data if form is not None and KECAMATAN_FIELD in form else None


class DesaWidget(Select2Widget):
    """A select2 of the chosen kecamatan's desa; app/static/loket/regions.js lists another
    kecamatan's (from RegionView.desa) when the officer changes the kecamatan."""

    def __init__(self) -> None:
        super().__init__(extra_classes="loket-desa")

    def __call__(self, field: SelectField, **kwargs: object) -> Markup:
        form = field._form
        if form is not None and KECAMATAN_FIELD in form:
            kwargs["data-kecamatan-select"] = form[KECAMATAN_FIELD].id
        kwargs["data-options-url"] = url_for("RegionView.desa")
        kwargs["data-msg-error"] = str(_l("The list of desa/kelurahan did not load; choose the kecamatan again."))
        script = url_for("static", filename="loket/regions.js")
        return Markup(f'{super().__call__(field, **kwargs)}<script src="{escape(script)}"></script>')


def desa_field(label: object) -> SelectField:
    """Any desa of the regency is a valid value (desa_in_kecamatan says plainly when it does not
    fit the kecamatan), but only the chosen kecamatan's are listed."""
    return SelectField(
        label,
        choices=lambda form, _field: _with_blank(
            desa_of(current_app.config["OFFICE_REGENCY_CODE"], _chosen_kecamatan(form))),
        widget=DesaWidget(),
        validate_choice=False,
        validators=[desa_in_kecamatan],
    )


def desa_in_kecamatan(form, field) -> None:  # noqa: ANN001
    """The desa must be one of the regency's and lie in the chosen kecamatan."""
    if not field.data:
        return
    if not is_desa(current_app.config["OFFICE_REGENCY_CODE"], field.data):
        raise ValidationError(str(_l("Desa/kelurahan %(code)s is not in this regency.", code=field.data)))
    kecamatan = _chosen_kecamatan(form)
    if not kecamatan:
        raise ValidationError(str(_l("A desa/kelurahan needs its kecamatan: choose the kecamatan first.")))
    if not in_kecamatan(field.data, kecamatan):
        raise ValidationError(str(_l("This desa/kelurahan is not in the chosen kecamatan.")))


def coded_select(label: object, choices: dict[str, object]) -> SelectField:
    return SelectField(
        label,
        choices=lambda: [(code, str(text)) for code, text in choices.items()],
        widget=Select2Widget(),
        validate_choice=True,
    )


class Registered:
    """The value must identify a record that is already registered (e.g. a company by NIB)."""

    def __init__(self, model: type, column: str, message: object) -> None:
        self.model, self.column, self.message = model, column, message

    def __call__(self, form, field) -> None:  # noqa: ANN001
        if field.data and not db.session.scalar(select(exists().where(getattr(self.model, self.column) == field.data))):
            raise ValidationError(str(self.message))


def _stored(value: object) -> object:
    """A form value as the database keeps it: an empty text box is no value."""
    return None if isinstance(value, str) and not value.strip() else value


def _edited(form, model: type) -> object | None:  # noqa: ANN001
    """The record an edit form edits (FAB puts its id on the form as `_id`), or None on add."""
    pk = getattr(form, "_id", None)
    return db.session.get(model, int(pk)) if pk not in (None, "") else None


class ReasonForChange:
    """Why a received record is changed (app.changes.needs_reason): required, then kept with the
    change in the audit trail."""

    def __init__(self, model: type) -> None:
        self.model = model

    def __call__(self, form, field) -> None:  # noqa: ANN001
        record = _edited(form, self.model)
        if record is not None and needs_reason(db.session, record):
            refusal = reason_refusal(field.data)
            if refusal:
                raise ValidationError(refusal)


class UnchangedAfterIssue:
    """A dossier field its permit printed keeps its value once the permit is numbered."""

    def __call__(self, form, field) -> None:  # noqa: ANN001
        dossier = _edited(form, Dossier)
        if dossier is None or _stored(getattr(dossier, field.name)) == _stored(field.data):
            return
        refusal = frozen_refusal(db.session, dossier.id, [field.name])
        if refusal:
            raise ValidationError(refusal)


def reason_field(model: type) -> TextAreaField:
    return TextAreaField(
        _l("Reason for the change"),
        description=_l("Required once the dossier is received: kept with the change in the audit trail."),
        validators=[ReasonForChange(model)],
        widget=BS3TextAreaFieldWidget(),
    )
