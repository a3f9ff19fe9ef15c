"""What every page of the applicant's portal (/pemohon/) shares: its permission, its sign-in
and the applicant behind the account. The portal has its own layout (loket/portal/base.html,
phone first) and none of the staff's menus.

Permission: one resource (ApplicantPortal, can_use) that only the Pemohon role holds, so the
permission matrix sees the portal like any screen. What is whose is decided per row in
app.portal, never by hiding links.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, redirect, request, url_for
from flask_appbuilder import BaseView
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db
from app.models import Applicant
from app.security.roles import PORTAL

PORTAL_PREFIX = "/pemohon"
LOGIN_ENDPOINT = "PortalAccountView.login"


class PortalBase(BaseView):
    class_permission_name = PORTAL
    base_permissions = ["can_use"]


def applicant_only(method: Callable) -> Callable:
    """A portal page: a visitor signs in first (and comes back here), a staff account is refused."""

    @wraps(method)
    def guarded(self: BaseView, *args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        if not current_user.is_authenticated:
            return redirect(url_for(LOGIN_ENDPOINT, next=request.full_path.rstrip("?")))
        if not self.appbuilder.sm.has_access("can_use", PORTAL):
            abort(403)
        return method(self, *args, **kwargs)

    return guarded


def current_applicant() -> Applicant | None:
    """The applicant record of the signed-in account (None before the account made one)."""
    return db.session.scalar(select(Applicant).where(Applicant.account_id == current_user.id))
