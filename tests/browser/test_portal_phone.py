"""The applicant's side on a phone (390 x 844), end to end (issue 16): register, open the link of
the mail a local SMTP server received, sign in, apply for Izin Pool Kendaraan with papers, get the
receipt, be returned by the Front Office (a second browser, at the counter), read the reason and
upload the missing paper, and, once the staff have finished the SOP, download the permit and
answer the satisfaction survey from the invitation mail.

The jobs the consumer runs every minute (the applicant's notices, the survey's invitation, the
outbox) are run here at the moment they matter, by the same functions, on an app that sends to the
local SMTP server.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from tests.browser.conftest import PASSWORD, USERNAME, logged_in_page
from tests.browser.test_content_security_policy import PolicyWatch
from tests.smtp import SmtpServer, app_with_smtp

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
EMAIL = "rina.pemohon@contoh.co.id"
APPLICANT_PASSWORD = "Kapal-Sungai-Landak-2026"
MISSING = "DAFTAR_KENDARAAN"  # left out of the application: the Front Office returns it for this
_LINK = re.compile(r"https?://\S+?/pemohon/aktivasi/[\w.\-]+")
_SURVEY = re.compile(r"https?://\S+?/survei/[\w.\-]+")


def _pdf(name: str) -> dict:
    from tests.browser.test_sop76_walk import PDF

    # Each paper its own bytes: the same file twice in one dossier is refused (app.documents).
    return {"name": f"{name}.pdf", "mimeType": "application/pdf",
            "buffer": PDF.replace(b"\n", f"\n% {name}\n".encode(), 1)}


class Jobs:
    """The consumer's periodic work, run on demand against the live app's database."""

    def __init__(self, live_app, smtp: SmtpServer, base: str) -> None:  # noqa: ANN001
        self.live_app, self.smtp, self.base = live_app, smtp, base
        self.mail_app = app_with_smtp(live_app, smtp.url)
        self.mail_app.config["PUBLIC_BASE_URL"] = base

    def run(self) -> None:
        from app import outbox, survey
        from app.extensions import db
        from app.portal import notices

        now = dt.datetime.now(dt.UTC)
        with self.mail_app.app_context():
            notices.scan(db.session, now, office=notices.Office.from_config(self.mail_app.config, self.base),
                         channels=[outbox.Channel.EMAIL], enqueue=outbox.enqueue)
            survey.invite_due(db.session, now, base_url=self.base, secret=self.live_app.config["SECRET_KEY"],
                              enqueue=outbox.enqueue)
            db.session.commit()
            outbox.send_pending(self.mail_app)

    def mails_to(self, address: str, subject_part: str) -> list:
        return [m for m in self.smtp.messages if m["To"] == address and subject_part.lower() in m["Subject"].lower()]

    def close(self) -> None:
        from app.extensions import db

        with self.mail_app.app_context():
            db.session.remove()
            db.engine.dispose()


def _text(mail) -> str:  # noqa: ANN001
    return mail.get_body(("plain",)).get_content()


def _finish_sop(live_app, dossier_id: int, until: str | None) -> None:  # noqa: ANN001
    """The staff's part after the Front Office resumed it: papers verified, the inspection report,
    each stage advanced by an officer of its role, up to the stage `until` (None: to the archive)."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Document, Dossier, DossierStatus, RequirementType
    from app.office import office_calendar
    from app.printing import describe_permits
    from app.sop.machine import Action, move
    from app.views.papers import current_office

    with live_app.test_request_context():
        sm = live_app.appbuilder.sm
        now = dt.datetime.now(dt.UTC)
        dossier = db.session.get(Dossier, dossier_id)
        bap = db.session.scalar(select(RequirementType).where(RequirementType.permit_type_id == dossier.permit_type_id,
                                                              RequirementType.code == "BAP_PEMERIKSAAN_LAPANGAN"))
        db.session.add(Document(dossier_id=dossier_id, requirement_type_id=bap.id, original_filename="bap.pdf",
                                storage_key="b" * 64, size_bytes=1, sha256="b" * 64))
        for document in db.session.scalars(select(Document).where(Document.dossier_id == dossier_id)):
            document.verified_at = now
        db.session.commit()
        describe = describe_permits(current_office())
        while True:
            dossier = db.session.get(Dossier, dossier_id)
            if dossier.status == DossierStatus.ARCHIVED.value or dossier.stage.code == until:
                return
            role = dossier.stage.role_name
            username = f"portal_walk_{role.lower().replace(' ', '_')}"
            officer = sm.find_user(username=username) or sm.add_user(
                username, role, "Uji", f"{username}@uji.invalid", sm.find_role(role), password=PASSWORD)
            outcome = move(db.session, dossier_id, Action.ADVANCE, actor_id=officer.id, roles={role}, note=None,
                           now=dt.datetime.now(dt.UTC), calendar=office_calendar(), describe_permit=describe,
                           carry=True)
            assert outcome.moved, (dossier.stage.code, outcome.reasons)
            db.session.commit()


