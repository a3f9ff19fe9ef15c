"""Batch signing: the Kepala Dinas signs every dossier at the signing stage that the grid's filter
matches, with one passphrase, as a job; each dossier moves only with its permit signed."""
from __future__ import annotations

import json
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.jobs import batch_signing
from app.models import AuditEntry, Dossier, Permit, PermitSignature, ReportJob
from app.printing import signed_permit_file
from app.tte import SigningRefused, TrustSettings, check_pdf
from tests.factories import make_dossier
from tests.web.signing_setup import awaiting_signature, forget_certificates, give_certificate, trust_test_pki

pytest_plugins = ("tests.pki",)
pytestmark = pytest.mark.usefixtures("clean_db")
TOKEN_PAGE = "/resetmypassword/form"


@pytest.fixture()
def kadis(app, pki, login_as, monkeypatch):  # noqa: ANN001, ANN201
    trust_test_pki(app, pki, monkeypatch)
    with app.app_context():
        give_certificate(app, pki)
    yield login_as("Kepala Dinas")
    with app.app_context():
        forget_certificates()


def _token(client) -> str:  # noqa: ANN001
    from tests.conftest import csrf_token

    return csrf_token(client, TOKEN_PAGE)


def _stage(dossier_id: int) -> str:
    return db.session.get(Dossier, dossier_id).stage.code


def test_a_wrong_passphrase_is_refused_before_any_job_starts(app, kadis):
    with app.app_context():
        awaiting_signature(2)
    confirm = kadis.get("/batchsigning/confirm?filter=")
    assert confirm.status_code == 200 and 'id="batch-sign-form"' in confirm.get_data(as_text=True)
    refused = kadis.post("/batchsigning/start", data={"filter": "", "passphrase": "bukan-sandinya",
                                                      "csrf_token": _token(kadis)})
    assert refused.status_code == 400
    assert 'id="batch-sign-error"' in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(ReportJob.id)) is None
        assert db.session.scalar(select(Permit.id)) is None


def test_the_job_signs_and_moves_the_others_and_reports_the_ones_it_could_not(app, kadis, pki, monkeypatch):
    with app.app_context():
        ready = awaiting_signature(3)
        failing = awaiting_signature(1)[0]
        blocked = awaiting_signature(1, verified=False)[0]  # the gate refuses: a requirement unverified
        elsewhere = make_dossier(stage_code="BERKAS").id  # not at the signing stage: not in the batch
        receipts = {i: db.session.get(Dossier, i).receipt_number for i in (*ready, failing, blocked)}
    real = batch_signing.sign_issued_permit

    def sign_but_fail_one(session, permit, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if permit.dossier_id == failing:
            raise SigningRefused("Layanan penandatanganan tidak menjawab (uji).")
        return real(session, permit, *args, **kwargs)

    real_keep = batch_signing.keep_signature

    def keep_but_fail_one(session, permit, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if permit.dossier_id == failing:  # the workers' path: the chunk falls back to one by one
            raise SigningRefused("Layanan penandatanganan tidak menjawab (uji).")
        return real_keep(session, permit, *args, **kwargs)

    monkeypatch.setattr(batch_signing, "sign_issued_permit", sign_but_fail_one)
    monkeypatch.setattr(batch_signing, "keep_signature", keep_but_fail_one)
    started = kadis.post("/batchsigning/start", data={"filter": "", "passphrase": pki.PASSPHRASE,
                                                      "csrf_token": _token(kadis)})
    assert started.status_code == 302 and "/reportjobview/show/" in started.headers["Location"]
    job_id = int(started.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    with app.app_context():
        job = db.session.get(ReportJob, job_id)
        assert (job.kind, job.status, job.progress_done, job.progress_total) == ("batch_sign", "done", 5, 5), job.error
        # The passphrase (sealed or not) is not kept in the job's row, nor anywhere in the trail.
        assert batch_signing.PASSPHRASE_KEY not in job.parameters
        assert pki.PASSPHRASE not in json.dumps(job.parameters)
        trail = db.session.scalars(select(AuditEntry)).all()
        assert trail and not any(pki.PASSPHRASE in json.dumps([a.changes, a.reason]) for a in trail)
        assert [_stage(i) for i in ready] == ["PENOMORAN_CETAK"] * 3, [_stage(i) for i in ready]
        assert (_stage(failing), _stage(blocked), _stage(elsewhere)) == ("PENANDATANGANAN", "PENANDATANGANAN", "BERKAS")
        permits = db.session.scalars(select(Permit).order_by(Permit.seq)).all()
        assert sorted(p.dossier_id for p in permits) == sorted(ready)
        assert [p.seq for p in permits] == [1, 2, 3], "the failed signature took no number"
        assert len(db.session.scalars(select(PermitSignature)).all()) == 3
    book = load_workbook(BytesIO(kadis.get(f"/reportjobview/download/{job_id}").data))
    rows = {row[0]: row for row in book.active.iter_rows(min_row=2, values_only=True) if row[0]}
    assert set(rows) == set(receipts.values())
    assert all(rows[receipts[i]][1] == "Ya" and rows[receipts[i]][4] for i in ready)
    assert rows[receipts[failing]][1] == "Tidak" and "tidak menjawab" in rows[receipts[failing]][5]
    assert rows[receipts[blocked]][1] == "Tidak" and rows[receipts[blocked]][5]


def test_a_retried_job_finds_no_passphrase_and_signs_nothing(app, pki, monkeypatch):
    from flask import current_app

    from app.jobs.context import JobContext, ReportRefused

    trust_test_pki(app, pki, monkeypatch)
    with app.app_context(), app.test_request_context():
        parameters = {"filter": "", "user_id": current_app.appbuilder.sm.find_user(username="kepala_dinas").id}
        with pytest.raises(ReportRefused, match="Mulai lagi"):
            batch_signing.batch_sign(JobContext.current(), parameters, None, lambda *a: None)


def test_the_batch_signs_in_the_print_workers(app, kadis, pki, monkeypatch):
    """Nothing failing: every permit is rendered and signed by the worker processes, a chunk at a
    time, and none by the one-by-one path."""
    with app.app_context():
        ready = awaiting_signature(6)

    def not_one_by_one(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("signed one by one, not by the workers")

    monkeypatch.setattr(batch_signing, "sign_issued_permit", not_one_by_one)
    monkeypatch.setattr(batch_signing, "CHUNK_PER_WORKER", 2)  # 2 workers (TestConfig): chunks of 4, then 2
    started = kadis.post("/batchsigning/start", data={"filter": "", "passphrase": pki.PASSPHRASE,
                                                      "csrf_token": _token(kadis)})
    job_id = int(started.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    with app.app_context():
        job = db.session.get(ReportJob, job_id)
        assert (job.status, job.progress_done) == ("done", 6), job.error
        assert [_stage(i) for i in ready] == ["PENOMORAN_CETAK"] * 6
        assert [p.seq for p in db.session.scalars(select(Permit).order_by(Permit.seq))] == [1, 2, 3, 4, 5, 6]
        signatures = db.session.scalars(select(PermitSignature)).all()
        assert len(signatures) == 6 and {s.level for s in signatures} == {"B-B"}
        signed = signed_permit_file(db.session, signatures[0].permit_id, app.config["DOCUMENTS_DIR"])
        (signature,) = check_pdf(signed, TrustSettings.from_config(app.config)).signatures
        assert signature.intact and signature.trusted and signature.covers_whole_file
