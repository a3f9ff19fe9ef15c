"""The dossier page reads the database a bounded number of times: the dossier once, its SOP
situation once, the history and the audit trail in a few queries, permissions from the request's
memo. Counted with a listener on the engine, for a dossier with documents, a return and a
resume in its history, and an issued permit."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Permit
from app.sop.machine import Action, move
from tests.conftest import csrf_token, role_username
from tests.factories import make_dossier
from tests.web.helpers import page_text, statements_of

pytestmark = pytest.mark.usefixtures("clean_db")

MAX_STATEMENTS = 12
ALL_VERIFIED = (
    "SURAT_PERMOHONAN", "PROFIL_PERUSAHAAN", "AKTA_PENDIRIAN", "NIB", "NPWP", "KTP_PENANGGUNG_JAWAB",
    "BUKTI_PENGUASAAN_LAHAN", "DENAH_LOKASI", "DAFTAR_KENDARAAN", "BAP_PEMERIKSAAN_LAPANGAN",
)


def _user_id(app, role: str) -> int:  # noqa: ANN001
    return app.appbuilder.sm.find_user(username=role_username(role)).id


@pytest.fixture()
def issued(app, login_as) -> tuple[int, str]:  # noqa: ANN001
    """A dossier with documents, returned to the applicant and resumed at signing, then numbered:
    its page shows documents, history, audit changes, the return letter and the permit."""
    with app.app_context():
        dossier_id = make_dossier(stage_code="PENANDATANGANAN", verified=ALL_VERIFIED).id
        for action, role in ((Action.RETURN, "Kepala Dinas"), (Action.RESUME, "Front Office")):
            outcome = move(db.session, dossier_id, action, actor_id=_user_id(app, role), roles={role},
                           note="Tanda tangan belum lengkap", now=dt.datetime.now(dt.UTC))
            assert outcome.moved, outcome.reasons
            db.session.commit()
    client = login_as("Kepala Dinas")
    result = page_text(client.post("/dossiermoves/apply", data={
        "action": "advance", "scope": "ids", "ids": [dossier_id], "csrf_token": csrf_token(client, "/resetmypassword/form")}))
    assert "1 dari 1 berkas dipindahkan" in result
    with app.app_context():
        number = db.session.scalar(select(Permit.number).where(Permit.dossier_id == dossier_id))
    return dossier_id, number


@pytest.mark.parametrize("role", ["Back Office", "Front Office"])
def test_the_dossier_page_runs_a_bounded_number_ofstatements_of(app, login_as, issued, role):
    dossier_id, number = issued
    client = login_as(role)
    client.get(f"/dossierview/show/{dossier_id}")  # the first request of a client warms nothing shared
    statements, text = statements_of(app, client, f"/dossierview/show/{dossier_id}")
    assert number in text and "Tanda tangan belum lengkap" in text
    assert len(statements) <= MAX_STATEMENTS, f"{len(statements)} statements:\n" + "\n".join(
        " ".join(s.split())[:160] for s in statements)


PAGE_SIZES = "psize_DocumentView=25&psize_StageEventView=25"


def _without_request_tokens(text: str) -> str:
    """The page without what differs per request (nonce, CSRF token) or per address (the page sizes
    asked for, which FAB's links carry on)."""
    text = re.sub(r"psize_DocumentView=25(&amp;|&)psize_StageEventView=25(&amp;|&)?", "", text)
    text = re.sub(r'nonce="[^"]*"', "", text)
    return re.sub(r'name="csrf_token" (type="hidden" )?value="[^"]*"|value="[^"]*" name="csrf_token"', "", text)


def test_the_documents_and_history_tabs_read_from_the_page_show_what_fabs_own_query_shows(app, login_as, issued):
    """The tabs are built from the rows the page loaded; asking for a page size makes FAB query
    them itself, and the page is the same."""
    dossier_id, _ = issued
    client = login_as("Back Office")
    preloaded = page_text(client.get(f"/dossierview/show/{dossier_id}"))
    queried = page_text(client.get(f"/dossierview/show/{dossier_id}?{PAGE_SIZES}"))
    assert "AKTA_PENDIRIAN.pdf" in preloaded and "Tanda tangan belum lengkap" in preloaded
    assert _without_request_tokens(preloaded) == _without_request_tokens(queried)
