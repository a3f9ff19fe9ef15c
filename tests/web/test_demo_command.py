"""`flask --app run.py loket demo`: fills an empty database once, refuses a second time."""
from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy import text as text_

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


# ------------------------------------------------------------- a large office, a fresh instance


def test_company_names_niks_and_numbers_stay_unique_when_the_name_parts_run_out(app):
    """A million dossiers need ~333,000 companies: more than the name parts combine to. The
    generator used to give up with AssertionError('unreachable') once a legal form's names ran out."""
    import datetime as dt
    import random

    from app.sop.calendar import WorkingCalendar
    from app.validators import normalize_nik
    from seed.demo.identities import _Generator
    from seed.demo.names import COMPANY_PLACE, COMPANY_TAIL, KOPERASI_KIND

    calendar = WorkingCalendar()
    clock = seed.demo.WorkClock(calendar, dt.date(2026, 1, 1), dt.date(2026, 3, 1))
    gen = _Generator(random.Random(1), clock, calendar)
    combinations = len(KOPERASI_KIND) * len(COMPANY_PLACE) * len(COMPANY_TAIL)
    names = [gen.company_name("KOPERASI") for _ in range(3 * combinations)]
    assert len(set(names)) == len(names)
    assert any(name.endswith(" III") for name in names)
    bumd = [gen.company_name("BUMD") for _ in range(200)]
    assert len(set(bumd)) == 200 and all(name.endswith(" (Perseroda)") for name in bumd)
    # Everyone born on one day in one kecamatan still gets a NIK of their own.
    niks = [gen.nik("61.08.01", dt.date(1980, 5, 17), female=False) for _ in range(3000)]
    assert len(set(niks)) == 3000 and all(normalize_nik(n) == n and n.startswith("610801170580") for n in niks)
    companies = [gen.company(dt.date(2026, 3, 1)) for _ in range(2000)]
    for field in ("nib", "npwp", "email"):
        assert len({c.row[field] for c in companies}) == 2000, field


def _fingerprint() -> dict[str, str]:
    """A hash of each demo table's content, ids included (the history's and documents' ids come
    from the database's sequences, so those are left out there)."""
    import hashlib

    from app.models import Applicant, Document, NumberCounter, Permit, RegisterEntry, StageEvent

    prints = {}
    for model in (Company, Applicant, Dossier, StageEvent, Document, Permit, RegisterEntry, NumberCounter):
        table = model.__table__
        columns = [c for c in table.columns if not (c.name == "id" and model in (StageEvent, Document))]
        digest = hashlib.sha256()
        for row in db.session.execute(select(*columns).order_by(*table.primary_key.columns)):
            digest.update(repr(tuple(v.isoformat() if hasattr(v, "isoformat") else v for v in row)).encode())
        prints[table.name] = digest.hexdigest()
    return prints


def test_same_seed_gives_the_same_content_with_permit_ids_in_issue_order(app, clean_db):
    import datetime as dt

    from app.models import Permit, RegisterEntry
    from tests.conftest import wipe_business_tables

    reference = dt.date(2026, 6, 15)
    with app.app_context():
        runs = []
        for run_seed in (21, 21, 22):
            wipe_business_tables()
            seed.demo.generate(90, seed=run_seed, reference_date=reference, with_documents=True)
            runs.append(_fingerprint())
        assert runs[0] == runs[1]
        assert runs[0]["dossier"] != runs[2]["dossier"] and runs[0]["permit"] != runs[2]["permit"]
        # Permits and register lines are written in dossier order, yet numbered by their ids in
        # issue order, as the office would have issued them one by one.
        permits = db.session.execute(select(Permit.id, Permit.issued_at, Permit.dossier_id).order_by(Permit.id)).all()
        assert len(permits) > 30
        assert [(p.issued_at, p.dossier_id) for p in permits] == sorted((p.issued_at, p.dossier_id) for p in permits)
        lines = db.session.execute(select(RegisterEntry.dossier_id).order_by(RegisterEntry.id)).scalars().all()
        assert lines == [p.dossier_id for p in permits]


