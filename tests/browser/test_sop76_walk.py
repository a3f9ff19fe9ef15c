"""Issue 14's measurement: one SOP 76 dossier walked from the counter to the archive, through the UI
only, by each role in turn, COUNTING THE CLICKS (target: at most 60).

What counts as a click: every click, check, option chosen, file chosen (set_input_files) and Enter
pressed to submit. Typing into a field does not. Each role signs in once (its submit counts) and
later comes back to its home queue through the navbar (that click counts too).

The company and the applicant are already registered (the fixture makes them, as at a counter that
knows the company); the dossier itself is opened in the UI with "Berkas baru".

The same walk takes the screenshots of the user guide (docs/panduan/gambar/) and records each
request's server time (printed, not asserted: timing belongs in bench/).
"""
from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from flask import Flask

from tests.browser.conftest import ADMIN, ADMIN_PASSWORD, PASSWORD, SUPERVISOR

pytestmark = pytest.mark.browser

TARGET_CLICKS = 60
GUIDE_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "panduan" / "gambar"
VIEWPORT = {"width": 1280, "height": 800}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
NIB, NIK = "9120000076076", "6108010508957676"
# One user per role, in the order the dossier meets them.
ROLE_USERS = {
    "Front Office": "walk_fo",
    "Back Office": "walk_bo",
    "Tim Teknis": "walk_tt",
    "Kasi Perizinan": "walk_kasi",
    "Kabid Perizinan": "walk_kabid",
    "Kepala Dinas": "walk_kadin",
    "Arsiparis": "walk_arsip",
}


class ServerClock:
    """Wraps the app's WSGI callable: server time of every request, until its body is sent."""

    def __init__(self, app: Flask) -> None:
        self.inner = app.wsgi_app
        self.times: list[tuple[float, str]] = []
        self.lock = threading.Lock()
        app.wsgi_app = self

    def __call__(self, environ, start_response):
        from werkzeug.wsgi import ClosingIterator

        started = time.perf_counter()
        path = f"{environ['REQUEST_METHOD']} {environ.get('PATH_INFO', '')}"
        if environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]

        def done() -> None:
            with self.lock:
                self.times.append((time.perf_counter() - started, path))

        return ClosingIterator(self.inner(environ, start_response), [done])

    def pages(self) -> list[tuple[float, str]]:
        """Pages only (no static files), the slowest first."""
        with self.lock:
            rows = [row for row in self.times if "/static/" not in row[1]]
        return sorted(rows, reverse=True)


@pytest.fixture(scope="module")
def walk_setup(live_app: Flask) -> ServerClock:
    """Users for every role (signing officers with NIP and jabatan), and the known company and
    applicant; the server's clock wraps the app before the walk starts."""
    from app.extensions import db
    from app.security.officers import Officer
    from tests.factories import make_applicant, make_company

    with live_app.app_context():
        sm = live_app.appbuilder.sm
        for n, (role, username) in enumerate(ROLE_USERS.items(), start=1):
            first, _, last = role.partition(" ")
            user = sm.add_user(username, first, last or "Loket", f"{username}@uji.invalid", sm.find_role(role),
                               password=PASSWORD)
            assert user, f"could not create the {role} user"
            officer = db.session.get(Officer, user.id)
            officer.nip, officer.position = f"19800101200501{n:04d}", role
        db.session.commit()
        company = make_company(
            name="PT Pool Angkutan Landak", nib=NIB, deed_number="AHU-0076.AH.01.01", deed_date=dt.date(2019, 3, 4),
        )
        make_applicant(company, full_name="Yohanes Pool", nik=NIK, email="yohanes@poolangkutan.co.id")
    return ServerClock(live_app)


