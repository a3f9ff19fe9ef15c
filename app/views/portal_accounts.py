"""The applicant's account on the portal: register, activate by e-mail link, sign in and out,
resend the link, reset a forgotten password (SOP 76 steps 2-3). Thin: app.portal.accounts decides."""
from __future__ import annotations

from flask import redirect, url_for
from flask_appbuilder import BaseView, expose
from flask_login import logout_user

from app.views.portal_base import PORTAL_PREFIX


class PortalAccountView(BaseView):
    route_base = PORTAL_PREFIX
    default_view = "login"

    @expose("/masuk", methods=["GET", "POST"])
    def login(self):  # noqa: ANN201
        return redirect(url_for("AuthDBView.login"))

    @expose("/keluar", methods=["POST"])
    def logout(self):  # noqa: ANN201
        logout_user()
        return redirect(url_for(".login"))
