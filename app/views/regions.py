"""The desa/kelurahan of one kecamatan, for the desa select of a form (app/static/loket/regions.js)."""
from __future__ import annotations

from flask import Response, current_app, jsonify, request
from flask_appbuilder import BaseView, expose, has_access

from app.regions import desa_of
from app.security import roles


class RegionView(BaseView):
    """GET /regions/desa?kecamatan=61.08.01 -> {"results": [{"id", "text"}]} (select2's format):
    the desa of that kecamatan of the office's regency; none for any other code. Whoever may list
    companies, whose forms ask, may ask."""

    route_base = "/regions"
    class_permission_name = roles.COMPANY
    base_permissions = ["can_list"]
    method_permission_name = {"desa": "list"}

    @expose("/desa", methods=["GET"])
    @has_access
    def desa(self) -> Response:
        kecamatan = request.args.get("kecamatan", "")
        rows = desa_of(current_app.config["OFFICE_REGENCY_CODE"], kecamatan)
        return jsonify(results=[{"id": code, "text": name} for code, name in rows])
