"""The move flow as an officer lives it: the confirmation judges first, a single move answers on the
dossier's page, a return leads to its letter, and the next dossier of the queue is one click away."""
from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from app.audit import changes_by
from app.extensions import db
from app.models import Dossier, Stage, StageEvent
from app.sop.machine import Action, move
from app.sop.queue import next_in_queue
from tests.conftest import csrf_token
from tests.factories import make_dossier
from tests.web.helpers import page_text

pytestmark = pytest.mark.usefixtures("clean_db")
TOKEN_PAGE = "/resetmypassword/form"
NOT_VERIFIED = "Dokumen belum ada atau belum diverifikasi: Profil perusahaan"


class _FormReader(HTMLParser):
    """The inputs of the confirmation's form (id="move-confirm"), as the browser would send them."""

    def __init__(self) -> None:
        super().__init__()
        self.inside, self.found, self.fields = False, False, {}

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id") == "move-confirm":
            self.inside = self.found = True
        elif tag == "input" and self.inside and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


def confirm_form(page: str) -> dict[str, str] | None:
    reader = _FormReader()
    reader.feed(page)
    return reader.fields if reader.found else None


def _open(stage_code: str = "BERKAS", profile_verified: bool = True, due_in_days: float | None = None) -> Dossier:
    dossier = make_dossier(stage_code=stage_code, verified=("PROFIL_PERUSAHAAN",) if profile_verified else ())
    if due_in_days is not None:
        with changes_by(db.session, reason="penyiapan data uji"):
            dossier.due_at = dt.datetime.now(dt.UTC) + dt.timedelta(days=due_in_days)
            db.session.commit()
    return dossier


def _set_status(dossier_id: int, status: str) -> None:
    with changes_by(db.session, reason="penyiapan data uji"):
        db.session.get(Dossier, dossier_id).status = status
        db.session.commit()


def _stage_name(app, dossier_id: int) -> str:  # noqa: ANN001
    with app.app_context():
        return db.session.get(Dossier, dossier_id).stage.name


def test_confirmation_counts_what_will_move_and_names_the_refused_with_their_reasons(app, login_as):
    with app.app_context():
        ready, blocked = _open(), _open(profile_verified=False)
        ready_id, blocked_id, blocked_receipt = ready.id, blocked.id, blocked.receipt_number
    client = login_as("Front Office")
    confirm = client.get(f"/dossiermoves/confirm?action=advance&ids={ready_id}&ids={blocked_id}")
    text = page_text(confirm)
    assert "2 berkas dipilih: 1 akan dipindahkan, 1 tidak." in text
    refused = text.split('id="move-refused"', 1)[1].split('id="move-movable"', 1)[0]
    assert blocked_receipt in refused and NOT_VERIFIED in refused
    form = confirm_form(text)
    assert form is not None and "Ya, Lanjutkan (1)" in text
    assert form["ids"] == f"{ready_id}:1", "the button moves only the dossier judged movable, as judged (version 1)"
    assert "after" not in form, "several dossiers answer on the result page"
    assert _stage_name(app, ready_id) == "Berkas", "confirming writes nothing"

    result = page_text(client.post("/dossiermoves/apply", data=form))
    assert "1 dari 1 berkas dipindahkan; 0 tidak." in result
    assert f'href="/dossierview/show/{ready_id}"' in result, "the result links each dossier"
    assert 'id="move-next"' in result, "the Front Office's queue still holds both"
    assert _stage_name(app, ready_id) != "Berkas" and _stage_name(app, blocked_id) == "Berkas"


def test_many_refusals_are_grouped_by_reason(app, login_as, monkeypatch):
    from app.views import moves

    monkeypatch.setattr(moves, "REFUSED_LISTED", 1)
    with app.app_context():
        blocked = [_open(profile_verified=False) for _ in range(3)]
        receipts = [d.receipt_number for d in blocked]
        ids = "&".join(f"ids={d.id}" for d in blocked)
    text = page_text(login_as("Front Office").get(f"/dossiermoves/confirm?action=advance&{ids}"))
    grouped = text.split('id="move-refused-reasons"', 1)[1].split("</dl>", 1)[0]
    assert grouped.count(NOT_VERIFIED) == 1 and "3 berkas" in grouped
    assert all(receipt in grouped for receipt in receipts)


