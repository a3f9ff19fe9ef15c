"""The Front Office and a dossier applied for online: Lanjutkan records the applicant's own steps
(account verified, signed in, data filled) as the applicant's; the dossier page says it was applied
for online and, once the applicant sent the missing papers of a return, that it is ready to resume;
the grid finds those; the search box finds the dossier by its receipt number."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from app.audit import changes_by
from app.extensions import db
from app.models import AuditEntry, Dossier, DossierStatus, StageEvent
from app.security.roles import PEMOHON
from tests.conftest import csrf_token, signed_in_client, wipe_business_tables
from tests.factories import make_applicant, make_company, make_dossier
from tests.unit.test_carry import FRONT_OFFICE_PAPERS
from tests.web.helpers import page_text, statements_of

FO = "Front Office"
TOKEN_PAGE = "/resetmypassword/form"
EMAIL = "siti.daring@contoh.id"
SUBMITTED_AT = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.UTC)  # Monday 09.00 WIB
SIGNED_IN_AT = dt.datetime(2026, 11, 30, 1, 45, tzinfo=dt.UTC)  # 08.45 WIB


@pytest.fixture()
def account(app):  # noqa: ANN001, ANN201
    """An applicant's portal account (role Pemohon), signed in shortly before submitting; deleted after."""
    with app.app_context():
        sm = app.appbuilder.sm
        user = sm.add_user(EMAIL, "Siti", "Aminah", EMAIL, sm.find_role(PEMOHON), hashed_password="!")
        user.last_login = SIGNED_IN_AT.astimezone().replace(tzinfo=None)  # FAB's naive server time
        db.session.commit()
        account_id = user.id
        created = user.created_on.astimezone(dt.UTC)
    yield {"id": account_id, "created_on": created}
    with app.app_context():
        wipe_business_tables()  # the applicant and the history point at the account
        db.session.delete(app.appbuilder.sm.get_user_by_id(account_id))
        db.session.commit()


def _open_online(account: dict, *, verified: tuple[str, ...] = FRONT_OFFICE_PAPERS) -> Dossier:
    company = make_company()
    applicant = make_applicant(company, email=EMAIL, account_id=account["id"])
    dossier = make_dossier(company, applicant, submitted_at=SUBMITTED_AT, actor_id=account["id"], verified=verified)
    with changes_by(db.session, reason="penyiapan data uji"):
        dossier.submitted_online = True
        db.session.commit()
    return dossier


def _apply(client, action: str, dossier_id: int, note: str = ""):  # noqa: ANN001, ANN202
    return client.post("/dossiermoves/apply", data={"action": action, "scope": "ids", "ids": [dossier_id],
                                                    "note": note, "csrf_token": csrf_token(client, TOKEN_PAGE)})


def _wib(instant: dt.datetime) -> str:
    return f"{instant.astimezone(dt.timezone(dt.timedelta(hours=7))):%d-%m-%Y %H.%M} WIB"


def test_lanjutkan_on_an_online_dossier_shows_the_applicants_own_steps_in_the_history(app, login_as, account):
    with app.app_context():
        dossier_id = _open_online(account).id
        fo_id = app.appbuilder.sm.find_user(username="front_office").id
    client = login_as(FO)

    page = page_text(client.get(f"/dossierview/show/{dossier_id}"))
    assert 'id="dossier-online"' in page and 'id="dossier-ready-to-resume"' not in page

    _apply(client, "advance", dossier_id)

    with app.app_context():
        # The company's deed is not on file: ENTRY_DATA's gate holds the carry, as for any dossier.
        assert db.session.get(Dossier, dossier_id).stage.code == "ENTRY_DATA"
        moves = db.session.execute(
            select(StageEvent.actor_id, StageEvent.note).where(StageEvent.dossier_id == dossier_id,
                                                               StageEvent.action == "advance").order_by(StageEvent.id)
        ).all()
        trail = db.session.execute(
            select(AuditEntry.actor_id, AuditEntry.actor_name)
            .where(AuditEntry.dossier_id == dossier_id, AuditEntry.action == "move").order_by(AuditEntry.id)
        ).all()
    notes = [
        f"Dilakukan pemohon secara daring: akun terverifikasi {_wib(account['created_on'])}",
        f"Dilakukan pemohon secara daring: masuk ke aplikasi {_wib(SIGNED_IN_AT)}",
        f"Dilakukan pemohon secara daring: data permohonan diisi {_wib(SUBMITTED_AT)}",
    ]
    me = account["id"]
    assert [tuple(m) for m in moves] == [(fo_id, None), (me, notes[0]), (me, notes[1]), (me, notes[2]), (fo_id, None)]
    assert [t.actor_id for t in trail] == [fo_id, me, me, me, fo_id]
    assert trail[1].actor_name == f"{EMAIL} (Siti Aminah)"

    history = page_text(client.get(f"/dossierview/show/{dossier_id}"))
    table = re.search(r'id="dossier-history".*?</table>', history, re.DOTALL).group(0)
    for note in notes:
        row = next(tr for tr in table.split("<tr")[1:] if note in tr)
        assert "Siti Aminah" in row  # the applicant, not the clerk, did this step


