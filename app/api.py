"""REST API (FAB ModelRestApi) over the same records as the grids, with the same permissions
and the same rules.

Each API shares its grid's resource name and maps its methods onto the grid's permission
names, so a role's grant covers screen and API alike. OpenAPI: /api/v1/_openapi.

A change of a received dossier, or of a company or applicant named on one, needs a reason: the
`X-Change-Reason` header (percent-encoded UTF-8 where it is not plain ASCII). A refused change
(no reason, a field its issued permit printed, a record still in use, a desa/kelurahan outside
its kecamatan) answers 422 with the reason in Indonesian, and nothing is written; one the
database itself refuses answers 409 (a unique value taken, a reference) or 422, in Indonesian,
without the SQL or its values.

A malformed request (a `q` that is not rison, a page below 0 or past a million, an unknown sort
column or filter, a row id that is no number) answers 400 or 404; a page holds at most
FAB_API_MAX_PAGE_SIZE rows.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Callable
from urllib.parse import parse_qs, unquote

import prison
from flask import Blueprint, Response, current_app, request
from flask_appbuilder import ModelRestApi
from flask_appbuilder.exceptions import (
    DatabaseException,
    FABException,
    InvalidColumnFilterFABException,
    InvalidOrderByColumnFABException,
)
from flask_appbuilder.models.filters import Filters
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from werkzeug.exceptions import BadRequest

from app.audit import set_reason
from app.audit.listener import pending_refusal
from app.changes import ChangeRefused, in_use_refusal
from app.errors import ERROR_TEXTS
from app.models import (
    Applicant,
    Company,
    Document,
    Dossier,
    PermitType,
    RegisterEntry,
    RequirementType,
    Stage,
    StageEvent,
)
from app.office import office_calendar
from app.regions import region_refusal
from app.security import roles
from app.sop.intake import open_dossier
from app.validators import (
    InvalidValue,
    normalize_email,
    normalize_nib,
    normalize_nik,
    normalize_npwp,
    normalize_phone,
)
from app.views.base import (
    MAX_DATABASE_INTEGER,
    MAX_PAGE,
    QUERY_ERRORS,
    unusable_value,
    well_formed_pk,
    whole_number,
)

REASON_HEADER = "X-Change-Reason"
METHOD_PERMISSIONS = {
    "get_list": "list",
    "get": "show",
    "info": "list",
    "post": "add",
    "put": "edit",
    "delete": "delete",
}


def checked(normalize: Callable[[str], str]) -> Callable[[str], None]:
    def validate(value: str) -> None:
        if value in (None, ""):
            return
        try:
            normalize(value)
        except InvalidValue as exc:
            raise ValidationError(str(exc.message)) from exc

    return validate


class DatabaseRefused(ChangeRefused):
    """A write the database refused; said in Indonesian, without its SQL or values."""

    def __init__(self, conflict: bool) -> None:
        self.status = 409 if conflict else 422
        super().__init__(str(_l(
            "The database refused this change: it conflicts with other data (a value that must be unique is "
            "already used, or the record is still in use). Nothing was saved."
        ) if conflict else _l("The database refused this change. Nothing was saved.")))


@contextmanager
def _refused_by_database() -> Iterator[None]:
    try:
        yield
    except (SQLAlchemyError, DatabaseException) as exc:
        cause = exc.__cause__ if isinstance(exc, DatabaseException) else exc
        raise DatabaseRefused(conflict=isinstance(cause, IntegrityError)) from exc


class ApiInterface(SQLAInterface):
    """SQLAInterface for the APIs: a failed write raises DatabaseRefused, where FAB's would send
    the database's error text, with the SQL and its parameters, to the client; no filter on a
    JSON column."""

    def get_search_columns_list(self) -> list[str]:
        # FAB would offer text filters on JSON columns, which PostgreSQL cannot compare as text.
        return [column for column in super().get_search_columns_list() if not self.is_json(column)]

    def add(self, item: Any, commit: bool = True) -> None:  # noqa: ANN401
        with _refused_by_database():
            super().add(item, commit)

    def edit(self, item: Any, commit: bool = True) -> None:  # noqa: ANN401
        with _refused_by_database():
            super().edit(item, commit)

    def delete(self, item: Any, commit: bool = True) -> None:  # noqa: ANN401
        with _refused_by_database():
            super().delete(item, commit)


class QueryRefused(BadRequest):
    """A malformed query argument; FAB's @safe answers a BadRequest with a 400 and str(exc)."""

    def __str__(self) -> str:
        return str(self.description)