def test_no_confirm_button_when_nothing_can_move_only_the_reasons_and_a_way_back(app, login_as):
    with app.app_context():
        archived = _open("PENGARSIPAN")
        _set_status(archived.id, "archived")
        dossier_id, receipt = archived.id, archived.receipt_number
    text = page_text(login_as("Kepala Dinas").get(f"/dossiermoves/confirm?action=advance&scope=ids&ids={dossier_id}"))
    assert "1 berkas dipilih: 0 akan dipindahkan, 1 tidak." in text
    assert receipt in text and "Berkas sudah selesai dan diarsipkan; tidak dapat dipindahkan lagi." in text
    assert confirm_form(text) is None and "Ya, Lanjutkan" not in text
    assert "Tidak satu pun berkas yang dipilih dapat dipindahkan" in text
    assert f'href="/dossierview/show/{dossier_id}">Kembali</a>' in text, "back to the dossier it came from"


def test_a_single_move_from_the_dossier_page_lands_back_on_it_with_a_flash(app, login_as):
    with app.app_context():
        dossier = _open(due_in_days=5)
        waiting = _open(due_in_days=1)  # the Front Office's next: due sooner
        dossier_id, receipt, waiting_id = dossier.id, dossier.receipt_number, waiting.id
    client = login_as("Front Office")
    show = page_text(client.get(f"/dossierview/show/{dossier_id}"))
    link = f"/dossiermoves/confirm?action=advance&scope=ids&ids={dossier_id}"
    assert f'href="{link}"' in show
    form = confirm_form(page_text(client.get(link)))
    assert form is not None and form["after"] == "dossier" and form["ids"] == f"{dossier_id}:1"

    moved = client.post("/dossiermoves/apply", data=form)
    assert moved.status_code == 302 and moved.headers["Location"].endswith(f"/dossierview/show/{dossier_id}")
    page = page_text(client.get(moved.headers["Location"]))
    with app.app_context():  # carried on through the Front Office's stages: every one in the message
        path = db.session.scalars(select(Stage.name).join(StageEvent, StageEvent.to_stage_id == Stage.id).where(
            StageEvent.dossier_id == dossier_id, StageEvent.action == "advance").order_by(StageEvent.id)).all()
    assert path and path[-1] == _stage_name(app, dossier_id)
    assert f"Berkas {receipt} dipindahkan: {' → '.join(['Berkas', *path])}." in page
    assert f'href="/dossierview/show/{waiting_id}"><i class="fa fa-arrow-right"></i> Berkas berikutnya</a>' in page
    assert "Cetak Surat Pengembalian" not in page, "only a return has a letter"


def test_a_dossier_moved_after_the_confirmation_stays_and_the_flash_says_why(app, login_as):
    with app.app_context():
        dossier = _open()
        dossier_id, receipt = dossier.id, dossier.receipt_number
    client = login_as("Front Office")
    form = confirm_form(page_text(client.get(f"/dossiermoves/confirm?action=advance&scope=ids&ids={dossier_id}")))
    with app.app_context():  # another officer moves it between confirmation and click
        fo = app.appbuilder.sm.find_user(username="front_office").id
        assert move(db.session, dossier_id, Action.ADVANCE, actor_id=fo, roles={"Front Office"}, note=None,
                    now=dt.datetime.now(dt.UTC)).moved
        db.session.commit()
    answer = client.post("/dossiermoves/apply", data=form, follow_redirects=True)
    text = page_text(answer)
    assert answer.request.path == f"/dossierview/show/{dossier_id}"
    now_at = _stage_name(app, dossier_id)
    assert now_at != "Berkas" and 'class="alert alert-warning"' in text
    assert f"Berkas {receipt} tidak dipindahkan: Berkas sudah dipindahkan sejak konfirmasi; kini pada tahap {now_at}." in text
    assert _stage_name(app, dossier_id) == now_at, "confirmed from Berkas, so not moved on from where it is now"


