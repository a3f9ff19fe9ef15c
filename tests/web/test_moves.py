"""Moving dossiers from the grid: actions lead to a confirmation, every row is judged on the server."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from app.audit import changes_by
from app.extensions import db
from app.models import Dossier, Stage, StageEvent
from tests.conftest import csrf_token
from tests.factories import make_dossier
from tests.web.helpers import page_text

pytestmark = pytest.mark.usefixtures("clean_db")
TOKEN_PAGE = "/resetmypassword/form"  # any page with a form carries the session's CSRF token
# Where Lanjutkan from BERKAS stops (the Front Office's stages up to the first gate _open does not meet).
CARRIED_TO = "PENGISIAN_DATA"


def _open(stage_code: str = "BERKAS", profile_verified: bool = True) -> int:
    verified = ("PROFIL_PERUSAHAAN",) if profile_verified else ()
    return make_dossier(stage_code=stage_code, verified=verified).id


def _stage(app, dossier_id: int) -> str:  # noqa: ANN001
    with app.app_context():
        return db.session.get(Dossier, dossier_id).stage.code


def test_ticked_rows_go_through_confirmation_and_each_is_judged(app, login_as):
    with app.app_context():
        ready, blocked = _open(), _open(profile_verified=False)
    client = login_as("Front Office")
    token = csrf_token(client, TOKEN_PAGE)
    started = client.post(
        "/dossierview/action_post", data={"action": "move_advance", "rowid": [ready, blocked], "csrf_token": token}
    )
    assert started.status_code == 302 and "/dossiermoves/confirm" in started.headers["Location"]
    confirm = page_text(client.get(started.headers["Location"]))
    assert "Konfirmasi: Lanjutkan" in confirm and "2 berkas dipilih" in confirm
    assert _stage(app, ready) == "BERKAS", "nothing moves before the confirmation"

    result = client.post("/dossiermoves/apply", data={"action": "advance", "scope": "ids", "ids": [ready, blocked],
                                                      "csrf_token": token})
    text = page_text(result)
    assert "1 dari 2 berkas dipindahkan; 1 tidak." in text
    assert "Dokumen belum ada atau belum diverifikasi: Profil perusahaan" in text
    # Lanjutkan carries on through the Front Office's following stages while their gates hold.
    assert (_stage(app, ready), _stage(app, blocked)) == (CARRIED_TO, "BERKAS")


def test_the_server_refuses_a_stage_that_is_not_the_users(app, login_as):
    with app.app_context():
        dossier_id = _open()
    client = login_as("Back Office")
    text = page_text(client.post("/dossiermoves/apply", data={
        "action": "advance", "scope": "ids", "ids": [dossier_id], "csrf_token": csrf_token(client, TOKEN_PAGE)}))
    assert "Tahap Berkas dikerjakan oleh Front Office, bukan oleh peran Anda." in text
    assert _stage(app, dossier_id) == "BERKAS"


def test_admin_does_not_bypass_the_gate(app, login_as):
    with app.app_context():
        dossier_id = _open()
    client = login_as("Admin")
    client.post("/dossiermoves/apply", data={"action": "advance", "scope": "ids", "ids": [dossier_id],
                                             "csrf_token": csrf_token(client, TOKEN_PAGE)})
    assert _stage(app, dossier_id) == "BERKAS"


def test_every_row_matching_the_filter_moves_not_just_the_page(app, login_as):
    with app.app_context():
        ids = [_open() for _ in range(30)]  # more than one grid page (25)
        other = _open("REGISTRASI")
        berkas = db.session.scalar(select(Stage.id).where(Stage.code == "BERKAS"))
    client = login_as("Front Office")
    confirm = page_text(client.get(f"/dossiermoves/confirm?action=advance&scope=filter&filter=_flt_0_stage%3D{berkas}"))
    assert "30 berkas dipilih" in confirm
    result = page_text(client.post("/dossiermoves/apply", data={
        "action": "advance", "scope": "filter", "filter": f"_flt_0_stage={berkas}",
        "csrf_token": csrf_token(client, TOKEN_PAGE)}))
    assert "30 dari 30 berkas dipindahkan" in result
    assert {_stage(app, i) for i in ids} == {CARRIED_TO}
    assert _stage(app, other) == "REGISTRASI"  # was not in the filter, and did not move twice
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StageEvent).where(StageEvent.dossier_id == other)) == 1


def test_reject_needs_a_reason_from_the_right_role(app, login_as):
    with app.app_context():
        dossier_id = _open("PEMERIKSAAN_KASI")
    client = login_as("Kasi Perizinan")
    token = csrf_token(client, TOKEN_PAGE)
    form = {"action": "reject", "scope": "ids", "ids": [dossier_id], "csrf_token": token}
    assert "Alasan wajib diisi." in page_text(client.post("/dossiermoves/apply", data={**form, "note": " "}))
    assert "1 dari 1 berkas dipindahkan" in page_text(
        client.post("/dossiermoves/apply", data={**form, "note": "Lokasi pool di sempadan sungai"})
    )
    with app.app_context():
        assert db.session.get(Dossier, dossier_id).status == "rejected"


def test_a_too_large_selection_is_refused_whole(app, login_as, monkeypatch):
    import app.views.moves as moves

    monkeypatch.setattr(moves, "MAX_BULK", 2)
    with app.app_context():
        ids = [_open() for _ in range(3)]
    client = login_as("Front Office")
    response = client.post("/dossiermoves/apply", data={"action": "advance", "scope": "ids", "ids": ids,
                                                        "csrf_token": csrf_token(client, TOKEN_PAGE)},
                           follow_redirects=True)
    assert "Paling banyak 2 berkas sekali pindah" in page_text(response)
    assert {_stage(app, i) for i in ids} == {"BERKAS"}


def test_the_grid_offers_moves_and_a_filter_wide_selection(login_as):
    text = page_text(login_as("Front Office").get("/dossierview/list/"))
    assert "Semua berkas yang cocok dengan filter saat ini:" in text
    assert re.search(r"Kembalikan ke Pemohon", text)


def test_overdue_and_due_today_filters_and_clock_columns(app, login_as):
    with app.app_context(), changes_by(db.session, reason="penyiapan data uji"):
        late, today, later = _open(), _open(), _open()
        now = dt.datetime.now(dt.timezone.utc)
        db.session.get(Dossier, late).due_at = now - dt.timedelta(days=3)
        db.session.get(Dossier, today).due_at = now + dt.timedelta(minutes=1)
        db.session.get(Dossier, later).due_at = now + dt.timedelta(days=30)
        receipts = {i: db.session.get(Dossier, i).receipt_number for i in (late, today, later)}
        db.session.commit()
    client = login_as("Supervisor")
    overdue = page_text(client.get("/dossierview/list/?_flt_2_due_at=1"))
    assert receipts[late] in overdue and receipts[today] not in overdue and receipts[later] not in overdue
    assert "Terlambat" in overdue and "Sisa waktu kerja" in overdue
    due_today = page_text(client.get("/dossierview/list/?_flt_3_due_at=1"))
    # "today" in WIB: a due time one minute ahead is today unless it is just before midnight WIB.
    if dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).time() < dt.time(23, 58):
        assert receipts[today] in due_today
    assert receipts[late] not in due_today and receipts[later] not in due_today


def test_a_move_of_many_dossiers_runs_as_a_job_with_a_workbook_of_what_happened(app, login_as, monkeypatch):
    from io import BytesIO

    from openpyxl import load_workbook

    from app.models import AuditEntry, ReportJob

    monkeypatch.setitem(app.config, "BULK_MOVE_INLINE_MAX", 3)
    with app.app_context():
        ready = [_open() for _ in range(4)]
        blocked = _open(profile_verified=False)
        receipts = {i: db.session.get(Dossier, i).receipt_number for i in (*ready, blocked)}
    client = login_as("Front Office")
    started = client.post("/dossiermoves/apply", data={
        "action": "advance", "scope": "ids", "ids": [*ready, blocked], "csrf_token": csrf_token(client, TOKEN_PAGE)})
    assert started.status_code == 302 and "/reportjobview/show/" in started.headers["Location"]
    job_id = int(started.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    with app.app_context():
        job = db.session.get(ReportJob, job_id)
        assert (job.kind, job.status, job.progress_done, job.progress_total) == ("bulk_move", "done", 5, 5)
        assert [_stage(app, i) for i in ready] == [CARRIED_TO] * 4 and _stage(app, blocked) == "BERKAS"
        moves = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "move",
                                                            AuditEntry.record_id.in_(ready))).all()
        # One audit row per stage carried through: Registrasi, Login, Pengisian Data.
        assert len(moves) == 4 * 3 and {m.record_id for m in moves} == set(ready) and {m.origin for m in moves} == {"job"}
        assert all(m.actor_name.startswith("front_office") for m in moves)
        fo_id = app.appbuilder.sm.find_user(username="front_office").id
        actors = set(db.session.scalars(select(StageEvent.actor_id).where(StageEvent.dossier_id.in_(ready),
                                                                          StageEvent.action == "advance")))
        assert actors == {fo_id}, "moved as the officer who asked"
    book = load_workbook(BytesIO(client.get(f"/reportjobview/download/{job_id}").data))
    rows = {row[0]: row for row in book.active.iter_rows(min_row=2, values_only=True) if row[0]}
    assert rows[receipts[ready[0]]][1] == "Ya" and rows[receipts[blocked]][1] == "Tidak"
    assert "Profil perusahaan" in rows[receipts[blocked]][5]