# Deeper rison or JSON in `q` is no query FAB understands, and could exhaust the parser's stack.
MAX_QUERY_DEPTH = 32


def _parsed_query(value: str) -> object:
    """`q` as FAB's @rison reads it (rison, else JSON); raises ValueError on anything else (prison
    itself may raise TypeError or RecursionError, which FAB does not catch)."""
    try:
        return prison.loads(value)
    except Exception:  # noqa: BLE001, S110 - any failure: try JSON, as FAB does
        pass
    if current_app.config.get("FAB_API_ALLOW_JSON_QS", True):
        try:
            return json.loads(parse_qs(f"q={value}")["q"][0])
        except Exception:  # noqa: BLE001, S110
            pass
    raise ValueError(value)


def _depth(value: object) -> int:
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, depth = todo.pop()
        deepest = max(deepest, depth)
        if depth <= MAX_QUERY_DEPTH and isinstance(item, (dict, list)):
            todo.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


# FAB's text filters add "%" to the value; its "in" filters iterate it.
_TEXT_OPERATIONS = frozenset({"sw", "nsw", "ew", "new", "ct", "nct"})
_LIST_OPERATIONS = frozenset({"in", "not_in", "rel_m_m"})


_YES, _NO = frozenset({True, 1, "y", "true", "1"}), frozenset({False, 0, "n", "false", "0"})


def _filter_value_fitted(datamodel: SQLAInterface, rest_filter: dict[str, Any]) -> dict[str, Any]:
    """A `q` filter with its value in the type its column and operation take: FAB's schema lets any
    JSON value reach any column, and PostgreSQL refuses to compare text with a number or a
    boolean (a 500). Text for text columns and operations, a list for "in", yes/no for a boolean,
    a whole number for a number or a relation; anything else is refused."""
    value, operation, column = rest_filter.get("value"), rest_filter.get("opr"), rest_filter.get("col")
    if "value" not in rest_filter or not isinstance(column, str):
        return rest_filter
    if operation in _LIST_OPERATIONS:
        values = value if isinstance(value, list) else [value]
        return {**rest_filter, "value": [_fitted(datamodel, column, operation, v) for v in values]}
    if isinstance(value, list):
        raise FABException(str(_l("A filter takes a list of values only with the operations in and not_in.")))
    return {**rest_filter, "value": _fitted(datamodel, column, operation, value)}


def _fitted(datamodel: SQLAInterface, column: str, operation: object, value: object) -> object:
    if operation in _TEXT_OPERATIONS or datamodel.is_string(column) or datamodel.is_text(column):
        return str(value)
    if datamodel.is_boolean(column):
        key = value.lower() if isinstance(value, str) else value
        if isinstance(key, (bool, int, str)) and key in _YES | _NO:
            return key in _YES
        raise FABException(str(_l("A yes/no filter takes true or false.")))
    if datamodel.is_integer(column) or datamodel.is_relation(column):
        number = value if isinstance(value, int) and not isinstance(value, bool) else whole_number(value)
        if number is None or not -MAX_DATABASE_INTEGER <= number <= MAX_DATABASE_INTEGER:
            raise FABException(str(_l("This filter takes a whole number.")))
        return number
    return value


