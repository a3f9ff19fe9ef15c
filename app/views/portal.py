"""The applicant's portal: home, online application, tracking (SOP 76 steps 3-4). Thin: app.portal
decides what is whose and opens dossiers through the SOP."""
from __future__ import annotations

from flask_appbuilder import expose

from app.views.portal_base import PORTAL_PREFIX, PortalBase, applicant_only


class PortalView(PortalBase):
    route_base = PORTAL_PREFIX
    default_view = "home"

    @expose("/")
    @applicant_only
    def home(self):  # noqa: ANN201
        return self.render_template("loket/portal/home.html")