def test_a_return_offers_its_letter_in_one_click_and_the_letter_prints(app, login_as):
    with app.app_context():
        dossier = _open("TANDA_TERIMA_BERKAS")
        dossier_id, receipt = dossier.id, dossier.receipt_number
    client = login_as("Front Office")
    form = confirm_form(page_text(client.get(f"/dossiermoves/confirm?action=return&scope=ids&ids={dossier_id}")))
    answer = client.post("/dossiermoves/apply", data={**form, "note": "Denah lokasi tidak terbaca"},
                         follow_redirects=True)
    page = page_text(answer)
    assert f"Berkas {receipt} dikembalikan ke pemohon pada tahap Tanda Terima Berkas." in page
    letter_url = f"/papers/{dossier_id}/return_letter.pdf"
    assert f'href="{letter_url}"><i class="fa fa-print"></i> Cetak Surat Pengembalian</a>' in page
    letter = client.get(letter_url)
    assert letter.status_code == 200 and letter.mimetype == "application/pdf" and letter.data.startswith(b"%PDF")


def test_a_return_of_several_lists_a_letter_for_each(app, login_as):
    with app.app_context():
        ids = [_open("TANDA_TERIMA_BERKAS").id for _ in range(2)]
    client = login_as("Front Office")
    form = confirm_form(page_text(client.get(f"/dossiermoves/confirm?action=return&ids={ids[0]}&ids={ids[1]}")))
    result = page_text(client.post("/dossiermoves/apply", data={**form, "note": "KTP tidak terbaca"}))
    assert "2 dari 2 berkas dipindahkan" in result
    assert all(f'href="/papers/{i}/return_letter.pdf"' in result for i in ids)


def test_next_in_queue_is_the_oldest_due_open_dossier_at_the_users_stages(app_ctx):
    later = _open(due_in_days=9).id
    soonest = _open(due_in_days=2).id
    _open(due_in_days=5)
    not_theirs = _open("VERIFIKASI", due_in_days=1).id  # Back Office's stage
    returned = _open(due_in_days=-3).id
    _set_status(returned, "returned")
    rejected = _open(due_in_days=-4).id
    _set_status(rejected, "rejected")
    undated = _open().id
    with changes_by(db.session, reason="penyiapan data uji"):
        db.session.get(Dossier, undated).due_at = None
        db.session.commit()

    assert next_in_queue(db.session, {"Front Office"}) == soonest
    assert next_in_queue(db.session, ["Front Office"], exclude_id=soonest) != soonest
    assert next_in_queue(db.session, {"Front Office", "Back Office"}) == not_theirs
    assert next_in_queue(db.session, {"Admin"}) is None and next_in_queue(db.session, set()) is None
    # No due date comes last.
    open_fo = list(db.session.scalars(select(Dossier.id).where(Dossier.id.not_in([returned, rejected, not_theirs]))))
    order = []
    while (following := next_in_queue(db.session, {"Front Office"})) is not None:
        order.append(following)
        with changes_by(db.session, reason="penyiapan data uji"):
            db.session.get(Dossier, following).status = "archived"
            db.session.commit()
    assert order[0] == soonest and order[-1] == undated and later in order and sorted(order) == sorted(open_fo)


def test_ids_that_name_nothing_are_refused_plainly(login_as):
    client = login_as("Front Office")
    answer = client.get("/dossiermoves/confirm?action=advance&ids=%C2%B2&ids=abc&ids=99999999999999999999999")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/dossierview/list/")
    token = csrf_token(client, TOKEN_PAGE)
    refused = client.post("/dossiermoves/apply", data={"action": "advance", "ids": "1,,x", "csrf_token": token})
    assert refused.status_code == 302