def test_an_applicant_applies_answers_a_return_and_collects_the_permit_on_a_phone(
        browser, live_server, live_app, tmp_path: Path) -> None:  # noqa: ANN001
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Applicant, Dossier, RequirementType, Stage, StageEvent, SurveyResponse

    base, _ = live_server
    smtp = SmtpServer()
    smtp.start()
    jobs = Jobs(live_app, smtp, base)
    jobs.run()  # the notices' first run: from now on every event is told
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, accept_downloads=True,
                                locale="id-ID")
    phone.set_default_timeout(20_000)
    counter = None
    try:
        watch = PolicyWatch(phone)
        page = phone.new_page()
        watch.attach(page)

        # Step 2: the account, active only through the mailed link.
        assert watch.open(page, f"{base}/pemohon/daftar") == []
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "no sideways scrolling"
        page.fill("input[name=full_name]", "Rina Marlina")
        page.fill("input[name=nik]", "6108014506900002")
        page.fill("input[name=email]", EMAIL)
        page.fill("input[name=phone]", "0812 5678 9012")
        page.fill("input[name=password]", APPLICANT_PASSWORD)
        page.fill("input[name=confirm_password]", APPLICANT_PASSWORD)
        with page.expect_navigation():
            page.locator("#register-submit").tap()
        jobs.run()
        (activation,) = jobs.mails_to(EMAIL, "aktivasi")
        link = _LINK.search(_text(activation)).group(0)
        assert link.startswith(base), link
        page.goto(link)
        assert page.locator("#account-message").count() == 1

        # Step 3: sign in, on the applicant's home.
        page.goto(f"{base}/pemohon/masuk")
        page.fill("input[name=email]", EMAIL)
        page.fill("input[name=password]", APPLICANT_PASSWORD)
        with page.expect_navigation():
            page.locator("#login-submit").tap()
        assert page.url.rstrip("/").endswith("/pemohon"), page.url
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

        # Step 4: the application, a new company and every required paper but one.
        with page.expect_navigation():
            page.locator("#portal-apply").tap()
        with live_app.app_context():
            requirements = db.session.scalars(select(RequirementType).where(RequirementType.is_mandatory)).all()
            slots = {r.code: r.id for r in requirements if r.code != "BAP_PEMERIKSAAN_LAPANGAN"}
        page.select_option("select[name=company_id]", "")
        page.fill("input[name=position]", "Direktur")
        page.fill("input[name=company_name]", "CV Rina Trans Landak")
        page.select_option("select[name=legal_form]", "CV")
        page.fill("input[name=nib]", "9120301234567")
        page.fill("input[name=npwp]", "012345674703000")
        page.fill("input[name=deed_number]", "12")
        page.fill("input[name=deed_date]", "2020-03-04")
        page.fill("input[name=address]", "Jl. Pangsuma No. 8, Ngabang")
        kecamatan = page.locator("select[name=kecamatan_code] option").nth(1).get_attribute("value")
        page.select_option("select[name=kecamatan_code]", kecamatan)
        desa = page.locator(f"select[name=desa_code] optgroup option[value^='{kecamatan}.']").first
        page.select_option("select[name=desa_code]", desa.get_attribute("value"))
        page.fill("input[name=site_address]", "Jl. Pangsuma Km 2, Ngabang")
        page.fill("input[name=site_area_m2]", "900")
        page.fill("input[name=vehicle_capacity]", "15")
        for code, requirement_id in slots.items():
            if code != MISSING:
                page.set_input_files(f"#req_{requirement_id}", _pdf(code.lower()))
        with page.expect_navigation():
            page.locator("#portal-submit").tap()
        receipt = page.inner_text("#portal-receipt-number").strip()
        assert receipt.startswith("IPK-"), page.inner_text("body")[:1500]
        with page.expect_download() as download:
            page.locator("#portal-receipt-pdf").tap()
        assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
        jobs.run()
        assert jobs.mails_to(EMAIL, receipt), "the receipt by e-mail"
        with live_app.app_context():
            dossier = db.session.scalar(select(Dossier).where(Dossier.receipt_number == receipt))
            dossier_id, account_id = dossier.id, dossier.applicant.account_id
            assert dossier.submitted_online and account_id is not None
            assert db.session.scalar(select(Applicant.nik).where(Applicant.account_id == account_id)) == \
                "6108014506900002"

        # At the counter (a second browser): the Front Office finds it by number, checks the papers
        # against the originals the applicant brought (SOP steps 1 and 5), and continues: the
        # applicant's own steps 2-4 are passed as the applicant's, and the file stops where the
        # missing paper is due. The Front Office returns it.
        counter, desk = logged_in_page(browser, base, USERNAME, PASSWORD)
        desk.goto(f"{base}/cari/?q={receipt}")
        assert f"/dossierview/show/{dossier_id}" in desk.url, desk.url
        assert desk.locator("#dossier-online").count() == 1
        verify = desk.locator("#dossier-documents form[action*='/verify'] button")
        while verify.count():
            with desk.expect_navigation():
                verify.first.click()
        with desk.expect_navigation():
            desk.locator("#dossier-moves a.btn-primary[href*='action=advance']").click()
        with desk.expect_navigation():
            desk.locator("#move-confirm button[type=submit]").click()
        with live_app.app_context():
            assert db.session.get(Dossier, dossier_id).stage.code == "TANDA_TERIMA_BERKAS"
            steps = db.session.execute(select(Stage.code, StageEvent.note).join(
                Stage, Stage.id == StageEvent.from_stage_id).where(
                StageEvent.dossier_id == dossier_id, StageEvent.actor_id == account_id)).all()
            assert [code for code, _ in steps] == ["REGISTRASI", "LOGIN", "PENGISIAN_DATA"], steps
            assert all(note.startswith("Dilakukan pemohon secara daring") for _, note in steps), steps
        with desk.expect_navigation():
            desk.locator("#dossier-moves a[href*='action=return']").first.click()
        desk.fill("#note", "Daftar kendaraan beserta STNK belum dilampirkan")
        with desk.expect_navigation():
            desk.locator("#move-confirm button[type=submit]").click()
        jobs.run()
        (returned,) = jobs.mails_to(EMAIL, "dikembalikan")
        assert "Daftar kendaraan beserta STNK belum dilampirkan" in _text(returned)

        # The applicant reads why, and sends the missing paper from the phone.
        page.goto(f"{base}/pemohon/berkas/{dossier_id}")
        assert "STNK belum dilampirkan" in page.inner_text("#portal-return-reason")
        assert "Daftar kendaraan" in page.inner_text("#portal-missing")
        slot = page.locator(f".portal-slot[data-requirement='{slots[MISSING]}']")
        slot.locator("input[type=file]").set_input_files(_pdf("daftar_kendaraan"))
        with page.expect_navigation():
            slot.locator("button[type=submit]").tap()
        with page.expect_navigation():
            page.locator("#portal-resubmit").tap()
        assert page.locator("#portal-resubmitted").count() == 1
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

        # The Front Office sees it is ready and takes it back; the staff finish the SOP.
        desk.reload()
        assert desk.locator("#dossier-ready-to-resume").count() == 1, desk.inner_text("body")[:1500]
        with desk.expect_navigation():
            desk.locator("#dossier-moves a[href*='action=resume']").first.click()
        with desk.expect_navigation():
            desk.locator("#move-confirm button[type=submit]").click()
        _finish_sop(live_app, dossier_id, until="PENYERAHAN")
        jobs.run()
        assert jobs.mails_to(EMAIL, "terbit") and jobs.mails_to(EMAIL, "siap diambil")

        # Ready to collect: the frozen permit, downloaded on the phone.
        page.goto(f"{base}/pemohon/berkas/{dossier_id}")
        assert page.locator("#portal-ready").count() == 1
        with page.expect_download() as download:
            page.locator("#portal-permit-pdf").tap()
        assert Path(download.value.path()).read_bytes().startswith(b"%PDF")

        # Handed over at the counter: the survey's invitation, answered on the phone.
        _finish_sop(live_app, dossier_id, until="PENGARSIPAN")
        jobs.run()
        (invitation,) = jobs.mails_to(EMAIL, "survei")
        survey_link = _SURVEY.search(_text(invitation)).group(0)
        assert watch.open(page, survey_link) == []
        for i in range(1, 10):
            page.locator(f"input[name=u{i}][value='4']").locator("xpath=..").tap()
        with page.expect_navigation():
            page.locator("#survey-form [type=submit]").tap()
        assert "Jawaban Anda telah disimpan" in page.inner_text("#survey-message-text")
        assert watch.console == [], watch.console
    finally:
        phone.close()
        if counter is not None:
            counter.close()
        jobs.close()
        smtp.stop()
    with live_app.app_context():
        assert db.session.scalar(select(SurveyResponse.u1).where(SurveyResponse.dossier_id == dossier_id)) == 4