def test_demo_permit_snapshots_are_what_numbering_freezes(app, clean_db):
    """The demo builds snapshots in bulk; app.printing.describe_permits must give the same."""
    import json

    from flask import current_app

    from app.models import Permit, PermitType
    from app.printing import Office, describe_permits

    with app.app_context():
        seed.demo.generate(60, seed=8)
        office = Office.from_config(current_app.config, current_app.config.get("PUBLIC_BASE_URL") or "http://localhost")
        describe = describe_permits(office)
        permits = db.session.scalars(select(Permit).order_by(Permit.id)).all()
        assert len(permits) > 20
        for permit in permits:
            permit_type = db.session.get(PermitType, permit.permit_type_id)
            # As the JSON column stores it (tuples come back as lists).
            frozen = json.loads(json.dumps(describe(db.session, permit.dossier, permit_type, permit)))
            assert permit.snapshot == frozen, permit.number


def test_demo_ends_with_fresh_planner_statistics(app, clean_db):
    from sqlalchemy import text

    with app.app_context():
        summary = seed.demo.generate(30, seed=2)
        assert "statistik diperbarui (ANALYZE)" in summary
        if db.engine.dialect.name == "sqlite":
            analysed = set(db.session.scalars(text("SELECT tbl FROM sqlite_stat1")))
        else:
            analysed = set(db.session.scalars(text("SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL")))
        assert {"company", "applicant", "dossier", "stage_event", "permit"} <= analysed


def test_demo_on_a_fresh_instance_runs_init_first(tmp_path):
    """`loket demo` on a new, empty database sets it up as `loket init` does instead of failing
    with `no such table`."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from sqlalchemy import create_engine

    instance = tmp_path / "instance"
    env = {**os.environ, "LOKET_INSTANCE_PATH": str(instance), "DATABASE_URL": f"sqlite:///{instance / 'loket.db'}",
           "LOKET_ADMIN_PASSWORD": "admin-demo-fresh-test"}
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "run.py", "loket", "demo", "--dossiers", "20", "--seed", "3"],
        cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Skema basis data belum ada: menjalankan `loket init` dulu." in result.stdout
    assert "SOP IZIN_POOL_KENDARAAN: dimuat" in result.stdout
    assert "Admin dibuat" in result.stdout and "20 berkas" in result.stdout
    engine = create_engine(env["DATABASE_URL"])
    with engine.connect() as conn:
        assert conn.scalar(text_("SELECT count(*) FROM dossier")) == 20
        assert conn.scalar(text_("SELECT count(*) FROM ab_user WHERE username = 'admin'")) == 1
    engine.dispose()


def _schema_of_loaded_tables() -> set[tuple]:
    from sqlalchemy import text

    tables = ("company", "applicant", "dossier", "stage_event", "document", "permit", "register_entry")
    if db.engine.dialect.name == "sqlite":
        return set(db.session.execute(
            text("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE tbl_name IN "
                 f"({', '.join(repr(t) for t in tables)})")
        ).all())
    indexes = db.session.execute(
        text("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE tablename = ANY(:t)"), {"t": list(tables)}
    ).all()
    constraints = db.session.execute(
        text("SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid), convalidated "
             "FROM pg_constraint WHERE conrelid::regclass::text = ANY(:t)"), {"t": list(tables)}
    ).all()
    return set(indexes) | set(constraints)


def test_demo_load_puts_back_every_key_and_index_it_lifted(app, clean_db):
    """On PostgreSQL the load drops foreign keys, unique constraints and indexes of the tables it
    fills and builds them again after; the schema must come out as the migrations made it."""
    with app.app_context():
        before = _schema_of_loaded_tables()
        db.session.rollback()
        seed.demo.generate(40, seed=6, with_documents=True)
        after = _schema_of_loaded_tables()
    assert len(before) > 30 and after == before
