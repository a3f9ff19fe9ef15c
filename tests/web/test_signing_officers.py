"""Papers are signed by the officer who did the act, with their NIP; the field inspection needs
its signed Berita Acara before the dossier moves on; officers' NIP and jabatan are kept on their
accounts (issue 14)."""
from __future__ import annotations

import datetime as dt
import io
import secrets

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy import text as sql

from app import create_app
from app.extensions import db
from app.models import Document, Dossier, PermitType, RequirementType, Stage
from app.security.officers import Officer
from app.sop.machine import Action, move
from config import BASE_DIR, TestConfig
from tests.conftest import csrf_token, post_form, signed_in_client
from tests.factories import make_dossier
from tests.web.helpers import page_text
from tests.web.test_documents import pdf_bytes
from tests.web.test_papers import TOKEN_PAGE, pdf_text

pytestmark = pytest.mark.usefixtures("clean_db")

BAP = "BAP_PEMERIKSAAN_LAPANGAN"
BAP_NAME = "Berita Acara Pemeriksaan Lapangan (ditandatangani Tim Teknis)"
NOW = dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.UTC)  # Monday 09.00 WIB


def _mandatory_but_bap() -> tuple[str, ...]:
    permit = db.session.scalar(select(PermitType))
    return tuple(r.code for r in permit.requirements if r.is_mandatory and r.code != BAP)


def _officer(app: Flask, role: str, first: str, last: str, nip: str | None = None, position: str | None = None) -> int:
    """A fresh account of this role, with its NIP and jabatan."""
    with app.app_context():
        sm = app.appbuilder.sm
        username = f"uji_{secrets.token_hex(4)}"
        user = sm.add_user(username, first, last, f"{username}@uji.invalid", sm.find_role(role), password="rahasia-uji")
        user.nip, user.position = nip, position
        db.session.commit()
        return user.id


