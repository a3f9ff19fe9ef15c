"""Each attempt at a report job owns it: a worker whose job was reaped and claimed again (the
"superseded" attempt) writes nothing more to the job, and nobody deletes the live attempt's file.

The takeover is staged inside a report kind of the test's own, exactly where a reaper and a
second worker could step in: between two progress calls, before the last write.
"""
from __future__ import annotations

import datetime as dt
import socket
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import update

from app.extensions import db
from app.jobs import runner
from app.jobs.kinds import KINDS, ReportKind
from app.jobs.runner import reap, reports_dir, result_path, run_job
from app.models import ReportJob

pytestmark = pytest.mark.usefixtures("clean_db")
KIND = "ownership_test"
SECOND_HEARTBEAT = dt.datetime(2026, 10, 14, 2, 0, tzinfo=dt.UTC)


def _add_job(**values: object) -> int:
    now = dt.datetime.now(dt.UTC)
    job = ReportJob(**{"kind": KIND, "parameters": {}, "status": "queued", "requested_at": now,
                       "progress_done": 0, "attempts": 0, **values})
    db.session.add(job)
    db.session.commit()
    return job.id


def _take_over(job_id: int) -> None:
    """What the reaper and a second worker did meanwhile: the job is running as attempt 2."""
    db.session.execute(update(ReportJob).where(ReportJob.id == job_id).values(
        status="running", attempts=ReportJob.attempts + 1, worker="elsewhere:2", progress_done=0,
        progress_total=None, heartbeat_at=SECOND_HEARTBEAT, error=None))
    db.session.commit()


def _with_kind(monkeypatch: pytest.MonkeyPatch, build: Callable[..., str]) -> None:
    monkeypatch.setitem(KINDS, KIND, ReportKind(KIND, ".txt", build))


def _row(job_id: int) -> tuple:
    db.session.expire_all()
    job = db.session.get(ReportJob, job_id)
    heartbeat = job.heartbeat_at.replace(tzinfo=dt.UTC) if job.heartbeat_at.tzinfo is None else job.heartbeat_at
    return (job.status, job.attempts, job.worker, job.progress_done, job.progress_total, heartbeat, job.error,
            job.result_file, job.finished_at)


SECOND_ATTEMPT_RUNNING = ("running", 2, "elsewhere:2", 0, None, SECOND_HEARTBEAT, None, None, None)


def _files_of(job_id: int) -> set[str]:
    """The report files named for the job (ids come back after a wipe: compare before and after)."""
    return {path.name for path in reports_dir().glob(f"job-{job_id}-*")}


def test_a_superseded_workers_progress_changes_nothing_and_stops_it(app, monkeypatch):
    went_on = []

    def build(_context, _parameters, out: Path, progress) -> str:  # noqa: ANN001
        progress(1, 10)
        _take_over(job_id)
        out.write_bytes(b"attempt 1")
        progress(5)
        went_on.append(True)
        return "laporan.txt"

    _with_kind(monkeypatch, build)
    with app.app_context():
        job_id = _add_job()
        before = _files_of(job_id)
        run_job(job_id, "here:1")
        assert _row(job_id) == SECOND_ATTEMPT_RUNNING, "no progress or heartbeat of the first attempt"
        assert went_on == [], "its progress call stopped the superseded worker"
        assert _files_of(job_id) == before, "and it left no file"


def test_a_superseded_worker_that_fails_does_not_fail_the_job(app, monkeypatch):
    def build(_context, _parameters, _out, _progress) -> str:  # noqa: ANN001
        _take_over(job_id)
        raise RuntimeError("printer on fire")

    _with_kind(monkeypatch, build)
    with app.app_context():
        job_id = _add_job()
        run_job(job_id, "here:1")
        assert _row(job_id) == SECOND_ATTEMPT_RUNNING, "the second attempt runs on, not failed by the first"


def test_a_superseded_worker_that_finishes_neither_ends_the_job_nor_offers_its_file(app, monkeypatch):
    def build(_context, _parameters, out: Path, progress) -> str:  # noqa: ANN001
        progress(0, 1)
        out.write_bytes(b"attempt 1")
        _take_over(job_id)  # after its last progress call: only the finish can tell
        return "laporan.txt"

    _with_kind(monkeypatch, build)
    with app.app_context():
        job_id = _add_job()
        before = _files_of(job_id)
        run_job(job_id, "here:1")
        assert _row(job_id) == SECOND_ATTEMPT_RUNNING
        assert _files_of(job_id) == before, "the first attempt's finished file is not left lying around"


def test_the_owning_attempt_finishes_its_job(app, monkeypatch):
    def build(_context, _parameters, out: Path, progress) -> str:  # noqa: ANN001
        progress(0, 2)
        out.write_bytes(b"all pages")
        progress(2)
        return "laporan.txt"

    _with_kind(monkeypatch, build)
    with app.app_context():
        job_id = _add_job()
        before = _files_of(job_id)
        run_job(job_id, "here:1")
        job = db.session.get(ReportJob, job_id)
        assert (job.status, job.attempts, job.progress_done, job.progress_total) == ("done", 1, 2, 2)
        assert result_path(job).read_bytes() == b"all pages"
        assert _files_of(job_id) - before == {job.result_file}, "its part file became the result"


def test_the_reaper_never_deletes_the_file_of_the_attempt_that_runs(app, monkeypatch):
    """A reaper that found attempt 1 dead, while another reaper re-queued the job and attempt 2
    claimed it and is writing its file: the late reaper changes nothing and deletes nothing."""
    host = socket.gethostname()
    writing, reaped = threading.Event(), threading.Event()

    def build(_context, _parameters, out: Path, _progress) -> str:  # noqa: ANN001
        out.write_bytes(b"attempt 2's pages")
        writing.set()
        assert reaped.wait(30), "the test's reaper never came"
        return "laporan.txt"

    def second_attempt() -> None:
        with app.app_context():
            run_job(job_id, f"{host}:2")

    worker = threading.Thread(target=second_attempt)

    def pid_alive(_pid: int) -> bool:
        # Between this reaper's read and its write: another reaper re-queued the job, attempt 2 took it.
        db.session.execute(update(ReportJob).where(ReportJob.id == job_id).values(status="queued", worker=None))
        db.session.commit()
        worker.start()
        assert writing.wait(30), "attempt 2 never started writing"
        return False  # attempt 1's worker is dead indeed

    _with_kind(monkeypatch, build)
    monkeypatch.setattr(runner, "process_alive", pid_alive)
    with app.app_context():
        now = dt.datetime.now(dt.UTC)
        job_id = _add_job(status="running", attempts=1, worker=f"{host}:4242", started_at=now, heartbeat_at=now)
        try:
            assert reap(app.extensions["loket_jobs"], local_host=host) == []
        finally:
            reaped.set()
            worker.join(30)
        db.session.expire_all()
        job = db.session.get(ReportJob, job_id)
        assert (job.status, job.attempts, job.error) == ("done", 2, None)
        assert result_path(job).read_bytes() == b"attempt 2's pages"
