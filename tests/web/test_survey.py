"""SKM: the applicant answers once through the public link after the handover; supervisors read the
index per month and permit type, on screen and in Excel; invitations go out once per dossier."""
from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import OutboxMessage, PermitType, Stage, StageEvent, SurveyResponse
from app.outbox import enqueue
from app.survey import invite_due, may_answer, record_answer, survey_token
from tests.conftest import csrf_token
from tests.factories import make_applicant, make_company, make_dossier
from tests.web.helpers import page_text

pytestmark = pytest.mark.usefixtures("clean_db")
ALL_THREE = {f"u{i}": "3" for i in range(1, 10)}
BASE = "https://loket.contoh.go.id"


def _stage(code: str) -> Stage:
    return db.session.scalar(select(Stage).where(Stage.code == code))


def _handed_over(email: str | None = "pemohon@contoh.co.id", when: dt.datetime | None = None) -> int:
    """A dossier moved out of PENYERAHAN (the permit handed over) into the archive stage."""
    applicant = make_applicant(make_company(), email=email)
    dossier = make_dossier(applicant.company, applicant, stage_code="PENGARSIPAN")
    db.session.add(StageEvent(dossier_id=dossier.id, from_stage_id=_stage("PENYERAHAN").id,
                              to_stage_id=_stage("PENGARSIPAN").id, action="advance",
                              occurred_at=when or dt.datetime.now(dt.UTC)))
    db.session.commit()
    return dossier.id


def _url(app, dossier_id: int) -> str:  # noqa: ANN001
    return f"/survei/{survey_token(app.config['SECRET_KEY'], dossier_id)}"


def _answers(app, dossier_id: int) -> list[SurveyResponse]:  # noqa: ANN001
    with app.app_context():
        return db.session.scalars(select(SurveyResponse).where(SurveyResponse.dossier_id == dossier_id)).all()


def test_the_handover_stage_of_the_sop_invites_to_the_survey(app):
    with app.app_context():
        inviting = db.session.scalars(select(Stage.code).where(Stage.invites_survey.is_(True))).all()
    assert inviting == ["PENYERAHAN"]


def test_the_applicant_answers_once_through_the_link(app, login_as):
    with app.app_context():
        dossier_id = _handed_over()
    client, url = login_as(None), _url(app, dossier_id)
    form = page_text(client.get(url))
    assert "Persyaratan" in form and "Sangat cepat" in form and "Gratis" in form and 'name="u9"' in form
    done = client.post(url, data={**ALL_THREE, "u1": "4", "comment": "Petugas ramah",
                                  "csrf_token": csrf_token(client, url)})
    assert done.status_code == 200 and "Jawaban Anda telah disimpan" in page_text(done)
    [row] = _answers(app, dossier_id)
    assert (row.u1, row.u2, row.u9, row.comment) == (4, 3, 3, "Petugas ramah")
    again = page_text(client.get(url))
    assert "sudah diisi" in again and 'name="u1"' not in again


def test_a_post_without_the_csrf_token_keeps_nothing(app, login_as):
    with app.app_context():
        dossier_id = _handed_over()
    response = login_as(None).post(_url(app, dossier_id), data=ALL_THREE)
    assert response.status_code == 400 and _answers(app, dossier_id) == []


def test_a_forged_or_unknown_token_is_not_found_in_indonesian(app, login_as):
    with app.app_context():
        dossier_id = _handed_over()
    client = login_as(None)
    token = survey_token(app.config["SECRET_KEY"], dossier_id)
    for bad in (token[:-2] + ("xy" if not token.endswith("xy") else "zz"), str(dossier_id),
                survey_token("kunci lain", dossier_id), survey_token(app.config["SECRET_KEY"], 999_999)):
        response = client.get(f"/survei/{bad}")
        assert response.status_code == 404, bad
        assert "Tautan survei ini tidak sah" in page_text(response)


def test_before_the_handover_the_survey_is_closed_and_a_post_keeps_nothing(app, login_as):
    with app.app_context():
        dossier_id = make_dossier(stage_code="PENYERAHAN").id
        assert may_answer(db.session, dossier_id) == (False, "not_yet")
    client, url = login_as(None), _url(app, dossier_id)
    assert "Survei dibuka setelah izin diserahkan" in page_text(client.get(url))
    token = csrf_token(client, "/login/")  # an anonymous page with a form
    response = client.post(url, data={**ALL_THREE, "csrf_token": token})
    assert "Survei dibuka setelah izin diserahkan" in page_text(response) and _answers(app, dossier_id) == []


