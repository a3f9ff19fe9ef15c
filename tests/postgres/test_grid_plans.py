"""PostgreSQL only: the grids' own queries, explained on tables big enough for the planner to
care, use the indexes of migration 0012: (due_at, id) for the Dossier grid sorted by due date and
for its export's keyset batches, the GIN trigram index for "company name contains".

The rows are inserted and analysed inside the test's transaction, which is rolled back.
"""
from __future__ import annotations

import pytest
from sqlalchemy import event, select, text

from app.extensions import db
from app.models import PermitType, Stage
from app.views import paging
from app.views.export import grid_query
from tests.conftest import POSTGRES_URL

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL: set LOKET_TEST_DATABASE_URL"),
]

ROWS = 20_000


def _view(app, name: str):  # noqa: ANN001, ANN202
    return next(v for v in app.appbuilder.baseviews if type(v).__name__ == name)


def _fill(companies: int, dossiers: int) -> None:
    permit_type = db.session.scalar(select(PermitType.id))
    stage = db.session.scalar(select(Stage.id).where(Stage.permit_type_id == permit_type).order_by(Stage.seq))
    db.session.execute(text(
        "INSERT INTO company (name, legal_form, nib) SELECT 'PT ' || md5(n::text) || "
        "CASE WHEN n % 500 = 0 THEN ' Gemilang' ELSE '' END, 'PT', '7' || lpad(n::text, 12, '0') "
        "FROM generate_series(1, :n) AS n"
    ), {"n": companies})
    db.session.execute(text(
        "INSERT INTO applicant (full_name, nik) SELECT 'Pemohon ' || md5(n::text), '3' || lpad(n::text, 15, '0') "
        "FROM generate_series(1, 10) AS n"
    ))
    db.session.execute(text(
        "INSERT INTO dossier (receipt_number, permit_type_id, company_id, applicant_id, stage_id, status, "
        "submitted_at, due_at, version) "
        "SELECT 'PLAN-' || n, :permit_type, (SELECT min(id) FROM company) + n % :companies, "
        "(SELECT min(id) FROM applicant), :stage, "
        "'in_progress', now() - n * interval '1 minute', now() + ((n * 7919) % 100000) * interval '1 minute', 1 "
        "FROM generate_series(1, :n) AS n"
    ), {"permit_type": permit_type, "stage": stage, "n": dossiers, "companies": companies})
    # What a vacuum does to a GIN index's list of pending rows (none can run in a transaction).
    db.session.execute(text("SELECT gin_clean_pending_list('ix_company_name_trgm')"))
    db.session.execute(text("ANALYZE company"))
    db.session.execute(text("ANALYZE dossier"))


def _explained(call) -> str:  # noqa: ANN001
    """The plans of the SELECTs the call runs, as the database would run them."""
    connection = db.session.connection()
    seen: list[tuple[str, object]] = []

    def hit(conn, cursor, statement, parameters, *args) -> None:  # noqa: ANN001, ANN002
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", hit)
    try:
        call()
    finally:
        event.remove(db.engine, "before_cursor_execute", hit)
    plans = []
    for statement, parameters in seen:
        rows = connection.exec_driver_sql("EXPLAIN " + statement, parameters).scalars()
        plans.append("\n".join(rows))
    return "\n\n".join(plans)


def test_the_dossier_grid_sorted_by_due_date_reads_the_due_index_not_a_sort(app):
    with app.app_context():
        try:
            _fill(10, ROWS)
            view = _view(app, "DossierView")
            with app.test_request_context("/dossierview/list/?_oc_DossierView=due_at&_od_DossierView=asc"):
                joined, column, direction = grid_query(view)
                plan = _explained(lambda: paging.page_ids(view.datamodel, joined, column, direction, 40, 25))
                assert "ix_dossier_due_id" in plan, plan
                assert "Sort" not in plan, plan

                def export_two_batches() -> None:
                    batches = paging.keyset_batches(view.datamodel, joined, column, direction, ("receipt_number",),
                                                    batch=500)
                    next(batches), next(batches)

                plan = _explained(export_two_batches)
                keyset = [p for p in plan.split("\n\n") if "due_at, id) >" in p.replace("dossier.", "")]
                assert keyset and all("ix_dossier_due_id" in p and "Sort" not in p for p in keyset), plan
        finally:
            db.session.rollback()


def test_company_name_contains_reads_the_trigram_index(app):
    with app.app_context():
        try:
            _fill(ROWS, ROWS)
            view = _view(app, "CompanyView")
            filter_index = [type(f).__name__ for f in view.datamodel.get_filters(view.search_columns)
                            .get_search_filters()["name"]].index("FilterContains")
            with app.test_request_context(f"/companyview/list/?_flt_{filter_index}_name=Gemilang"):
                joined, _, _ = grid_query(view)
                plan = _explained(lambda: paging.count_rows(view.datamodel, joined))
            assert "ix_company_name_trgm" in plan, plan

            dossiers = _view(app, "DossierView")
            with app.test_request_context("/dossierview/list/?_flt_0_company=Gemilang"):
                joined, _, _ = grid_query(dossiers)
                plan = _explained(lambda: paging.count_rows(dossiers.datamodel, joined))
            assert "ix_company_name_trgm" in plan, plan
        finally:
            db.session.rollback()
