"""FAB's and Loket's pages work under the Content-Security-Policy (app/security/headers.py): a
real chromium opens every main page, as Admin, the Front Office and the Supervisor, and neither
the console nor a `securitypolicyviolation` listener reports anything."""
from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pytest
from flask import Flask

from tests.browser.conftest import (
    ADMIN,
    ADMIN_PASSWORD,
    PASSWORD,
    SUPERVISOR,
    USERNAME,
    logged_in_page,
)

pytestmark = pytest.mark.browser

# Runs before any of the page's own scripts, on every page of the context; the browser runs it
# outside the page's policy (as an extension would), so it needs no nonce.
_LISTEN = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(`${e.effectiveDirective} refused ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`);
});
"""
_SKIPPED_LINKS = ("/logout", "/lang/")  # signing out, switching language: not pages


@pytest.fixture(scope="module")
def records(live_app: Flask) -> dict[str, object]:
    """A company to edit, the dossier's receipt number and an issued permit's verification token."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Dossier, Permit
    from app.printing import describe_permits
    from app.security.roles import KEPALA_DINAS
    from app.sop.machine import Action, move
    from tests.factories import make_dossier
    from tests.paper_samples import OFFICE
    from tests.web.test_papers import ALL_VERIFIED

    with live_app.app_context():
        dossier = db.session.get(Dossier, live_app.config["LOKET_BROWSER_DOSSIER"])
        signed = make_dossier(stage_code="PENANDATANGANAN", verified=ALL_VERIFIED)
        outcome = move(db.session, signed.id, Action.ADVANCE, actor_id=None, roles={KEPALA_DINAS}, note=None,
                       now=dt.datetime.now(dt.UTC), describe_permit=describe_permits(OFFICE))
        assert outcome.moved, outcome
        db.session.commit()
        permit = db.session.scalar(select(Permit).where(Permit.dossier_id == signed.id))
        return {"company": dossier.company_id, "receipt": dossier.receipt_number, "token": permit.token}


class PolicyWatch:
    """Collects what the browser says about one page: console errors, uncaught script errors and
    policy violations."""

    def __init__(self, context) -> None:
        context.add_init_script(_LISTEN)
        self.console: list[str] = []
        self.expected_error: str | None = None

    def attach(self, page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.console.append(f"script error: {error}"))

    def _console(self, message) -> None:
        if message.type not in ("error", "warning"):
            return
        if message.text.startswith("Failed to load resource") and message.location.get("url") == self.expected_error:
            return  # the page itself, answered with the error status the test asked for
        self.console.append(f"console {message.type}: {message.text} ({message.location.get('url')})")

    def open(self, page, url: str, status: int = 200) -> list[str]:
        """Opens url and returns every complaint the browser made about it."""
        self.console.clear()
        self.expected_error = url if status >= 400 else None
        response = page.goto(url, wait_until="load")
        assert response is not None and response.status == status, f"{url}: {response and response.status}"
        policy = response.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in policy and "'nonce-" in policy, f"{url}: policy {policy!r}"
        violations = page.evaluate("window.__cspViolations")
        return [*self.console, *violations]


def _menu_links(page, base: str) -> list[str]:
    """Every page the navbar offers this user (menu entries and the profile)."""
    hrefs = page.eval_on_selector_all(".navbar a[href]", "links => links.map(a => a.href)")
    seen: list[str] = []
    for href in hrefs:
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != base or parts.path in ("", "/") and not parts.query:
            continue
        if any(skip in parts.path for skip in _SKIPPED_LINKS) or href in seen:
            continue
        seen.append(href)
    return seen


def _complaints_on_every_page(browser, base: str, username: str, password: str, pages: list[str]) -> dict:
    context, page = logged_in_page(browser, base, username, password)
    try:
        watch = PolicyWatch(context)
        page = context.new_page()  # the init script applies to pages opened from now on
        watch.attach(page)
        page.goto(f"{base}/")
        menu = _menu_links(page, base)
        assert len(menu) >= 5, f"{username}: only {menu} in the menu"
        complaints = {}
        for url in [f"{base}/", *menu, *(f"{base}{path}" for path in pages)]:
            found = watch.open(page, url)
            if found:
                complaints[url] = found
        # An error page is drawn in the same layout, its scripts signed the same way.
        missing = f"{base}/halaman-yang-tidak-ada"
        if found := watch.open(page, missing, status=404):
            complaints[missing] = found
        return complaints
    finally:
        context.close()


def test_the_policy_listener_sees_a_script_without_the_nonce(browser, live_server) -> None:
    """The check itself: a script the page did not sign with its nonce is refused and reported."""
    base, _ = live_server
    context, page = logged_in_page(browser, base)
    try:
        watch = PolicyWatch(context)
        page = context.new_page()
        watch.attach(page)
        assert watch.open(page, f"{base}/") == []
        page.evaluate("""() => {
            const script = document.createElement('script');
            script.textContent = 'window.__ranWithoutNonce = true';
            document.body.appendChild(script);
        }""")
        page.wait_for_function("window.__cspViolations.length > 0")
        assert page.evaluate("window.__ranWithoutNonce") is None
        assert page.evaluate("window.__cspViolations")[0].startswith("script-src-elem refused inline")
    finally:
        context.close()


# Beyond the menu: pages the menu does not link, a record's page, an add and an edit form, the
# public pages. Admin adds no company: its forms are FAB's user form and the local holidays.
_PAGES = {
    "Admin": (ADMIN, ADMIN_PASSWORD, (
        "/dossierview/show/{dossier}", "/users/add", "/users/edit/1", "/localholidayview/add", "/reportjobview/list/",
        "/swagger/v1", "/sopsheets/", "/status?nomor={receipt}", "/verifikasi/{token}",
    )),
    "Front Office": (USERNAME, PASSWORD, (
        "/dossierview/show/{dossier}", "/companyview/add", "/companyview/edit/{company}", "/imports/",
        "/status?nomor={receipt}", "/verifikasi/{token}",
    )),
    "Supervisor": (SUPERVISOR, PASSWORD, ("/monthlyreports/", "/reportjobview/list/")),
}


@pytest.mark.parametrize("role", list(_PAGES))
def test_every_main_page_runs_under_the_policy_without_a_violation(browser, live_server, records, role) -> None:
    base, dossier_id = live_server
    username, password, pages = _PAGES[role]
    paths = [page.format(dossier=dossier_id, **records) for page in pages]
    assert _complaints_on_every_page(browser, base, username, password, paths) == {}