def test_invalid_answers_show_the_form_again_and_keep_nothing(app, login_as):
    with app.app_context():
        dossier_id = _handed_over()
    client, url = login_as(None), _url(app, dossier_id)
    token = csrf_token(client, url)
    response = client.post(url, data={**ALL_THREE, "u2": "5", "u9": "", "csrf_token": token})
    text = page_text(response)
    assert response.status_code == 200 and "belum dijawab: U2, U9" in text and "Tidak ada yang disimpan" in text
    assert 'name="u1" value="3" checked' in response.get_data(as_text=True), "what was chosen stays chosen"
    long = client.post(url, data={**ALL_THREE, "comment": "x" * 1001, "csrf_token": token})
    assert "paling panjang 1000 huruf" in page_text(long) and "1001" in page_text(long)
    assert _answers(app, dossier_id) == []


def test_two_answers_at_once_keep_one(app):
    """Both posts passed the check before either wrote: the unique key keeps the first only."""
    with app.app_context():
        dossier_id = _handed_over()
        first, second = Session(db.engine), Session(db.engine)
        try:
            assert may_answer(first, dossier_id)[0] and may_answer(second, dossier_id)[0]
            now = dt.datetime.now(dt.UTC)
            outcomes = [record_answer(first, dossier_id, {f"u{i}": 4 for i in range(1, 10)}, None, now),
                        record_answer(second, dossier_id, {f"u{i}": 1 for i in range(1, 10)}, None, now)]
        finally:
            first.close()
            second.close()
    assert outcomes == [True, False]
    assert [row.u1 for row in _answers(app, dossier_id)] == [4]


def test_two_posts_of_the_form_keep_one_answer(app, login_as):
    with app.app_context():
        dossier_id = _handed_over()
    client, url = login_as(None), _url(app, dossier_id)
    token = csrf_token(client, url)
    client.post(url, data={**ALL_THREE, "csrf_token": token})
    second = client.post(url, data={**ALL_THREE, "u1": "1", "csrf_token": token})
    assert "sudah diisi" in page_text(second)
    assert [row.u1 for row in _answers(app, dossier_id)] == [3]


def test_invitations_go_once_per_handed_over_dossier_with_an_email(app):
    with app.app_context():
        invited = _handed_over("satu@contoh.co.id")
        _handed_over(None)  # no e-mail: nobody to invite
        answered = _handed_over("dua@contoh.co.id")
        db.session.add(SurveyResponse(dossier_id=answered, permit_type_id=db.session.scalar(select(PermitType.id)),
                                      answered_at=dt.datetime.now(dt.UTC), **{f"u{i}": 3 for i in range(1, 10)}))
        long_ago = _handed_over("lama@contoh.co.id", when=dt.datetime.now(dt.UTC) - dt.timedelta(days=90))
        make_dossier(stage_code="PENYERAHAN")  # not handed over yet
        db.session.commit()
        secret, now = app.config["SECRET_KEY"], dt.datetime.now(dt.UTC)
        assert invite_due(db.session, now, base_url=BASE, secret=secret, enqueue=enqueue) == 1
        db.session.commit()
        assert invite_due(db.session, now, base_url=BASE, secret=secret, enqueue=enqueue) == 0, "never twice"
        [message] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.dedup_key.like("skm:%"))).all()
        assert (message.recipient, message.dedup_key) == ("satu@contoh.co.id", f"skm:{invited}")
        assert f"{BASE}/survei/{survey_token(secret, invited)}" in message.body_text
        assert "Survei Kepuasan Masyarakat" in message.subject
        assert long_ago != invited


def test_invitations_are_batched(app):
    with app.app_context():
        first, second = _handed_over("a@contoh.co.id"), _handed_over("b@contoh.co.id")
        secret, now = app.config["SECRET_KEY"], dt.datetime.now(dt.UTC)
        assert invite_due(db.session, now, base_url=BASE, secret=secret, enqueue=enqueue, batch=1) == 1
        assert invite_due(db.session, now, base_url=BASE, secret=secret, enqueue=enqueue, batch=1) == 1
        db.session.commit()
        keys = set(db.session.scalars(select(OutboxMessage.dedup_key).where(OutboxMessage.dedup_key.like("skm:%"))))
    assert keys == {f"skm:{first}", f"skm:{second}"}


