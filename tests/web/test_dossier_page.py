"""The dossier's show page: the moves open to the officer (and why not the others), the SLA clock,
and every stage visit in working time against the stage's time standard."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from flask_babel import force_locale

from app.extensions import db
from app.formatting import format_moment
from app.models import Document, Dossier
from app.sop.calendar import as_utc
from app.sop.machine import Action, move
from app.views import timeline
from tests.conftest import role_username
from tests.factories import make_applicant, make_company, make_dossier
from tests.web.helpers import page_text

pytestmark = pytest.mark.usefixtures("clean_db")

WIB = dt.timezone(dt.timedelta(hours=7))
# Monday 2 November 2026, 08.00 WIB: a working day, inside office hours (07.30-16.00).
SUBMITTED = dt.datetime(2026, 11, 2, 8, 0, tzinfo=WIB)
# The page is read at 10.30 that morning.
NOW = dt.datetime(2026, 11, 2, 10, 30, tzinfo=WIB)
FO_NAME = "Front Office Uji"  # conftest's user for the role: first name = role, last name "Uji"


def _user_id(app, role: str) -> int:
    return app.appbuilder.sm.find_user(username=role_username(role)).id


def _open_and_walk(app) -> int:
    """A dossier the Front Office moved BERKAS -> REGISTRASI -> LOGIN -> PENGISIAN_DATA.

    BERKAS took 5 minutes (standard 10), REGISTRASI 1 h 55 min (standard 5: exceeded), LOGIN
    3 minutes (standard 5); PENGISIAN_DATA is where it is now.
    """
    company = make_company(name="PT Pool Sengah Temila")
    dossier = make_dossier(
        company, make_applicant(company, full_name="Maria Goreti"), submitted_at=SUBMITTED,
        actor_id=_user_id(app, "Front Office"), verified=("PROFIL_PERUSAHAAN",),
    )
    officer = _user_id(app, "Front Office")
    for minutes in (5, 120, 123):
        outcome = move(db.session, dossier.id, Action.ADVANCE, actor_id=officer, roles={"Front Office"}, note=None,
                       now=SUBMITTED + dt.timedelta(minutes=minutes))
        assert outcome.moved, outcome.reasons
        db.session.commit()
    return dossier.id


def _rows(page: str, panel: str) -> list[tuple[str, str]]:
    """(class attribute, text) of each body row of the table in the panel with this id."""
    section = page.split(f'id="{panel}"', 1)[1].split("</table>", 1)[0]
    body = section.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = []
    for chunk in body.split("<tr")[1:]:
        css = re.match(r'\s*class="([^"]*)"', chunk)
        text = " ".join(re.sub(r"<[^>]+>", " ", chunk.split(">", 1)[1]).split())
        rows.append((css.group(1) if css else "", text))
    return rows


@pytest.fixture()
def page(app, login_as, monkeypatch) -> tuple[str, int]:
    monkeypatch.setattr(timeline, "_now", lambda: NOW)
    with app.app_context():
        dossier_id = _open_and_walk(app)
    response = login_as("Front Office").get(f"/dossierview/show/{dossier_id}")
    assert response.status_code == 200
    return page_text(response), dossier_id


def test_the_timeline_lists_each_visit_with_officer_time_and_standard(page):
    text, _ = page
    rows = _rows(text, "dossier-timeline")
    assert [row[1].split(" ", 2)[:2] for row in rows] == [["1.", "Berkas"], ["2.", "Registrasi"], ["3.", "Login"],
                                                         ["4.", "Pengisian"]]
    berkas, registrasi, login, current = (row for _, row in rows)
    assert "2 November 2026 08.00" in berkas and "2 November 2026 08.05" in berkas
    assert FO_NAME in berkas and "5 menit" in berkas and "10 Menit" in berkas
    assert "1 jam 55 menit" in registrasi and "5 menit" in registrasi
    assert "3 menit" in login and FO_NAME in login
    assert "Masih di tahap ini" in current and "10 Menit" in current and "27 menit" in current


def test_a_visit_over_its_standard_is_flagged(page):
    text, _ = page
    rows = dict(zip(("berkas", "registrasi", "login", "current"), _rows(text, "dossier-timeline")))
    css, row = rows["registrasi"]
    assert "danger" in css and "Melebihi mutu baku" in row
    for name in ("berkas", "login"):
        css, row = rows[name]
        assert "danger" not in css and "Melebihi mutu baku" not in row


def test_the_history_lists_every_stage_event(page):
    text, _ = page
    rows = [row for css, row in _rows(text, "dossier-history") if css == "history-move"]
    assert len(rows) == 4  # submitted + three moves
    assert rows[0].startswith("2 November 2026 08.00 Diajukan")
    assert all(FO_NAME in row for row in rows)
    assert "Registrasi Login" in rows[2]  # from -> to


def _verify_every_document(dossier_id: int) -> None:
    dossier = db.session.get(Dossier, dossier_id)
    have = {d.requirement_type_id for d in dossier.documents}
    for requirement in dossier.permit_type.requirements:
        if requirement.id not in have:
            db.session.add(Document(
                dossier_id=dossier_id, requirement_type_id=requirement.id, original_filename=f"{requirement.code}.pdf",
                storage_key="k" * 64, size_bytes=1, sha256="k" * 64, verified_at=SUBMITTED,
            ))
    db.session.commit()


def _moves_panel(text: str) -> str:
    return text.split('id="dossier-moves"', 1)[1].split("</dl>", 1)[0]


def test_the_action_panel_says_why_a_move_is_not_possible(page):
    text, _ = page
    panel = _moves_panel(text)
    for label in ("Lanjutkan", "Lanjutkan Kembali", "Tolak"):
        assert re.search(rf"<button[^>]*disabled[^>]*>{label}</button>", panel)
        assert f"{label} tidak dapat dilakukan:" in panel
    # Who rejects where is the SOP's (reject_role), and the panel says so.
    assert ("Berkas pada tahap Pengisian Data tidak dapat ditolak; menurut SOP penolakan dilakukan pada tahap: "
            "Pemeriksaan Kasi, Paraf Kabid, Penandatanganan.") in panel
    assert "Berkas tidak sedang dikembalikan ke pemohon." in panel
    # Pengisian Data is where the company's documents must be verified.
    assert "Dokumen belum ada atau belum diverifikasi: Nomor Induk Berusaha (NIB)" in panel


def test_the_action_panel_offers_the_moves_open_to_the_role(app, login_as, page):
    text, dossier_id = page
    assert re.search(r'<a class="btn btn-primary" [^>]*>Kembalikan ke Pemohon</a>', _moves_panel(text))
    with app.app_context():
        _verify_every_document(dossier_id)
    panel = _moves_panel(page_text(login_as("Front Office").get(f"/dossierview/show/{dossier_id}")))
    assert re.search(
        rf'<a class="btn btn-primary" href="/dossiermoves/confirm\?action=advance&scope=ids&ids={dossier_id}">'
        r"Lanjutkan</a>", panel,
    )
    assert "Lanjutkan tidak dapat dilakukan:" not in panel
    assert re.search(r"<button[^>]*disabled[^>]*>Tolak</button>", panel)
    # Who rejects where is the SOP's (reject_role), and the panel says so.
    assert ("Berkas pada tahap Pengisian Data tidak dapat ditolak; menurut SOP penolakan dilakukan pada tahap: "
            "Pemeriksaan Kasi, Paraf Kabid, Penandatanganan.") in panel


def test_another_role_sees_the_stage_is_not_theirs(app, login_as):
    with app.app_context():
        dossier_id = _open_and_walk(app)
    text = page_text(login_as("Back Office").get(f"/dossierview/show/{dossier_id}"))
    panel = _moves_panel(text)
    assert "btn-primary" not in panel
    assert "Tahap Pengisian Data dikerjakan oleh Front Office, bukan oleh peran Anda." in panel


def test_the_clock_shows_the_due_date(app, page):
    text, dossier_id = page
    with app.test_request_context(), force_locale("id"):
        due = format_moment(as_utc(db.session.get(Dossier, dossier_id).due_at))
    clock = text.split('id="dossier-clock"', 1)[1].split("</p>", 1)[0]
    assert due == "9 November 2026 16.00"  # five working days after Monday 2 November
    assert due in clock
    # Promised: closing time of the 5th working day after the receiving day. Left at 10.30: the rest of
    # that Monday (330 minutes) plus 5 working days of 510 minutes.
    assert "Sisa waktu kerja 5 hari kerja 5 jam 30 menit" in clock and "Terlambat" not in clock


def test_a_late_dossier_says_by_how_much(app, login_as, monkeypatch):
    monkeypatch.setattr(timeline, "_now", lambda: dt.datetime(2026, 11, 10, 8, 30, tzinfo=WIB))
    with app.app_context():
        dossier_id = _open_and_walk(app)
    text = page_text(login_as("Front Office").get(f"/dossierview/show/{dossier_id}"))
    clock = text.split('id="dossier-clock"', 1)[1].split("</p>", 1)[0]
    assert "Terlambat" in clock and "1 jam" in clock  # due 9 November 16.00; 07.30-08.30 the next day


def test_a_returned_dossier_stops_the_clock_and_shows_the_return(app, login_as, monkeypatch):
    monkeypatch.setattr(timeline, "_now", lambda: NOW)
    with app.app_context():
        dossier_id = _open_and_walk(app)
        outcome = move(db.session, dossier_id, Action.RETURN, actor_id=_user_id(app, "Front Office"),
                       roles={"Front Office"}, note="NIB belum dibawa", now=SUBMITTED + dt.timedelta(minutes=130))
        assert outcome.moved, outcome.reasons
        db.session.commit()
    text = page_text(login_as("Front Office").get(f"/dossierview/show/{dossier_id}"))
    clock = text.split('id="dossier-clock"', 1)[1].split("</p>", 1)[0]
    # Returned at 10.10: the 20 minutes since do not count.
    assert "Sisa waktu kerja 5 hari kerja 5 jam 50 menit" in clock
    assert "Waktu layanan berhenti selama berkas dikembalikan ke pemohon." in clock
    assert re.search(r'<a class="btn btn-primary" [^>]*action=resume[^>]*>Lanjutkan Kembali</a>', _moves_panel(text))
    *_, (_, current) = _rows(text, "dossier-timeline")
    assert "7 menit" in current and "dikembalikan ke pemohon selama 20 menit" in current
    *_, returned = [row for css, row in _rows(text, "dossier-history") if css == "history-move"]
    assert "Dikembalikan ke pemohon" in returned and "NIB belum dibawa" in returned and FO_NAME in returned
