"""The search box of the top bar (app/templates/appbuilder/navbar.html): GET /cari?q=... lists
the dossiers, companies and applicants the text names (app.search), each group only for whoever
may list its grid, with a link to the grid filtered the same way where the grid can say it.
Signed-in staff only; the rows themselves are as readable as their grids."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import abort, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.extensions import db
from app.labels import DOSSIER_STATUSES
from app.search import (
    APPLICANTS,
    COMPANIES,
    DIGITS,
    DOSSIERS,
    EMPTY,
    MAX_LENGTH,
    MIN_LENGTH,
    NAME,
    TOO_LONG,
    TOO_SHORT,
    SearchResult,
    search,
)
from app.security import roles

# Group -> (resource whose can_list shows it, its grid view).
GROUPS = {
    DOSSIERS: (roles.DOSSIER, "DossierView"),
    COMPANIES: (roles.COMPANY, "CompanyView"),
    APPLICANTS: (roles.APPLICANT, "ApplicantView"),
}
GROUP_TITLES = {DOSSIERS: _l("Dossiers"), COMPANIES: _l("Companies"), APPLICANTS: _l("Applicants")}
PROBLEMS = {
    EMPTY: _l("Type a receipt or permit number, a NIK, NIB or NPWP, or part of a name."),
    TOO_SHORT: _l("Type at least %(min)s letters or digits.", min=MIN_LENGTH),
    TOO_LONG: _l("The search text is too long (at most %(max)s characters).", max=MAX_LENGTH),
}


class SearchView(BaseView):
    route_base = "/cari"
    default_view = "search"

    @expose("/", methods=["GET"])
    def search(self):  # noqa: ANN201
        if not (current_user.is_authenticated and current_user.is_active):
            return redirect(url_for(f"{self.appbuilder.sm.auth_view.__class__.__name__}.login", next=request.url))
        sm = self.appbuilder.sm
        kinds = [kind for kind, (resource, _) in GROUPS.items() if sm.has_access("can_list", resource)]
        if not kinds:  # an applicant's account: the staff's search is not theirs
            abort(403)
        result = search(db.session, request.args.get("q", ""), kinds)
        if result.exact_dossier_id is not None and sm.has_access("can_show", roles.DOSSIER):
            return redirect(url_for("DossierView.show", pk=result.exact_dossier_id))
        groups = [
            (kind, GROUP_TITLES[kind], result.groups[kind], sm.has_access("can_show", GROUPS[kind][0]),
             self._grid_links(kind, result))
            for kind in GROUPS if kind in result.groups
        ]
        return self.render_template(
            "loket/search.html", result=result, groups=groups, problem=PROBLEMS.get(result.problem),
            statuses=DOSSIER_STATUSES,
        )

    def _grid_links(self, kind: str, result: SearchResult) -> list[tuple[object, str]]:
        """(label, URL) of the grid showing every match, where its filters can say the same."""
        if not result.groups[kind].more:
            return []
        return [(label, url) for label, url in self._all_matches(kind, result) if url]

    def _all_matches(self, kind: str, result: SearchResult) -> list[tuple[object, str | None]]:
        view = GROUPS[kind][1]
        words = result.text.split()
        if kind == DOSSIERS:
            if result.reading == NAME:
                return [
                    (_l("See all dossiers of companies whose name contains this"), self._grid(view, "company", "rel_ct", [result.text])),
                    (_l("See all dossiers of applicants whose name contains this"), self._grid(view, "applicant", "rel_ct", [result.text])),
                ]
            if result.reading == DIGITS:
                return []  # the dossier grid finds a party by its whole NIB or NIK only
            return [(_l("See all"), self._grid(view, "receipt_number", "sw", [result.text.upper()]))]
        column, operator = {COMPANIES: "name", APPLICANTS: "full_name"}[kind], "ct"
        if result.reading == DIGITS:
            # Past 13 digits (a NIB's length) only an NPWP can match.
            number = "nik" if kind == APPLICANTS else "npwp" if len(result.digits) > 13 else "nib"
            column, operator, words = number, "sw", [result.digits]
        return [(_l("See all"), self._grid(view, column, operator, words))]

    def _grid(self, view_name: str, column: str, operator: str, values: list[str]) -> str | None:
        """The grid's list URL with one filter per value (FAB ANDs them), by the filter's index
        among the column's search filters; None if the grid has no such filter."""
        view = next((v for v in self.appbuilder.baseviews if type(v).__name__ == view_name), None)
        filters = view._filters._all_filters.get(column, []) if view is not None else []  # noqa: SLF001
        names = [getattr(f, "arg_name", "") for f in filters]
        if operator not in names:
            return None
        key = f"_flt_{names.index(operator)}_{column}"
        return url_for(f"{view_name}.list") + "?" + urlencode([(key, value) for value in values])
