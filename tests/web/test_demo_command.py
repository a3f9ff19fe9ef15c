"""`flask --app run.py loket demo`: fills an empty database once, refuses a second time."""
from __future__ import annotations

import re

from sqlalchemy import func, select

import seed.demo
from app.extensions import db
from app.models import Company, Dossier


def _counts(app) -> tuple[int, int]:  # noqa: ANN001
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(Company)),
            db.session.scalar(select(func.count()).select_from(Dossier)),
        )


def test_demo_command_fills_then_refuses_a_second_run(app, clean_db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["loket", "demo", "--dossiers", "30", "--seed", "5"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Data demo dibuat: 10 perusahaan")
    assert "30 berkas" in result.output
    assert _counts(app) == (10, 30)

    again = runner.invoke(args=["loket", "demo", "--dossiers", "30", "--seed", "6"])
    assert again.exit_code == 1
    assert "Basis data sudah berisi data (10 perusahaan" in again.output
    assert "Traceback" not in again.output
    assert _counts(app) == (10, 30)


def test_demo_command_needs_the_sop(app, clean_db, monkeypatch):
    monkeypatch.setattr(seed.demo, "DEMO_PERMIT_CODE", "IZIN_YANG_TIDAK_ADA")
    result = app.test_cli_runner().invoke(args=["loket", "demo", "--dossiers", "5"])
    assert result.exit_code == 1
    assert "Jenis izin IZIN_YANG_TIDAK_ADA belum dimuat" in result.output
    assert _counts(app) == (0, 0)


def test_dossier_grid_shows_demo_rows(app, clean_db, login_as):
    with app.app_context():
        seed.demo.generate(12, seed=3)
        receipt = db.session.scalar(select(Dossier.receipt_number).order_by(Dossier.submitted_at.desc()).limit(1))
    page = login_as("Front Office").get("/dossierview/list/")
    assert page.status_code == 200
    assert receipt in page.get_data(as_text=True)


# ------------------------------------------------------------- the dossier grid on demo data


def _grid(client, query: str = "") -> str:  # noqa: ANN001
    page = client.get(f"/dossierview/list/{query}")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def _receipts(html: str) -> set[str]:
    return set(re.findall(r"IPK-\d{2}-[0-9A-Z]{6}", html))


def test_grid_filters_by_stage_status_company_and_applicant(app, clean_db, login_as):
    from app.models import Applicant, Company, Stage

    with app.app_context():
        seed.demo.generate(60, seed=9)
        stage_id, stage_count = db.session.execute(
            select(Dossier.stage_id, func.count()).group_by(Dossier.stage_id).order_by(func.count().desc()).limit(1)
        ).one()
        in_stage = set(db.session.scalars(select(Dossier.receipt_number).where(Dossier.stage_id == stage_id)))
        returned = set(db.session.scalars(select(Dossier.receipt_number).where(Dossier.status == "returned")))
        company = db.session.scalars(select(Company).where(Company.dossiers.any())).first()
        of_company = set(db.session.scalars(select(Dossier.receipt_number).where(Dossier.company_id == company.id)))
        applicant = db.session.scalars(select(Applicant).where(Applicant.dossiers.any())).first()
        of_applicant = set(db.session.scalars(select(Dossier.receipt_number).where(Dossier.applicant_id == applicant.id)))
        stage_label = str(db.session.get(Stage, stage_id))
    client = login_as("Front Office")
    assert _receipts(_grid(client, f"?_flt_0_stage={stage_id}")) <= in_stage
    assert re.search(rf"</strong>\s*{stage_count}\s*</div>", _grid(client, f"?_flt_0_stage={stage_id}"))
    assert _receipts(_grid(client, f"?_flt_1_stage={stage_id}")).isdisjoint(in_stage)
    assert _receipts(_grid(client, "?_flt_0_status=returned")) == returned
    # Company by part of its name (contains) or by NIB (equal); applicant by NIK.
    assert _receipts(_grid(client, f"?_flt_0_company={company.name.split()[1].lower()}")) >= of_company
    assert _receipts(_grid(client, f"?_flt_1_company={company.nib}")) == of_company
    assert _receipts(_grid(client, f"?_flt_1_applicant={applicant.nik}")) == of_applicant
    assert _receipts(_grid(client, "?_flt_0_stage=bukan-angka")) == set()
    # The search form offers stages by SOP order, and no list of every company.
    html = _grid(client)
    assert stage_label in html and company.name not in html.split('id="filter_form"')[1].split("</script>")[0]


def test_grid_reads_a_page_in_few_statements_with_dates_as_format_moment(app, clean_db, login_as):
    from sqlalchemy import event

    from app.formatting import format_moment

    with app.app_context():
        seed.demo.generate(40, seed=4)
        newest = db.session.scalars(select(Dossier).order_by(Dossier.submitted_at.desc(), Dossier.id.desc())).first()
        receipt, submitted, due = newest.receipt_number, newest.submitted_at, newest.due_at
        engine = db.engine
    client = login_as("Front Office")
    _grid(client)  # warm
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        html = _grid(client)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len(_receipts(html)) == 25 and receipt in html
    # user, permissions, count, page, permit types, stages: no query per row.
    assert len(statements) <= 8, statements
    with app.test_request_context():
        from flask_babel import force_locale

        with force_locale("id"):
            assert format_moment(submitted) in html and format_moment(due) in html