class LoketRestApi(ModelRestApi):
    method_permission_name = METHOD_PERMISSIONS
    allow_browser_login = True
    # Checked by app.security.csrf instead: cookie-borne writes need a token.
    csrf_exempt = False
    # Fields normalised on write, with the function that normalises them.
    normalized_columns: dict[str, Callable[[str], str]] = {}

    def __init__(self) -> None:
        assert isinstance(self.datamodel, ApiInterface), f"{type(self).__name__}: declare datamodel = ApiInterface(...)"
        self.validators_columns = {name: checked(fn) for name, fn in self.normalized_columns.items()}
        super().__init__()

    def create_blueprint(self, appbuilder: Any, *args: Any, **kwargs: Any) -> Blueprint:  # noqa: ANN401
        blueprint = super().create_blueprint(appbuilder, *args, **kwargs)
        blueprint.before_request(self._refuse_malformed_request)
        return blueprint

    def response_403(self) -> Response:
        # FAB's own answer is the English "Forbidden": the same words as the 403 page instead.
        return self.response(403, message=str(ERROR_TEXTS[403].message))

    def _refuse_malformed_request(self) -> Response | None:
        """Before FAB reads the request: a row id that is no number, or a `q` FAB's parser would
        fail on with a 500."""
        pk = (request.view_args or {}).get("pk")
        if pk is not None and not well_formed_pk(self.datamodel, pk):
            return self.response_404()
        value = request.args.get("q")
        if value:
            try:
                query = _parsed_query(value)
            except ValueError:
                return self.response_400(message=str(_l("The q argument is neither rison nor JSON.")))
            if _depth(query) > MAX_QUERY_DEPTH:
                return self.response_400(message=str(_l("The q argument is nested too deeply.")))
        return None

    def _sanitize_page_args(self, page: int | None, page_size: int | None) -> tuple[int | None, int | None]:
        # FAB caps the page size at FAB_API_MAX_PAGE_SIZE; the page number it takes as it comes.
        if page is not None and (not isinstance(page, int) or not 0 <= page <= MAX_PAGE):
            raise QueryRefused(str(_l("A page number is a whole number from 0 to %(max)s.", max=MAX_PAGE)))
        return super()._sanitize_page_args(page, page_size)

    def _handle_order_args(self, rison_args: dict[str, Any]) -> tuple[str, str]:
        try:
            return super()._handle_order_args(rison_args)
        except InvalidOrderByColumnFABException:
            column = rison_args.get("order_column")
            raise InvalidOrderByColumnFABException(str(_l("Unknown sort column: %(column)s.", column=column))) from None

    def _handle_filters_args(self, rison_args: dict[str, Any]) -> Filters:
        filters = [_filter_value_fitted(self.datamodel, f) for f in rison_args.get("filters", [])]
        try:
            return super()._handle_filters_args({**rison_args, "filters": filters})
        except InvalidColumnFilterFABException:
            raise FABException(str(_l("A filter names a column that cannot be filtered."))) from None
        except FABException:
            raise FABException(str(_l("A filter uses an operation its column does not offer."))) from None

    def get_list_headless(self, **kwargs: Any) -> Response:  # noqa: ANN401
        try:
            return super().get_list_headless(**kwargs)
        except QUERY_ERRORS as exc:
            if not unusable_value(exc):
                raise
            self.datamodel.session.rollback()
            return self.response_400(message=str(_l("A search value cannot be used for its column.")))

    def _normalize(self, item: object) -> None:
        for name, fn in self.normalized_columns.items():
            value = getattr(item, name, None)
            if value:
                setattr(item, name, fn(value))

    def pre_add(self, item: object) -> None:
        self._normalize(item)

    def pre_update(self, item: object) -> None:
        self._normalize(item)
        set_reason(self.datamodel.session, unquote(request.headers.get(REASON_HEADER, "")))
        refusal = pending_refusal(self.datamodel.session, item)
        if refusal is not None:
            raise refusal

    def pre_delete(self, item: object) -> None:
        refusal = in_use_refusal(self.datamodel.session, item)
        if refusal:
            raise ChangeRefused(refusal)

    def _refused(self, exc: ChangeRefused) -> Response:
        self.datamodel.session.rollback()
        if isinstance(exc, DatabaseRefused):
            return self.response(exc.status, message=str(exc))
        return self.response_422(message=str(exc))

    def post_headless(self) -> Response:
        try:
            return super().post_headless()
        except ChangeRefused as exc:
            return self._refused(exc)

    def put_headless(self, pk: int) -> Response:
        try:
            return super().put_headless(pk)
        except ChangeRefused as exc:
            return self._refused(exc)

    def delete_headless(self, pk: int) -> Response:
        try:
            return super().delete_headless(pk)
        except ChangeRefused as exc:
            return self._refused(exc)


class CompanyApi(LoketRestApi):
    resource_name = "company"
    datamodel = ApiInterface(Company)
    class_permission_name = roles.COMPANY
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_delete"]
    normalized_columns = {
        "nib": normalize_nib, "npwp": normalize_npwp, "email": normalize_email, "phone": normalize_phone,
    }
    list_columns = ["id", "name", "legal_form", "nib", "npwp", "kecamatan_code", "desa_code", "phone", "email"]
    add_columns = edit_columns = [
        "name", "legal_form", "nib", "npwp", "deed_number", "deed_date", "sk_kemenkumham",
        "address", "kecamatan_code", "desa_code", "phone", "email",
    ]

    def _refuse_unfit_region(self, item: Company) -> None:
        refusal = region_refusal(current_app.config["OFFICE_REGENCY_CODE"], item.kecamatan_code, item.desa_code)
        if refusal is not None:
            raise ChangeRefused(str(refusal))

    def pre_add(self, item: Company) -> None:
        self._refuse_unfit_region(item)
        super().pre_add(item)

    def pre_update(self, item: Company) -> None:
        # Checked when the request sets either code, so an older record's other fields stay editable.
        body = request.get_json(silent=True)
        if isinstance(body, dict) and body.keys() & {"kecamatan_code", "desa_code"}:
            self._refuse_unfit_region(item)
        super().pre_update(item)