def test_the_receipt_carries_the_survey_link(app, login_as):
    with app.app_context():
        dossier_id = make_dossier().id
    response = login_as("Front Office").get(f"/papers/{dossier_id}/receipt.pdf")
    assert response.status_code == 200
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    flat = re.sub(r"\s+", "", text)
    assert "Setelah izin diserahkan, mohon isi Survei Kepuasan Masyarakat" in " ".join(text.split())
    assert "/survei/" + survey_token(app.config["SECRET_KEY"], dossier_id) in flat


def _answered(app, answers: list[tuple[int, ...]], when: dt.datetime) -> None:  # noqa: ANN001
    with app.app_context():
        for row in answers:
            dossier_id = _handed_over()
            db.session.add(SurveyResponse(dossier_id=dossier_id, permit_type_id=db.session.scalar(
                select(PermitType.id)), answered_at=when, **{f"u{i + 1}": v for i, v in enumerate(row)}))
        db.session.commit()


WORKED = [(4,) * 9, (3,) * 9, (4, 3, 4, 3, 4, 3, 4, 3, 4), (1, 3, 2, 3, 2, 3, 2, 3, 2)]  # IKM 80,56 (B)


def test_supervisors_read_the_index_per_month_and_in_excel(app, login_as):
    year = dt.datetime.now(dt.UTC).year - 1
    _answered(app, WORKED, dt.datetime(year, 3, 10, 3, tzinfo=dt.UTC))
    _answered(app, [(4,) * 9], dt.datetime(year, 2, 28, 18, tzinfo=dt.UTC))  # 1 March 01:00 WIB: March
    client = login_as("Kabid Perizinan")
    page = client.get(f"/skm/?tahun={year}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    march = re.search(r'<tr data-month="3" data-permit-type="\d+".*?</tr>', html, re.S).group(0)
    # Five answers in March: U1 = (4+3+4+1+4)/5 = 3,20; U2 = (4+3+3+3+4)/5 = 3,40; ...
    assert ">5<" in march and "3,20" in march and "3,40" in march
    assert 'data-month="2"' not in html, "answered in March office time"
    year_row = re.search(r'<tr data-month="0" data-permit-type="".*?</tr>', html, re.S).group(0)
    expected = round((3.2 + 8 * 3.4) / 9 * 25, 2)  # 84,44
    assert f"{expected:.2f}".replace(".", ",") in year_row and "B (Baik)" in year_row
    excel = client.get(f"/skm/excel?tahun={year}")
    assert excel.status_code == 200 and excel.mimetype.endswith("spreadsheetml.sheet")
    rows = [r for r in load_workbook(io.BytesIO(excel.data), read_only=True).active.iter_rows(values_only=True)
            if any(v is not None for v in r)]
    header = next(r for r in rows if r[0] == "Bulan")
    assert header[3:12] == tuple(f"U{i}" for i in range(1, 10))
    march_row = next(r for r in rows if r[0] == "Mar" and r[1] != "Semua jenis izin")
    assert march_row[2] == 5 and march_row[3] == 3.2 and march_row[12] == expected and march_row[13] == "B (Baik)"


def test_the_dashboard_shows_the_period_index_with_a_link(app, login_as):
    now = dt.datetime.now(dt.UTC)
    _answered(app, WORKED, now - dt.timedelta(minutes=5))
    page = login_as("Supervisor").get("/dasbor/").get_data(as_text=True)
    panel = page[page.index('id="panel-skm"'):]
    assert "80,56" in panel and "B (Baik)" in panel and 'id="skm-report-link"' in panel and "/skm/" in panel


def test_a_year_it_cannot_read_is_said(login_as):
    page = page_text(login_as("Supervisor").get("/skm/?tahun=abcd"))
    assert "empat angka" in page


@pytest.mark.parametrize("role", ["Front Office", "Back Office", "Arsiparis"])
def test_the_report_is_refused_to_staff_without_the_dashboard(login_as, role):  # noqa: ANN001
    client = login_as(role)
    assert client.get("/skm/").status_code in (302, 403)
    assert client.get("/skm/excel").status_code in (302, 403)

