"""A real server for the browser tests: a fresh SQLite instance served by waitress with production
settings, and Debian's chromium driven by Playwright.

Never uses Playwright's own browser downloads: only /usr/bin/chromium (`apt-get install chromium`).
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
USERNAME = "loket_browser_fo"
SUPERVISOR = "loket_browser_supervisor"
ADMIN = "admin"  # made by bootstrap, with LOKET_ADMIN_PASSWORD
PASSWORD = "Rahasia-Browser-76"
ADMIN_PASSWORD = "admin-browser-test"


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """A freshly bootstrapped app on a SQLite instance folder of its own, with a Front Office user,
    a Supervisor and one dossier (its id in config LOKET_BROWSER_DOSSIER)."""
    from app import create_app
    from app.bootstrap import bootstrap
    from app.extensions import db
    from app.security.roles import FRONT_OFFICE
    from app.security.roles import SUPERVISOR as SUPERVISOR_ROLE
    from config import Config

    instance = tmp_path_factory.mktemp("browser-instance")

    class BrowserConfig(Config):
        # Production settings (CSRF, rate-limited login, scrypt), on a database of its own.
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{instance / 'loket.db'}"
        SECRET_KEY = None  # created in the instance folder, as in production
        RATELIMIT_STORAGE_URI = "memory://"

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LOKET_INSTANCE_PATH", str(instance))
        mp.setenv("LOKET_ADMIN_PASSWORD", ADMIN_PASSWORD)  # nothing generated, nothing printed
        app = create_app(BrowserConfig)
        bootstrap(app)
    with app.app_context():
        sm = app.appbuilder.sm
        user = sm.add_user(
            USERNAME, "Front", "Office", f"{USERNAME}@uji.invalid", sm.find_role(FRONT_OFFICE), password=PASSWORD
        )
        assert user, "could not create the Front Office user"
        assert sm.add_user(SUPERVISOR, "Super", "Visor", f"{SUPERVISOR}@uji.invalid", sm.find_role(SUPERVISOR_ROLE),
                           password=PASSWORD)
        from tests.factories import make_dossier

        app.config["LOKET_BROWSER_DOSSIER"] = make_dossier(actor_id=user.id).id
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="module")
def live_server(live_app: Flask) -> Iterator[tuple[str, int]]:
    """Serves live_app with waitress on a free port: (base URL, the dossier's id)."""
    from waitress import create_server

    from app.jobs.queue import start_embedded_consumer

    # As python run.py does: report jobs run on a consumer inside the server's process.
    consumer = start_embedded_consumer(live_app, workers=1)
    server = create_server(live_app, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, name="loket-browser-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}", live_app.config["LOKET_BROWSER_DOSSIER"]
    finally:
        server.close()
        thread.join(timeout=5)
        consumer.stop(graceful=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: `apt-get install chromium` (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def logged_in_page(browser, base: str, username: str = USERNAME, password: str = PASSWORD):
    """A new browser context signed in through the login form: (context, page)."""
    context = browser.new_context(viewport={"width": 1366, "height": 800}, accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("form[name=login] [type=submit]")
    assert "/login" not in page.url, f"login failed, still on {page.url}: {page.inner_text('body')[:500]}"
    return context, page
