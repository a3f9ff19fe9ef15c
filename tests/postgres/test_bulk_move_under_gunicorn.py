"""PostgreSQL and Redis, the README's "At scale" setup for real: `gunicorn -w 4 'run:create_app()'`
(its default 30 s worker timeout) and a `loket worker` consumer, driven over HTTP as officers do.

The Kepala Dinas moves "every dossier matching the filter" (more than BULK_MOVE_INLINE_MAX, so a
report job) into numbering while five officers, each signed in on their own, move dossiers of
that same filter one at a time from their dossier pages. No request answers 5xx, the job ends
done, every dossier is moved once and numbered once, and the numbers run 1..N without a gap.
How long the single moves wait is measured by bench/bulk_move.py --numbering-race, not here.
"""
from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models import Dossier, Permit, ReportJob, Stage, StageEvent
from tests.conftest import POSTGRES_URL, role_username, wipe_business_tables
from tests.postgres.test_concurrent_numbering import _dossiers_awaiting_signature

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL: set LOKET_TEST_DATABASE_URL"),
]

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/14"  # a database of its own, flushed by this test
BULK, MOVERS, EACH = 500, 5, 8
PASSWORD = "rahasia-uji"  # tests/conftest.py's users
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).flushdb())
    except redis.RedisError:
        return False


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        return None


class Officer:
    """A browser of one signed-in officer: its own cookies, redirects not followed."""

    def __init__(self, base: str, username: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect())
        self.statuses: list[int] = []
        token = self.csrf("/login/")
        answer = self.request("/login/", {"username": username, "password": PASSWORD, "csrf_token": token})
        assert answer[0] == 302, f"{username} could not sign in"

    def request(self, path: str, form: dict | None = None) -> tuple[int, str, str]:
        data = urllib.parse.urlencode(form, doseq=True).encode() if form is not None else None
        try:
            with self.opener.open(self.base + path, data=data, timeout=120) as response:
                answer = response.status, response.headers.get("Location", ""), response.read().decode()
        except urllib.error.HTTPError as error:  # 3xx (not followed), 4xx, 5xx
            answer = error.code, error.headers.get("Location", ""), error.read().decode(errors="replace")
        self.statuses.append(answer[0])
        return answer

    def csrf(self, path: str) -> str:
        status, _, page = self.request(path)
        match = _CSRF.search(page)
        assert status == 200 and match, f"no form at {path} ({status})"
        return match.group(1)

    def move(self, form: dict) -> tuple[int, str, str]:
        query = urllib.parse.urlencode({k: v for k, v in form.items() if k != "note"}, doseq=True)
        status, _, page = self.request(f"/dossiermoves/confirm?{query}")
        # No form when nothing can move any more (the bulk got there first): a token from another page.
        match = _CSRF.search(page) if status == 200 else None
        token = match.group(1) if match else self.csrf("/resetmypassword/form")
        return self.request("/dossiermoves/apply", {**form, "csrf_token": token})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(process: subprocess.Popen, sig: int) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture()