def _paper(client, dossier_id: int, paper: str) -> str:  # noqa: ANN001
    response = client.get(f"/papers/{dossier_id}/{paper}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf", response.status_code
    return " ".join(pdf_text(response.data).split())


# ---------------------------------------------------------------------------- the signed BAP


def test_the_signed_bap_blocks_leaving_the_field_inspection_until_it_is_verified(app):
    inspector = _officer(app, "Tim Teknis", "Agustinus", "Dedi", nip="198204112006041003")
    with app.app_context():
        dossier_id = make_dossier(stage_code="PEMERIKSAAN_LAPANGAN", verified=_mandatory_but_bap()).id
        bap = db.session.scalar(select(RequirementType).where(RequirementType.code == BAP))
        assert (bap.name, bap.is_mandatory, bap.due_stage.code) == (BAP_NAME, True, "PEMERIKSAAN_LAPANGAN")
        bap_id = bap.id

    def advance():  # noqa: ANN202
        with app.app_context():
            outcome = move(db.session, dossier_id, Action.ADVANCE, actor_id=inspector, roles={"Tim Teknis"},
                           note=None, now=NOW)
            db.session.commit()
            return outcome

    blocked = advance()
    assert not blocked.moved
    assert list(blocked.reasons) == [f"Dokumen belum ada atau belum diverifikasi: {BAP_NAME}"]
    # The inspecting officer files the signed paper in its own slot on the dossier page.
    client = signed_in_client(app, inspector)
    page = client.get(f"/dossierview/show/{dossier_id}").get_data(as_text=True)
    assert BAP_NAME in page and f'name="file_{bap_id}" form="upload-papers"' in page
    token = csrf_token(client, TOKEN_PAGE)
    uploaded = client.post(
        f"/documentfiles/upload/{dossier_id}", content_type="multipart/form-data", follow_redirects=True,
        data={"csrf_token": token, "requirement_id": bap_id, "file": (io.BytesIO(pdf_bytes("BAP ttd")), "bap-ttd.pdf")},
    )
    assert "bap-ttd.pdf" in page_text(uploaded)
    assert not advance().moved  # uploaded, not yet verified
    with app.app_context():
        document_id = db.session.scalar(select(Document.id).where(Document.dossier_id == dossier_id,
                                                                  Document.requirement_type_id == bap_id))
    client.post(f"/documentfiles/verify/{document_id}", data={"csrf_token": token})
    with app.app_context():
        assert db.session.get(Document, document_id).verified_by_id == inspector
    assert advance().moved
    with app.app_context():
        assert db.session.scalar(
            select(Stage.code).join(Dossier, Dossier.stage_id == Stage.id).where(Dossier.id == dossier_id)
        ) == "DRAFT_IZIN"


def test_the_bap_names_the_tim_teknis_officer_printing_it_and_the_slot_it_goes_back_to(app, login_as):
    inspector = _officer(app, "Tim Teknis", "Agustinus", "Dedi", nip="198204112006041003", position="Penguji Kendaraan")
    with app.app_context():
        dossier_id = make_dossier(stage_code="PEMERIKSAAN_LAPANGAN", verified=_mandatory_but_bap()).id
    text = _paper(signed_in_client(app, inspector), dossier_id, "inspection_report")
    assert "BERITA ACARA PEMERIKSAAN LAPANGAN" in text
    assert "Agustinus Dedi" in text and "198204112006041003" in text and "Penguji Kendaraan" in text
    assert BAP_NAME in text  # where the signed paper is uploaded
    # The Back Office prints it before the inspection: no inspector yet, the line is left blank.
    text = _paper(login_as("Back Office"), dossier_id, "inspection_report")
    assert "Agustinus Dedi" not in text and "Tim Teknis," in text and "NIP. ....." in text
    # Once the officer moved the dossier on, a re-print by anyone names who inspected.
    with app.app_context():
        db.session.add(Document(
            dossier_id=dossier_id, requirement_type_id=db.session.scalar(
                select(RequirementType.id).where(RequirementType.code == BAP)),
            original_filename="bap.pdf", storage_key="c" * 64, size_bytes=1, sha256="c" * 64,
            uploaded_at=NOW, verified_at=NOW,
        ))
        db.session.commit()
        assert move(db.session, dossier_id, Action.ADVANCE, actor_id=inspector, roles={"Tim Teknis"}, note=None,
                    now=NOW).moved
        db.session.commit()
    text = _paper(login_as("Back Office"), dossier_id, "inspection_report")
    assert "Agustinus Dedi" in text and "NIP. 198204112006041003" in text


# ---------------------------------------------------------------------------- who signs


def test_the_return_letter_is_signed_by_the_front_office_officer_who_returned_it(app, login_as):
    officer = _officer(app, "Front Office", "Maria", "Goreti", nip="198703152010012004")
    with app.app_context():
        dossier_id = make_dossier(stage_code="ENTRY_DATA", verified=("PROFIL_PERUSAHAAN",)).id
        outcome = move(db.session, dossier_id, Action.RETURN, actor_id=officer, roles={"Front Office"},
                       note="KTP penanggung jawab tidak terbaca", now=NOW)
        db.session.commit()
        assert outcome.moved
    text = _paper(login_as("Back Office"), dossier_id, "return_letter")
    assert "Petugas Front Office" in text and "Petugas Back Office" not in text
    assert "Maria Goreti" in text and "NIP. 198703152010012004" in text


def test_the_return_letter_of_a_returner_back_office_says_back_office(app, login_as):
    officer = _officer(app, "Back Office", "Yosef", "Ateng")  # no NIP on file: none printed
    with app.app_context():
        dossier_id = make_dossier(stage_code="VERIFIKASI", verified=_mandatory_but_bap()).id
        assert move(db.session, dossier_id, Action.RETURN, actor_id=officer, roles={"Back Office"},
                    note="Denah tidak berskala", now=NOW).moved
        db.session.commit()
    text = _paper(login_as("Front Office"), dossier_id, "return_letter")
    assert "Petugas Back Office" in text and "Yosef Ateng" in text and "NIP." not in text


def test_without_a_known_officer_the_paper_keeps_the_role_and_a_line_to_sign_on(app, login_as):
    with app.app_context():
        dossier_id = make_dossier(stage_code="ENTRY_DATA").id  # opened by nobody known (an import)
        assert move(db.session, dossier_id, Action.RETURN, actor_id=None, roles={"Front Office"},
                    note="Berkas tidak lengkap", now=NOW).moved
        db.session.commit()
    client = login_as("Front Office")
    for paper in ("return_letter", "receipt"):
        text = _paper(client, dossier_id, paper)
        assert "Petugas Front Office" in text and "(......" in text, paper


def test_the_receipt_is_signed_by_the_officer_who_received_the_file(app, login_as):
    officer = _officer(app, "Front Office", "Benediktus", "Alon", nip="199001012015031002",
                       position="Pengelola Layanan")
    with app.app_context():
        dossier_id = make_dossier(actor_id=officer, verified=("PROFIL_PERUSAHAAN",)).id
    text = _paper(login_as("Back Office"), dossier_id, "receipt")
    assert "Petugas Front Office" in text and "Benediktus Alon" in text and "NIP. 199001012015031002" in text


# ---------------------------------------------------------------------------- NIP and jabatan


def test_admin_keeps_an_officers_nip_and_jabatan_and_refuses_a_nip_that_is_not_18_digits(app, login_as):
    admin = login_as("Admin")
    with app.app_context():
        role_id = app.appbuilder.sm.find_role("Front Office").id
    username = f"uji_{secrets.token_hex(4)}"
    form = {"first_name": "Sari", "last_name": "Dewi", "username": username, "email": f"{username}@uji.invalid",
            "active": "y", "roles": str(role_id), "password": "kuda-laut berlari pagi",
            "conf_password": "kuda-laut berlari pagi", "position": "Pengadministrasi Umum"}
    for bad in ("12345", "1987031520100120041", "19870315201001200A"):
        page = page_text(post_form(admin, "/users/add", {**form, "nip": bad}, follow_redirects=True))
        assert "18 digit" in page, bad
    with app.app_context():
        assert app.appbuilder.sm.find_user(username=username) is None
    post_form(admin, "/users/add", {**form, "nip": "19870315 201001 2 004"})
    with app.app_context():
        created = app.appbuilder.sm.find_user(username=username)
        assert (created.nip, created.position) == ("198703152010012004", "Pengadministrasi Umum")
        user_id = created.id
    page = page_text(admin.get(f"/users/show/{user_id}"))
    assert "198703152010012004" in page and "Pengadministrasi Umum" in page
    edit = {key: form[key] for key in ("first_name", "last_name", "username", "email", "active", "roles")}
    page = page_text(post_form(admin, f"/users/edit/{user_id}", {**edit, "nip": "1987", "position": ""},
                               follow_redirects=True))
    assert "18 digit" in page
    post_form(admin, f"/users/edit/{user_id}", {**edit, "nip": "", "position": ""})
    with app.app_context():
        edited = db.session.get(Officer, user_id)
        db.session.refresh(edited)
        assert (edited.nip, edited.position) == (None, None)  # emptied, not ''


def test_an_officer_sets_their_own_nip_and_jabatan(app):
    user_id = _officer(app, "Tim Teknis", "Paulus", "Ajun")
    client = signed_in_client(app, user_id)
    url = "/userinfoeditview/form"
    page = page_text(post_form(client, url, {"first_name": "Paulus", "last_name": "Ajun", "nip": "12-34"},
                               follow_redirects=True))
    assert "18 digit" in page
    post_form(client, url, {"first_name": "Paulus", "last_name": "Ajun", "nip": "198204112006041003",
                            "position": "Penguji Kendaraan"})
    with app.app_context():
        officer = db.session.get(Officer, user_id)
        assert (officer.nip, officer.position) == ("198204112006041003", "Penguji Kendaraan")
    assert "198204112006041003" in page_text(client.get(url))


# ---------------------------------------------------------------------------- an existing database


def test_migration_0013_gives_an_existing_database_the_bap_requirement(app, tmp_path):  # noqa: ARG001
    """A database made and loaded before the BAP requirement existed gets it from the migration,
    at the field inspection, and the next SOP load keeps that very row."""
    from flask_migrate import upgrade

    from app.bootstrap import load_sop_files

    old_sop = tmp_path / "sop"
    old_sop.mkdir()
    text = (BASE_DIR / "seed" / "sop" / "izin_pool_kendaraan.yaml").read_text(encoding="utf-8")
    head, _, _ = text.partition("  # The Tim Teknis prints the blank BAP")
    assert BAP not in head
    (old_sop / "izin_pool_kendaraan.yaml").write_text(head, encoding="utf-8")

    class OldDatabase(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'old.db'}"

    old = create_app(OldDatabase)
    with old.app_context():
        upgrade(revision="0012")
        # Today's models read requirement_type.required_since, which 0013 adds (and skips when present).
        db.session.execute(sql("ALTER TABLE requirement_type ADD COLUMN required_since TIMESTAMP"))
        # And stage.invites_survey, which 0022 adds (and skips when present).
        db.session.execute(sql("ALTER TABLE stage ADD COLUMN invites_survey BOOLEAN DEFAULT 0 NOT NULL"))
        # And stage.online_event, which 0023 adds (and skips when present).
        db.session.execute(sql("ALTER TABLE stage ADD COLUMN online_event VARCHAR(20)"))
        db.session.commit()
        load_sop_files(str(old_sop))
        assert db.session.scalar(select(RequirementType).where(RequirementType.code == BAP)) is None
        upgrade(revision="0013")
        db.session.expire_all()
        added = db.session.scalar(select(RequirementType).where(RequirementType.code == BAP))
        assert (added.name, added.is_mandatory, added.seq, added.due_stage.code) == (
            BAP_NAME, True, 11, "PEMERIKSAAN_LAPANGAN")
        assert added.required_since is not None  # dossiers already past the inspection are not stopped
        upgrade()
        load_sop_files()  # seed/sop as it is now
        db.session.expire_all()
        kept = db.session.scalars(select(RequirementType).where(RequirementType.code == BAP)).one()
        assert kept.id == added.id and kept.name == BAP_NAME
        db.session.remove()
        db.engine.dispose()
