"""`python run.py`, the README's first command, run for real twice on one fresh instance folder.

The first run migrates, seeds, prints a generated admin password once and serves. The second
run changes nothing: no new password, the SOP reported unchanged, the same rows, the same login.
Always on a SQLite file of its own, so it never touches the suite's (PostgreSQL) database.
"""
from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
COUNTED_TABLES = ("ab_user", "ab_role", "permit_type", "stage", "requirement_type", "ab_permission_view_role")
PASSWORD_LINE = re.compile(r"kata sandi '([^']+)'")
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
# Variables that would point the subprocess somewhere other than its own temporary folder.
SCRUBBED = ("DATABASE_URL", "SECRET_KEY", "LOKET_ADMIN_PASSWORD", "LOKET_ADMIN_EMAIL", "LOKET_HOST", "REDIS_URL")


def _free_port() -> int:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]
    except OSError as exc:
        pytest.skip(f"cannot bind a local port: {exc}")


class Server:
    """One `python run.py` process; its stdout and stderr go to files so no pipe ever fills up."""

    def __init__(self, instance: Path, port: int, name: str) -> None:
        env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
        env.update(LOKET_INSTANCE_PATH=str(instance), LOKET_PORT=str(port), PYTHONUNBUFFERED="1")
        self.base = f"http://127.0.0.1:{port}"
        self.stdout_path = instance.parent / f"{name}.stdout"
        self.stderr_path = instance.parent / f"{name}.stderr"
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "run.py"], cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err
            )

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def describe(self) -> str:
        err = self.stderr_path.read_text(errors="replace")
        return f"exit code {self.proc.poll()}\n--- stdout ---\n{self.stdout}\n--- stderr (tail) ---\n{err[-4000:]}"

    def wait_until_serving(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"`python run.py` exited before serving:\n{self.describe()}")
            try:
                with urllib.request.urlopen(f"{self.base}/login/", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        self.stop()
        pytest.fail(f"/login/ did not answer 200 within {timeout:.0f} s:\n{self.describe()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def _logs_in(base: str, username: str, password: str) -> bool:
    """Signs in through the real login form (CSRF token included) and opens the dossier grid."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(f"{base}/login/", timeout=10) as resp:
        match = CSRF.search(resp.read().decode())
    assert match, "the login form carries no CSRF token"
    form = urllib.parse.urlencode({"csrf_token": match.group(1), "username": username, "password": password})
    with opener.open(f"{base}/login/", data=form.encode(), timeout=30) as resp:
        if "/login" in urllib.parse.urlsplit(resp.geturl()).path:
            return False  # FAB sends a failed login back to the form
    with opener.open(f"{base}/dossierview/list/", timeout=10) as resp:
        return resp.status == 200 and urllib.parse.urlsplit(resp.geturl()).path == "/dossierview/list/"


def _row_counts(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as conn:
        return {table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in COUNTED_TABLES}  # noqa: S608


def test_run_py_bootstraps_once_and_a_second_run_changes_nothing(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    port = _free_port()

    first = Server(instance, port, "first")
    try:
        first.wait_until_serving()
        passwords = PASSWORD_LINE.findall(first.stdout)
        assert len(passwords) == 1, f"expected one generated admin password:\n{first.describe()}"
        password = passwords[0]
        assert "dimuat" in first.stdout, first.describe()
        assert f"http://127.0.0.1:{port}" in first.stdout
        assert _logs_in(first.base, "admin", password), "the printed admin password does not log in"
        assert not _logs_in(first.base, "admin", password + "-salah"), "a wrong password logs in"
    finally:
        first.stop()

    database = instance / "loket.db"
    assert database.is_file(), "run.py did not create instance/loket.db"
    assert (instance / "secret_key").is_file(), "run.py did not create instance/secret_key"
    before = _row_counts(database)
    assert before["ab_user"] == 1 and before["permit_type"] >= 1 and before["stage"] >= 1, before

    second = Server(instance, port, "second")
    try:
        second.wait_until_serving()
        out = second.stdout
        assert not PASSWORD_LINE.search(out), f"the second run printed a password:\n{out}"
        assert "Admin dibuat" not in out, out
        sop_lines = [line for line in out.splitlines() if line.startswith("SOP ")]
        assert sop_lines, f"the second run reported no SOP:\n{out}"
        assert all(line.endswith("tidak berubah") for line in sop_lines), f"an SOP was reloaded:\n{out}"
        assert _logs_in(second.base, "admin", password), "the first admin password stopped working"
    finally:
        second.stop()

    assert _row_counts(database) == before