def served(app, tmp_path: Path) -> Iterator[str]:  # noqa: ANN001
    """gunicorn with 4 workers and one consumer on the session's PostgreSQL database; its base URL."""
    if not _redis_answers():
        pytest.skip(f"needs Redis at {REDIS_URL}")
    env = {**os.environ, "DATABASE_URL": POSTGRES_URL, "REDIS_URL": REDIS_URL,
           "LOKET_INSTANCE_PATH": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    for name in ("LOKET_BULK_MOVE_INLINE_MAX", "LOKET_TRUSTED_PROXIES", "LOKET_HTTPS"):
        env.pop(name, None)  # the README's settings
    port = _free_port()
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "4", "-b", f"127.0.0.1:{port}", "run:create_app()"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    consumer = subprocess.Popen([sys.executable, "-m", "flask", "--app", "run.py", "loket", "worker", "--workers", "1"],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/login/", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "gunicorn.log").read_text()
            time.sleep(0.3)
        yield base
        server_log = (tmp_path / "gunicorn.log").read_text(errors="replace")
        assert "WORKER TIMEOUT" not in server_log and "Traceback" not in server_log, server_log[-5000:]
    finally:
        _stop(server, signal.SIGTERM)
        _stop(consumer, signal.SIGINT)
        log.close()
        with app.app_context():
            wipe_business_tables()


def test_a_numbering_bulk_under_gunicorn_beside_five_officers_moves_each_dossier_once(app, served):  # noqa: ANN001
    with app.app_context():
        wipe_business_tables()
        ids = _dossiers_awaiting_signature(BULK + MOVERS * EACH)
        signing = db.session.scalar(select(Stage.id).where(Stage.code == "PENANDATANGANAN"))
    username = role_username("Kepala Dinas")
    chief, *officers = [Officer(served, username) for _ in range(MOVERS + 1)]
    # The officers' dossiers are spread over the whole filter, so over the bulk's chunks.
    theirs = [ids[i] for i in range(0, len(ids), len(ids) // (MOVERS * EACH))][: MOVERS * EACH]

    started = chief.move({"action": "advance", "scope": "filter", "filter": f"_flt_0_stage={signing}"})
    assert started[0] == 302 and "/reportjobview/show/" in started[1], started
    job_id = int(started[1].rstrip("/").rsplit("/", 1)[1])

    def officer_moves(k: int) -> list[str]:
        answers = []
        for dossier_id in theirs[k::MOVERS]:
            status, _, page = officers[k].move({"action": "advance", "scope": "ids", "ids": [dossier_id]})
            assert status == 200, (status, page[-2000:])
            answers.append(page)
        return answers

    with ThreadPoolExecutor(max_workers=MOVERS) as pool:
        pages = [page for answers in pool.map(officer_moves, range(MOVERS)) for page in answers]

    deadline = time.monotonic() + 300
    while True:
        with app.app_context():
            job = db.session.get(ReportJob, job_id)
            status, done = job.status, job.progress_done
            db.session.rollback()
        if status in ("done", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert status == "done", f"bulk job {status} at {done}"
    assert all(code < 500 for officer in (chief, *officers) for code in officer.statuses)

    book = load_workbook(BytesIO(_download(chief, job_id)), read_only=True)
    rows = list(book.active.iter_rows(min_row=2, values_only=True))
    moved_by_bulk = sum(1 for row in rows if row[1] == "Ya")
    moved_by_officers = sum(1 for page in pages if 'id="move-moved"' in page)
    with app.app_context():
        seqs = db.session.scalars(select(Permit.seq).order_by(Permit.seq)).all()
        per_dossier = dict(db.session.execute(select(Permit.dossier_id, func.count()).group_by(Permit.dossier_id)).all())
        arrivals = dict(db.session.execute(
            select(StageEvent.dossier_id, func.count()).where(StageEvent.action == "advance",
                                                              StageEvent.from_stage_id == signing)
            .group_by(StageEvent.dossier_id)).all())
        states = dict(db.session.execute(select(Dossier.status, func.count()).group_by(Dossier.status)).all())
    assert len(rows) == len(ids)
    assert seqs == list(range(1, len(ids) + 1)), "numbers contiguous from 1, none repeated"
    assert set(per_dossier) == set(ids) and set(per_dossier.values()) == {1}, "one permit per dossier"
    assert set(arrivals) == set(ids) and set(arrivals.values()) == {1}, "each dossier moved exactly once"
    assert states == {"issued": len(ids)}
    assert moved_by_bulk + moved_by_officers == len(ids), (moved_by_bulk, moved_by_officers)


def _download(officer: Officer, job_id: int) -> bytes:
    with officer.opener.open(f"{officer.base}/reportjobview/download/{job_id}", timeout=60) as response:
        assert response.status == 200
        return response.read()
