"""`flask --app run.py loket demo`: fills an empty database once, refuses a second time."""
from __future__ import annotations

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