class Walk:
    """The browser side: one signed-in context per role, and the click counter."""

    def __init__(self, browser, base: str, shots: Path | None = GUIDE_IMAGES) -> None:
        self.browser, self.base, self.shots = browser, base, shots
        self.clicks: Counter[str] = Counter()
        self.steps: Counter[str] = Counter()  # where the clicks go, "role: step"
        self.step = ""
        self.pages: dict[str, object] = {}
        self.contexts: list[object] = []
        self.role = ""

    # -- counted actions
    def count(self, step: str | None = None) -> None:
        self.clicks[self.role] += 1
        self.steps[f"{self.role}: {step or self.step}"] += 1

    def click(self, page, target) -> None:
        """One counted click that loads a page."""
        self.count()
        locator = page.locator(target) if isinstance(target, str) else target
        with page.expect_navigation():
            locator.click()

    def choose_file(self, locator, name: str) -> None:
        self.count()
        # Each paper its own bytes: the same file twice in one dossier is refused (app.documents).
        content = PDF.replace(b"\n", f"\n% {name}\n".encode(), 1)
        locator.set_input_files({"name": name, "mimeType": "application/pdf", "buffer": content})

    def download(self, page, target) -> str:
        self.count("print a paper")
        locator = page.locator(target) if isinstance(target, str) else target
        with page.expect_download() as info:
            locator.click()
        download = info.value
        assert download.failure() is None, download.failure()
        assert download.suggested_filename.endswith(".pdf"), download.suggested_filename
        assert Path(download.path()).read_bytes().startswith(b"%PDF")
        return download.suggested_filename

    # -- steps
    def shot(self, page, name: str) -> None:
        if self.shots is not None:
            self.shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(self.shots / f"{name}.png"), full_page=False)

    def home(self, role: str, username: str | None = None, password: str = PASSWORD):
        """The role's home page: signing in the first time, the navbar's home link afterwards."""
        self.role, self.step = role, "sign in / home"
        page = self.pages.get(role)
        if page is None:
            context = self.browser.new_context(viewport=VIEWPORT, accept_downloads=True, locale="id-ID")
            context.set_default_timeout(20_000)
            self.contexts.append(context)
            page = context.new_page()
            page.goto(f"{self.base}/login/")
            page.fill("input[name=username]", username or ROLE_USERS[role])
            page.fill("input[name=password]", password)
            self.click(page, "form[name=login] [type=submit]")
            assert "/login" not in page.url, page.inner_text("body")[:500]
            self.pages[role] = page
        else:
            self.click(page, ".navbar-brand a")
        return page

    def open_from_queue(self, page, receipt: str) -> None:
        self.step = "open the dossier from the queue"
        self.click(page, page.locator("#queue-rows a", has_text=receipt))
        assert "/dossierview/show/" in page.url, page.url

    def slot(self, page, requirement: str):
        return page.locator("#dossier-documents tbody tr", has_text=requirement)

    def upload_and_verify(self, page, papers: list[tuple[str, str]]) -> None:
        """Each paper chosen into its requirement's slot, then one "Unggah dan Verifikasi" for all."""
        self.step = "papers: choose each file, then upload and verify them all"
        for code, requirement in papers:
            self.choose_file(self.slot(page, requirement).locator("input[type=file]"), f"{code.lower()}.pdf")
        self.click(page, "#upload-papers button[value='1']")
        for _, requirement in papers:
            assert self.slot(page, requirement).locator(".label-success").count() == 1, requirement

    def advance(self, page, screenshot: str | None = None) -> str:
        """Lanjutkan on the dossier page, then the confirmation; back on the dossier page: its flash."""
        self.step = "Lanjutkan + confirm"
        self.click(page, page.locator("#dossier-moves a.btn-primary[href*='action=advance']"))
        assert "/confirm" in page.url or page.locator("#move-confirm").count() == 1, page.url
        verdict = page.inner_text("#move-verdict")
        assert page.locator("#move-confirm").count() == 1, page.inner_text("body")[:2000]
        if screenshot:
            self.shot(page, screenshot)
        self.click(page, "#move-confirm button[type=submit]")
        assert "/dossierview/show/" in page.url, page.url
        flash = page.locator(".alert-success").first.inner_text()
        return f"{verdict} / {flash}"

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def _requirements(app: Flask) -> list[tuple[str, str, str]]:
    """(code, name, due stage code) of the SOP's mandatory requirements."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import PermitType

    with app.app_context():
        permit = db.session.scalar(select(PermitType).where(PermitType.code == "IZIN_POOL_KENDARAAN"))
        stages = {s.id: s.code for s in permit.stages}
        return [(r.code, r.name, stages[r.due_stage_id]) for r in permit.requirements if r.is_mandatory]


def _dossier(app: Flask, receipt: str):
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from app.extensions import db
    from app.models import Dossier

    with app.app_context():
        dossier = db.session.scalar(
            select(Dossier).where(Dossier.receipt_number == receipt).options(selectinload(Dossier.stage))
        )
        db.session.expunge_all()
        return dossier


def _stage(app: Flask, receipt: str) -> str:
    return _dossier(app, receipt).stage.code


def test_sop76_dossier_from_counter_to_archive(browser, live_server, live_app, walk_setup, tmp_path) -> None:
    base, _ = live_server
    clock = walk_setup
    requirements = _requirements(live_app)
    counter_papers = [(code, name) for code, name, due in requirements if due != "PEMERIKSAAN_LAPANGAN"]
    site_papers = [(code, name) for code, name, due in requirements if due == "PEMERIKSAAN_LAPANGAN"]
    walk = Walk(browser, base)
    log: list[str] = []
    try:
        # Front Office: opens the dossier, prints the receipt, takes in and checks the papers.
        page = walk.home("Front Office")
        walk.shot(page, "beranda-front-office")
        walk.step = "open a new dossier"
        walk.click(page, "#new-dossier")
        permit_select = page.locator("select[name=permit_type]")
        if permit_select.count() and not permit_select.input_value():
            walk.count()
            permit_select.select_option(label="Izin Pool Kendaraan")
        page.fill("input[name=company_nib]", NIB)
        page.fill("input[name=applicant_nik]", NIK)
        page.fill("[name=site_address]", "Jl. Raya Ngabang Km 5, Ngabang")
        page.fill("input[name=vehicle_capacity]", "12")
        walk.shot(page, "berkas-baru")
        walk.click(page, "form#model_form [type=submit]")
        assert "/dossierview/show/" in page.url, page.inner_text("body")[:2000]
        assert page.locator("#dossier-new").count() == 1
        receipt = page.locator("#dossier-workbench h3").inner_text().split()[0]
        assert receipt.startswith("IPK"), receipt
        walk.shot(page, "berkas-tersimpan")
        walk.download(page, "#print-receipt")
        walk.upload_and_verify(page, counter_papers)
        page.locator("#dossier-documents").scroll_into_view_if_needed()
        walk.shot(page, "unggah-berkas")
        page.evaluate("window.scrollTo(0, 0)")
        log.append(walk.advance(page, screenshot="konfirmasi-lanjutkan"))
        walk.shot(page, "hasil-lanjutkan")
        assert _stage(live_app, receipt) == "VERIFIKASI", log[-1]

        # Back Office: verification.
        page = walk.home("Back Office")
        walk.shot(page, "beranda-back-office")
        walk.open_from_queue(page, receipt)
        log.append(walk.advance(page))
        assert _stage(live_app, receipt) == "PEMERIKSAAN_LAPANGAN", log[-1]

        # Tim Teknis: prints the blank BAP, inspects, uploads the signed one.
        page = walk.home("Tim Teknis")
        walk.shot(page, "beranda-tim-teknis")
        walk.open_from_queue(page, receipt)
        page.locator("#dossier-papers").scroll_into_view_if_needed()
        walk.shot(page, "cetak-kertas")
        walk.download(page, page.locator("#dossier-papers a", has_text=re.compile("BAP|Berita Acara|inspection", re.IGNORECASE)))
        walk.upload_and_verify(page, site_papers)
        log.append(walk.advance(page))
        assert _stage(live_app, receipt) == "DRAFT_IZIN", log[-1]

        # Back Office: the draft; Kasi and Kabid initial it; the Kepala Dinas signs.
        for role, after in (("Back Office", "PEMERIKSAAN_KASI"), ("Kasi Perizinan", "PARAF_KABID"),
                            ("Kabid Perizinan", "PENANDATANGANAN"), ("Kepala Dinas", "PENOMORAN_CETAK")):
            page = walk.home(role)
            if role == "Kepala Dinas":
                walk.shot(page, "beranda-kepala-dinas")
            walk.open_from_queue(page, receipt)
            log.append(walk.advance(page))
            assert _stage(live_app, receipt) == after, log[-1]

        # Back Office: numbering gave the permit its number on entering the stage; prints it.
        page = walk.home("Back Office")
        walk.open_from_queue(page, receipt)
        assert page.locator("#dossier-permit").count() == 1
        walk.download(page, page.locator("#dossier-papers a", has_text=re.compile("Izin|Permit", re.IGNORECASE)).first)
        log.append(walk.advance(page))
        assert _stage(live_app, receipt) == "PENYERAHAN", log[-1]

        # Front Office hands the permit over; the Arsiparis archives it.
        page = walk.home("Front Office")
        walk.open_from_queue(page, receipt)
        log.append(walk.advance(page))
        assert _stage(live_app, receipt) == "PENGARSIPAN", log[-1]
        page = walk.home("Arsiparis")
        walk.shot(page, "beranda-arsiparis")
        walk.open_from_queue(page, receipt)
        log.append(walk.advance(page, screenshot="konfirmasi-arsip"))
        walk.shot(page, "arsip-selesai")
    finally:
        walk.close()

    dossier = _dossier(live_app, receipt)
    assert dossier.status == "archived", (dossier.status, log)
    permit_number = _permit_number(live_app, dossier.id)
    assert re.fullmatch(r"503/\d{4}/IPK/DPMPTSPTK/\d{4}", permit_number or ""), permit_number

    total = sum(walk.clicks.values())
    slowest = clock.pages()[:10]
    result = {"receipt": receipt, "permit_number": permit_number, "clicks_per_role": dict(walk.clicks),
              "total_clicks": total, "target": TARGET_CLICKS, "clicks_per_step": dict(walk.steps),
              "slowest_pages": [{"ms": round(s * 1000, 1), "request": p} for s, p in slowest]}
    out = tmp_path / "sop76_walk.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print("\nSOP 76 walk, clicks per role:")
    for role, count in walk.clicks.items():
        print(f"  {role:16} {count:3}")
    print(f"  {'total':16} {total:3} (target <= {TARGET_CLICKS})")
    print("where they go:")
    for step, count in walk.steps.most_common():
        print(f"  {count:3}  {step}")
    print("slowest pages (server time):")
    for seconds, path in slowest:
        print(f"  {seconds * 1000:8.1f} ms  {path}")
    print(f"written to {out}")
    WALK_RESULT.update(result)


# The walk's measurement, for the budget below.
WALK_RESULT: dict = {}


def test_the_walk_stays_within_the_issue_target() -> None:
    if not WALK_RESULT:
        pytest.skip("the walk did not finish; its own failure says why")
    assert WALK_RESULT["total_clicks"] <= TARGET_CLICKS, WALK_RESULT


def follow(page, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def test_guide_screens_for_search_supervisor_arsiparis_and_admin(browser, live_server, walk_setup) -> None:
    """The other pages the user guide shows: the search box, the Supervisor's office view and
    reports, the Arsiparis' register book and batch print, the Admin's home, users and SOP sheets."""
    base, _ = live_server
    walk = Walk(browser, base)
    try:
        page = walk.home("Front Office")
        # Part of a name lists what matches (an exact receipt number opens its dossier instead).
        page.fill("form[role=search] input[name=q]", "pool angkutan")
        with page.expect_navigation():
            page.press("form[role=search] input[name=q]", "Enter")
        assert "/cari/" in page.url, page.url
        assert "PT Pool Angkutan Landak" in page.inner_text("body")
        if WALK_RESULT:
            assert WALK_RESULT["receipt"] in page.inner_text("body")
        walk.shot(page, "cari")

        page = walk.home("Supervisor", SUPERVISOR)
        assert page.locator("#dashboard .dashboard-panel svg").count() == 7, "the Supervisor's home is the dashboard"
        walk.shot(page, "beranda-supervisor")
        follow(page, "#home-actions a[href*='/monthlyreports']")
        assert page.locator("form").count() >= 1
        walk.shot(page, "laporan-bulanan")

        page = walk.home("Arsiparis")
        follow(page, "#home-actions a[href*='/archivereports']")
        assert page.locator("form").count() >= 1
        walk.shot(page, "buku-register")

        page = walk.home("Admin", ADMIN, ADMIN_PASSWORD)
        assert page.locator("#home-admin").count() == 1
        walk.shot(page, "beranda-admin")
        follow(page, "#home-admin a[href*='/users/']")
        assert page.locator("table").count() >= 1
        walk.shot(page, "admin-pengguna")
        page = walk.home("Admin")
        follow(page, "#home-admin a[href*='/sopsheets']")
        assert page.locator("form").count() >= 1
        walk.shot(page, "admin-lembar-sop")
    finally:
        walk.close()


def _permit_number(app: Flask, dossier_id: int) -> str | None:
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Permit

    with app.app_context():
        return db.session.scalar(select(Permit.number).where(Permit.dossier_id == dossier_id))
