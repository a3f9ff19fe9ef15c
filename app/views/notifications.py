"""The bell: each officer's SLA alerts (app.alerts), their count in the navbar, and the page that
lists them with the officer's dossiers at risk now (all of them for the oversight roles).

init_bell(app) registers what the navbar and the dossier page read as Jinja globals: whether the
user has a bell, and the "Melewati SLA" mark. The bell's count comes after the page, from
/notifikasi/jumlah (bell.js): a grid page keeps its own statements, the count is one indexed
COUNT of its own.
"""
from __future__ import annotations

import datetime as dt

from flask import Flask, current_app, flash, jsonify, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app import alerts
from app.extensions import db
from app.models import AlertKind
from app.office import office_calendar
from app.request_cache import request_cache
from app.security import roles as resources
from app.sop import worklist
from app.views.dossier_page import dossier_page

PAGE_SIZE = 100
AT_RISK_SIZE = 200
KIND_LABELS = {AlertKind.OVERDUE: _l("Past SLA"), AlertKind.DUE_SOON: _l("Due within one working day")}


def init_bell(app: Flask) -> None:
    """Jinja globals: unread_notifications() for the navbar, dossier_past_sla(pk) for the dossier page."""
    app.jinja_env.globals.update(may_see_notifications=may_see_notifications, dossier_past_sla=dossier_past_sla)


def may_see_notifications() -> bool:
    return bool(current_user and current_user.is_authenticated) and current_app.appbuilder.sm.has_access(
        "can_list", resources.NOTIFICATION)


def unread_notifications() -> int | None:
    """The signed-in officer's unread alerts (None: no bell for this visitor), once per request."""
    memo = request_cache("notification_bell")
    if "count" not in memo:
        memo["count"] = alerts.unread_count(db.session, current_user.id) if may_see_notifications() else None
    return memo["count"]


def dossier_past_sla(pk: int | str) -> bool:
    """Melewati SLA for the dossier page (app.alerts.is_past_sla), from the page's own reads."""
    page = dossier_page(pk)
    if page is None:
        return False
    dossier = page.dossier
    returns = [e.occurred_at for e in page.events if e.action == "return"]
    last_return = max(returns) if returns else None
    return alerts.is_past_sla(dossier.status, dossier.due_at, last_return, dt.datetime.now(dt.UTC))


def _my_stage_ids() -> set[int] | None:
    """The stages whose dossiers the user answers for; None: every stage (oversight roles)."""
    roles = {role.name for role in current_user.roles}
    if alerts.is_oversight(roles):
        return None
    scope = worklist.work_stages(worklist.all_stages(db.session), roles)
    return {*scope.work, *scope.resume}


class NotificationView(BaseView):
    """Notifikasi: my SLA alerts, newest first, and my dossiers at risk now."""

    route_base = "/notifikasi"
    class_permission_name = resources.NOTIFICATION
    base_permissions = ["can_list"]
    method_permission_name = {"list": "list", "read": "list", "count": "list"}
    default_view = "list"

    @expose("/", methods=["GET"])
    @has_access
    def list(self):  # noqa: ANN201
        now = dt.datetime.now(dt.UTC)
        stage_ids = _my_stage_ids()
        at_risk = alerts.at_risk(db.session, office_calendar(), now, stage_ids=stage_ids, limit=AT_RISK_SIZE)
        return self.render_template(
            "loket/notifications.html",
            notifications=alerts.notifications_of(db.session, current_user.id, limit=PAGE_SIZE),
            unread=unread_notifications() or 0,
            at_risk=at_risk,
            at_risk_size=AT_RISK_SIZE,
            everyone=stage_ids is None,
            kind_labels=KIND_LABELS,
        )

    @expose("/jumlah", methods=["GET"])
    @has_access
    def count(self):  # noqa: ANN201
        """The bell's badge (bell.js): my unread alerts."""
        return jsonify({"unread": unread_notifications() or 0})

    @expose("/read", methods=["POST"])
    @has_access
    def read(self):  # noqa: ANN201
        """Tandai sudah dibaca: one notification (id) or all of mine (all=1)."""
        now = dt.datetime.now(dt.UTC)
        if request.form.get("all"):
            ids = None
        else:
            raw = (request.form.get("id") or "").strip()
            if not raw.isdigit() or len(raw) > 18:
                flash(str(_l("Choose a notification to mark as read.")), "warning")
                return redirect(url_for("NotificationView.list"))
            ids = [int(raw)]
        changed = alerts.mark_read(db.session, current_user.id, ids, now)
        db.session.commit()
        if changed:
            flash(str(_l("%(count)s notifications marked as read.", count=changed)), "success")
        return redirect(url_for("NotificationView.list"))
