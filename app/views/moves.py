"""Moving dossiers through the SOP from the grid: confirm, then apply, then report per row.

The grid's actions (one row, the ticked rows, or every row matching the current filter) only
lead here. Every id is resolved and judged again on the server: FAB's base filters do not
apply to actions, and a ticked box proves nothing.
"""
from __future__ import annotations

import datetime as dt

from flask import abort, current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.jobs.submit import start_job
from app.models import Dossier, Stage
from app.office import office_calendar
from app.printing import describe_permits
from app.security import roles
from app.sop.bulk import move_in_chunks
from app.sop.machine import NEEDS_REASON, Action
from app.views.dossiers import ACTION_LABELS, dossier_filter_query
from app.views.papers import current_office

MAX_BULK = 10_000


def parse_action(name: str | None) -> Action:
    try:
        return Action(name)
    except ValueError:
        abort(404)


class Selection:
    """The dossiers a move is about: explicit ids, or every dossier matching a grid filter."""

    def __init__(self, ids: list[int], filter_args: str | None) -> None:
        # filter_args None: exactly these ids; a string (maybe empty: no filter): the grid's query.
        self.ids, self.filter_args = ids, filter_args

    @classmethod
    def from_form(cls, form: MultiDict) -> Selection:
        ids = [int(v) for v in form.getlist("ids") if str(v).isdigit()]
        return cls(ids, form.get("filter", "") if form.get("scope") == "filter" else None)

    @property
    def scope(self) -> str:
        return "ids" if self.filter_args is None else "filter"

    def _query(self):  # noqa: ANN202
        if self.filter_args is None:
            return select(Dossier.id).where(Dossier.id.in_(self.ids))
        return dossier_filter_query(self.filter_args)

    def count(self) -> int:
        return db.session.scalar(select(func.count()).select_from(self._query().subquery()))

    def dossier_ids(self) -> list[int]:
        return list(db.session.scalars(self._query().order_by(Dossier.id).limit(MAX_BULK)))

    def preview(self, limit: int = 100) -> list[tuple[str, str]]:
        rows = db.session.execute(
            select(Dossier.receipt_number, Stage.name)
            .join(Stage, Stage.id == Dossier.stage_id)
            .where(Dossier.id.in_(self._query().scalar_subquery()))
            .order_by(Dossier.id)
            .limit(limit)
        )
        return [tuple(row) for row in rows]


class DossierMoveView(BaseView):
    route_base = "/dossiermoves"
    class_permission_name = roles.DOSSIER_MOVE
    base_permissions = ["can_move"]
    method_permission_name = {"confirm": "move", "apply": "move"}
    default_view = "confirm"

    @expose("/confirm", methods=["GET"])
    @has_access
    def confirm(self):  # noqa: ANN201
        action = parse_action(request.args.get("action"))
        selection = Selection.from_form(request.args)
        total = selection.count()
        if total == 0:
            flash(str(_l("No dossier selected.")), "warning")
            return redirect(url_for("DossierView.list"))
        return self.render_template(
            "loket/move_confirm.html",
            action=action,
            action_label=ACTION_LABELS[action],
            needs_reason=action in NEEDS_REASON,
            total=total,
            too_many=total > MAX_BULK,
            max_bulk=MAX_BULK,
            preview=selection.preview(),
            selection=selection,
        )

    @expose("/apply", methods=["POST"])
    @has_access
    def apply(self):  # noqa: ANN201
        action = parse_action(request.form.get("action"))
        selection = Selection.from_form(request.form)
        total = selection.count()
        if total > MAX_BULK:
            flash(str(_l("At most %(max)s dossiers per move; narrow the filter.", max=MAX_BULK)), "danger")
            return redirect(url_for("DossierView.list"))
        ids = selection.dossier_ids()
        if len(ids) > current_app.config["BULK_MOVE_INLINE_MAX"]:
            # Minutes of work: a job with progress, never a request a worker timeout would kill.
            job = start_job("bulk_move", {
                "action": action.value, "ids": ids, "note": request.form.get("note"), "user_id": current_user.id,
                "address": request.remote_addr, "public_base_url": request.url_root,
            }, current_user.id)
            flash(str(_l("%(count)s dossiers are moved by a background job, in small steps; this page shows its "
                         "progress, and its workbook lists what happened to each.", count=len(ids))), "info")
            return redirect(url_for("ReportJobView.show", pk=job.id))
        # Roles given directly and through FAB groups alike.
        user_roles = {role.name for role in self.appbuilder.sm.get_user_roles(current_user)}
        outcomes = move_in_chunks(
            db.session,
            ids,
            action,
            clock=lambda: dt.datetime.now(dt.UTC),
            actor_id=current_user.id,
            roles=user_roles,
            note=request.form.get("note"),
            timezone=current_app.config["OFFICE_TIMEZONE"],
            calendar=office_calendar(),
            describe_permit=describe_permits(current_office()),
        )
        moved = [o for o in outcomes if o.moved]
        return self.render_template(
            "loket/move_result.html",
            action_label=ACTION_LABELS[action],
            moved=moved,
            refused=[o for o in outcomes if not o.moved],
            total=len(outcomes),
        )