def test_a_returned_dossier_whose_applicant_sent_the_papers_says_it_is_ready_and_the_grid_finds_it(
    app, login_as, account,
):
    with app.app_context():
        ready = _open_online(account, verified=("PROFIL_PERUSAHAAN",))
        waiting = make_dossier(verified=("PROFIL_PERUSAHAAN",))  # a counter dossier returned, nothing sent yet
        ready_id, waiting_id = ready.id, waiting.id
        ready_receipt, waiting_receipt = ready.receipt_number, waiting.receipt_number
    client = login_as(FO)
    for dossier_id in (ready_id, waiting_id):
        _apply(client, "return", dossier_id, note="Akta pendirian belum dilampirkan")
    sent = dt.datetime(2026, 12, 1, 3, 12, tzinfo=dt.UTC)  # 10.12 WIB
    with app.app_context():
        with changes_by(db.session, reason="pemohon mengirim kelengkapan"):
            db.session.get(Dossier, ready_id).resubmitted_at = sent  # "Kirim kelengkapan" on the portal
            db.session.commit()

    page = page_text(client.get(f"/dossierview/show/{ready_id}"))
    notice = re.search(r'id="dossier-ready-to-resume".*?</div>', page, re.DOTALL)
    assert notice and "1 Desember 2026 10.12" in notice.group(0)
    assert page.index('id="dossier-ready-to-resume"') < page.index("Lanjutkan Kembali")
    assert 'id="dossier-ready-to-resume"' not in page_text(client.get(f"/dossierview/show/{waiting_id}"))

    client.get("/dossierview/list/?_flt_3_status=1")  # warm the per-process caches
    seen, grid = statements_of(app, client, "/dossierview/list/?_flt_3_status=1")
    assert ready_receipt in grid and waiting_receipt not in grid
    assert len(seen) <= 8, seen
    online = page_text(client.get("/dossierview/list/?_flt_4_status=1"))
    assert ready_receipt in online and waiting_receipt not in online

    _apply(client, "resume", ready_id)
    with app.app_context():
        dossier = db.session.get(Dossier, ready_id)
        assert dossier.status == DossierStatus.IN_PROGRESS.value and dossier.resubmitted_at is None
    assert 'id="dossier-ready-to-resume"' not in page_text(client.get(f"/dossierview/show/{ready_id}"))
    assert ready_receipt not in page_text(client.get("/dossierview/list/?_flt_3_status=1"))


def test_the_front_office_finds_an_online_dossier_by_its_receipt_number(app, login_as, account):
    with app.app_context():
        dossier = _open_online(account)
        dossier_id, receipt = dossier.id, dossier.receipt_number
    response = login_as(FO).get("/cari/", query_string={"q": receipt})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/dossierview/show/{dossier_id}")
    # As read off the Tanda Terima, in small letters.
    assert login_as(FO).get("/cari/", query_string={"q": receipt.lower()}).status_code == 302


def test_a_counter_dossier_has_no_online_badge(app, login_as, clean_db):
    with app.app_context():
        dossier_id = make_dossier().id
    page = page_text(login_as(FO).get(f"/dossierview/show/{dossier_id}"))
    assert 'id="dossier-online"' not in page and 'id="dossier-ready-to-resume"' not in page


def test_the_staff_page_is_closed_to_the_applicants_account(app, account):
    with app.app_context():
        dossier_id = _open_online(account).id
    client = signed_in_client(app, account["id"])
    assert client.get(f"/dossierview/show/{dossier_id}").status_code in (302, 403)