class ApplicantApi(LoketRestApi):
    resource_name = "applicant"
    datamodel = ApiInterface(Applicant)
    class_permission_name = roles.APPLICANT
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_delete"]
    normalized_columns = {"nik": normalize_nik, "email": normalize_email, "phone": normalize_phone}
    list_columns = ["id", "full_name", "nik", "email", "phone", "position", "company.id", "company.name"]
    add_columns = edit_columns = ["full_name", "nik", "email", "phone", "position", "company"]


class DossierApi(LoketRestApi):
    resource_name = "dossier"
    datamodel = ApiInterface(Dossier)
    class_permission_name = roles.DOSSIER
    base_permissions = ["can_list", "can_show", "can_add", "can_edit"]
    list_columns = [
        "id", "receipt_number", "permit_type.name", "company.name", "applicant.full_name",
        "stage.code", "stage.name", "status", "submitted_at", "due_at", "version",
    ]
    show_columns = list_columns + ["site_address", "site_area_m2", "vehicle_capacity", "notes"]
    add_columns = ["permit_type", "company", "applicant", "site_address", "site_area_m2", "vehicle_capacity", "notes"]
    # As on the dossier's form: the parties and the type are fixed by the receipt.
    edit_columns = ["site_address", "site_area_m2", "vehicle_capacity", "notes"]

    def pre_add(self, item: Dossier) -> None:
        actor_id = current_user.id if current_user.is_authenticated else None
        open_dossier(item, item.permit_type, dt.datetime.now(dt.timezone.utc), office_calendar(), actor_id)


class DocumentApi(LoketRestApi):
    resource_name = "document"
    datamodel = ApiInterface(Document)
    class_permission_name = roles.DOCUMENT
    base_permissions = ["can_list", "can_show", "can_edit", "can_delete"]
    list_columns = [
        "id", "dossier.receipt_number", "requirement_type.code", "original_filename", "size_bytes",
        "sha256", "uploaded_at", "verified_at",
    ]
    edit_columns = ["note"]


class StageEventApi(LoketRestApi):
    resource_name = "stage_event"
    datamodel = ApiInterface(StageEvent)
    class_permission_name = roles.STAGE_EVENT
    base_permissions = ["can_list", "can_show"]
    list_columns = ["id", "dossier.receipt_number", "action", "from_stage.code", "to_stage.code", "occurred_at", "note"]


class RegisterEntryApi(LoketRestApi):
    resource_name = "register_entry"
    datamodel = ApiInterface(RegisterEntry)
    class_permission_name = roles.REGISTER_ENTRY
    base_permissions = ["can_list", "can_show", "can_edit"]
    list_columns = [
        "id", "register_number", "year", "entry_date", "permit_number", "dossier.receipt_number",
        "company.name", "applicant.full_name", "permit_type.name", "issue_date",
        "book_page", "book_line", "archive_box", "archive_shelf",
    ]
    edit_columns = ["archive_box", "archive_shelf"]


class PermitTypeApi(LoketRestApi):
    resource_name = "permit_type"
    datamodel = ApiInterface(PermitType)
    class_permission_name = roles.PERMIT_TYPE
    base_permissions = ["can_list", "can_show"]
    list_columns = ["id", "code", "name", "sop_number", "service_days", "fee", "output_document", "validity_months"]
    show_columns = list_columns + ["legal_bases", "executor_qualifications", "equipment", "related_sops", "recording"]


class StageApi(LoketRestApi):
    resource_name = "stage"
    datamodel = ApiInterface(Stage)
    class_permission_name = roles.STAGE
    base_permissions = ["can_list", "can_show"]
    list_columns = [
        "id", "permit_type.code", "seq", "code", "name", "actor", "role_name", "time_standard_minutes",
        "time_standard_text", "inputs", "output", "is_applicant_step", "is_office_continuation",
    ]


class RequirementTypeApi(LoketRestApi):
    resource_name = "requirement_type"
    datamodel = ApiInterface(RequirementType)
    class_permission_name = roles.REQUIREMENT_TYPE
    base_permissions = ["can_list", "can_show"]
    list_columns = ["id", "permit_type.code", "seq", "code", "name", "is_mandatory", "due_stage.code"]


ALL_APIS = (
    CompanyApi, ApplicantApi, DossierApi, DocumentApi, StageEventApi, RegisterEntryApi,
    PermitTypeApi, StageApi, RequirementTypeApi,
)
