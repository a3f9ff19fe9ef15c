"""Private files: what the app writes (database, secret key, job queue, reports, kept spreadsheets)
is 0600 in 0700 folders whatever the process umask, and the nightly purge removes the kept
spreadsheets no import needs any more and the .part files that nobody writes.

Uploaded documents are checked in tests/unit/test_uploads.py, the batch printer's output in
tests/unit/test_parallel_print.py.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import pytest
from sqlalchemy import text

from app import create_app
from app.extensions import db
from app.jobs.runner import STRAY_PART_AGE, part_path, purge, reports_dir
from app.models import ImportBatch, ReportJob
from config import Config
from tests.factories import make_dossier
from tests.private_modes import PERMISSIVE_UMASKS, mode, modes, process_umask
from tests.web.test_imports import _preview, _xlsx
from tests.web.test_report_jobs import RECEIVED, _issue_permits, _job, _job_id, _post


class FreshInstanceConfig(Config):
    SQLALCHEMY_DATABASE_URI = None  # the default: instance/loket.db
    SECRET_KEY = None  # the default: instance/secret_key, made on first start
    REDIS_URL = None  # the default queue: SqliteHuey in instance/jobs.db
    RATELIMIT_STORAGE_URI = "memory://"
    JOBS_IMMEDIATE = False
    TESTING = True


@pytest.mark.parametrize("umask", PERMISSIVE_UMASKS)
def test_a_new_instance_is_private_whatever_the_umask(tmp_path, monkeypatch, umask):
    instance = tmp_path / "instance"
    monkeypatch.setenv("LOKET_INSTANCE_PATH", str(instance))
    database = instance / "loket.db"
    with process_umask(umask):
        app = create_app(FreshInstanceConfig)
        assert database.is_file() and mode(database) == 0o600, "0600 before SQLite first opens it"
        with app.app_context():
            with db.engine.connect() as connection:
                connection.execute(text("CREATE TABLE probe (x INTEGER)"))
                connection.commit()
                connection.execute(text("INSERT INTO probe VALUES (1)"))  # a transaction: the -journal file
                journal = {path.name: oct(mode(path)) for path in instance.glob("loket.db-*")}
                connection.commit()
                connection.execute(text("PRAGMA journal_mode=WAL"))
                connection.execute(text("INSERT INTO probe VALUES (2)"))
                connection.commit()
                wal = {path.name: oct(mode(path)) for path in instance.glob("loket.db-*")}
            app.extensions["loket_jobs"].huey.enqueue(app.extensions["loket_jobs"].run_report.s(1))
            db.engine.dispose()
    assert journal == {"loket.db-journal": "0o600"}
    assert wal == {"loket.db-wal": "0o600", "loket.db-shm": "0o600"}
    made = [instance, database, instance / "secret_key", *sorted(instance.glob("jobs.db*"))]
    assert modes(*made) == {str(instance): "0o700", **{str(path): "0o600" for path in made[1:]}}
    assert app.extensions["loket_jobs"].huey.pending_count() == 1, "the queue was written to"


def test_an_older_instance_made_by_the_umask_is_narrowed(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    for name in ("loket.db", "secret_key", "jobs.db"):
        (instance / name).write_text("x" * 64 if name == "secret_key" else "")
        (instance / name).chmod(0o644)
    monkeypatch.setenv("LOKET_INSTANCE_PATH", str(instance))
    app = create_app(FreshInstanceConfig)
    assert app.config["SECRET_KEY"] == "x" * 64, "the key is kept, only its mode changes"
    assert {path.name: oct(mode(path)) for path in (instance, *sorted(instance.iterdir()))} == {
        "instance": "0o700", "jobs.db": "0o600", "loket.db": "0o600", "secret_key": "0o600"}


@pytest.mark.usefixtures("clean_db")
@pytest.mark.parametrize("umask", PERMISSIVE_UMASKS)
def test_report_files_and_kept_spreadsheets_are_private_whatever_the_umask(app, login_as, umask):
    with app.app_context():
        make_dossier(submitted_at=RECEIVED)
    _issue_permits(app, login_as, 2)
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).date()
    with process_umask(umask):
        register = _job(app, _job_id(_post(login_as("Supervisor"), "/monthlyreports/start",
                                           {"kind": "register_received", "month": "2026-10"})))
        permits = _job(app, _job_id(_post(login_as("Arsiparis"), "/archivereports/permits", {
            "date_from": (today - dt.timedelta(days=7)).isoformat(), "date_to": today.isoformat()})))
        sheet = _xlsx([["NIB", "Nama perusahaan"], ["9120000009999", "PT Rahasia"]])
        _preview(login_as("Front Office"), "company", sheet)
    assert (register.status, permits.status) == ("done", "done"), (register.error, permits.error)
    instance = Path(app.instance_path)
    reports, imports = instance / "reports", instance / "imports"
    kept = imports / f"{hashlib.sha256(sheet).hexdigest()}.xlsx"
    files = [reports / register.result_file, reports / permits.result_file, kept]
    assert modes(instance, reports, imports, *files) == {
        **{str(folder): "0o700" for folder in (instance, reports, imports)}, **{str(path): "0o600" for path in files}}


def _aged(path: Path, age: dt.timedelta, content: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    when = (dt.datetime.now(dt.UTC) - age).timestamp()
    os.utime(path, (when, when))
    return path


@pytest.mark.usefixtures("clean_db")
def test_the_purge_removes_previews_no_import_needs_and_parts_nobody_writes(app):
    retention = dt.timedelta(days=app.config["REPORT_RETENTION_DAYS"])
    a_while = STRAY_PART_AGE * 2  # older than any live upload, far younger than the retention
    just_now = STRAY_PART_AGE / 6
    now = dt.datetime.now(dt.UTC)
    instance = Path(app.instance_path)
    imports, documents = instance / "imports", instance / "documents"

    def sheet(name: str, age: dt.timedelta) -> Path:
        return _aged(imports / f"{hashlib.sha256(name.encode()).hexdigest()}.xlsx", age)

    with app.app_context():
        previews = {
            "applied": sheet("applied", a_while), "undone": sheet("undone", a_while),
            "previewed": sheet("previewed", a_while), "previewed long ago": sheet("previewed long ago", retention),
            "applied, uploaded again just now": sheet("applied, uploaded again just now", just_now),
        }
        uploaded = {"applied": now, "undone": now, "previewed": now, "previewed long ago": now - retention,
                    "applied, uploaded again just now": now - a_while}
        for name, path in previews.items():
            db.session.add(ImportBatch(entity="company", filename=f"{name}.xlsx", sha256=path.stem,
                                       uploaded_at=uploaded[name], status=name.split(",")[0].split(" ")[0]))
        sop_sheet, old_sop_sheet = sheet("an SOP sheet's preview", a_while), sheet("an old SOP sheet", retention)
        killed_preview, live_preview = _aged(imports / "tmpab12.part", a_while), _aged(imports / "tmpcd34.part", just_now)
        killed_upload = _aged(documents / ".upload-ab12.part", a_while)
        live_upload = _aged(documents / ".upload-cd34.part", just_now)

        running = ReportJob(kind="batch_permits", parameters={}, status="running", requested_at=now, attempts=2,
                            progress_done=0, worker="elsewhere:1", heartbeat_at=now)
        finished = ReportJob(kind="batch_permits", parameters={}, status="done", requested_at=now, attempts=1,
                             progress_done=1, finished_at=now, result_file="job-named-by-a-row.pdf")
        db.session.add_all([running, finished])
        db.session.commit()
        live_part = _aged(part_path(running.id, 2), a_while)  # a long print: its part is old, its attempt runs
        superseded_part = _aged(part_path(running.id, 1), a_while)
        finished_part = _aged(part_path(finished.id, 1), a_while)
        fresh_dead_part = _aged(part_path(finished.id, 7), just_now)
        named = _aged(reports_dir() / "job-named-by-a-row.pdf", a_while)
        orphan = _aged(reports_dir() / f"job-{finished.id}-0123456789abcdef.pdf", retention)

        purge()

    gone = {"applied": previews["applied"], "undone": previews["undone"],
            "previewed long ago": previews["previewed long ago"], "old SOP sheet": old_sop_sheet,
            "killed preview": killed_preview, "killed upload": killed_upload, "superseded part": superseded_part,
            "finished job's part": finished_part, "orphan report": orphan}
    kept = {"previewed": previews["previewed"], "uploaded again": previews["applied, uploaded again just now"],
            "SOP sheet": sop_sheet, "live preview": live_preview, "live upload": live_upload,
            "running attempt's part": live_part, "fresh part": fresh_dead_part, "named report": named}
    assert {name for name, path in gone.items() if path.exists()} == set(), "these go"
    assert {name for name, path in kept.items() if not path.exists()} == set(), "these stay"
    for path in kept.values():
        path.unlink()
