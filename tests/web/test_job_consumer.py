"""Real Huey consumers in their own processes: on SqliteHuey (the embedded default), on Redis
(when it answers at 127.0.0.1:6379, as in CI), one killed with SIGKILL in the middle of a job,
and one killed in the middle of a batch print (its print workers and forkserver go with it).

The database is a SQLite file of its own, filled by `loket demo`, whatever the session's database.
"""
from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from app import create_app
from app.extensions import db
from app.jobs.runner import WORKER_DIED, reap, reports_dir, result_path
from app.models import Permit, ReportJob
from config import Config
from tests.processes import command_line, descendants, has_proc, still_running, wait_until

ROOT = Path(__file__).resolve().parents[2]
DOSSIERS = 6000
REDIS_URL = "redis://127.0.0.1:6379/15"  # a database of its own, flushed by these tests


def _redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    path = tmp_path_factory.mktemp("consumer-instance")
    env = {
        **os.environ,
        "LOKET_INSTANCE_PATH": str(path),
        "DATABASE_URL": f"sqlite:///{path / 'loket.db'}",
        "LOKET_ADMIN_PASSWORD": "admin-consumer-test",
        "LOKET_PRINT_WORKERS": "1",
    }
    env.pop("REDIS_URL", None)
    for command in (["init"], ["demo", "--dossiers", str(DOSSIERS), "--seed", "5"]):
        subprocess.run([sys.executable, "-m", "flask", "--app", "run.py", "loket", *command], cwd=ROOT, env=env,
                       check=True, capture_output=True, timeout=300)
    return env


def _app(env: dict[str, str], redis_url: str | None, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN202
    monkeypatch.setenv("LOKET_INSTANCE_PATH", env["LOKET_INSTANCE_PATH"])

    class ConsumerTestConfig(Config):
        SQLALCHEMY_DATABASE_URI = env["DATABASE_URL"]
        REDIS_URL = redis_url
        RATELIMIT_STORAGE_URI = "memory://"

    return create_app(ConsumerTestConfig)


def _consumer(env: dict[str, str], redis_url: str | None) -> subprocess.Popen:
    env = {**env, **({"REDIS_URL": redis_url} if redis_url else {})}
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "run.py", "loket", "worker", "--workers", "1"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _submit(app, kind: str, parameters: dict) -> int:  # noqa: ANN001
    with app.app_context():
        job = ReportJob(kind=kind, parameters=parameters, status="queued", requested_at=dt.datetime.now(dt.UTC),
                        progress_done=0, attempts=0)
        db.session.add(job)
        db.session.commit()
        app.extensions["loket_jobs"].submit(job.id)
        return job.id


def _wait(app, job_id: int, until, timeout: float = 180) -> ReportJob:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            job = db.session.get(ReportJob, job_id)
            db.session.expunge(job)
        if until(job):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never got there: {job.status} {job.progress_done}/{job.progress_total}")


@pytest.fixture()
def consumers() -> Iterator[list[subprocess.Popen]]:
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        _stop(process)


def _register_rows(app, job: ReportJob) -> int:  # noqa: ANN001
    with app.app_context():
        path = result_path(job)
        assert path is not None
        book = load_workbook(path, read_only=True)
        rows = sum(1 for _ in book["Register"].iter_rows(min_row=2, values_only=True))
        book.close()
        return rows


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_a_real_consumer_makes_the_report(instance, consumers, monkeypatch, backend):
    if backend == "redis" and not _redis_answers():
        pytest.skip("Redis does not answer at 127.0.0.1:6379")
    redis_url = REDIS_URL if backend == "redis" else None
    app = _app(instance, redis_url, monkeypatch)
    app.extensions["loket_jobs"].huey.flush()
    job_id = _submit(app, "register_received", {"year": 2026, "month": 6})
    consumers.append(_consumer(instance, redis_url))
    job = _wait(app, job_id, lambda j: j.status in ("done", "failed"))
    assert job.status == "done", job.error
    assert job.progress_done == job.progress_total > 0
    assert _register_rows(app, job) == job.progress_total


def test_a_consumer_killed_mid_job_leaves_no_file_and_the_job_is_retried(instance, consumers, monkeypatch):
    app = _app(instance, None, monkeypatch)
    app.extensions["loket_jobs"].huey.flush()
    # Every demo dossier: several chunks, so the kill lands between two of them.
    job_id = _submit(app, "register_filtered", {"filter": ""})
    first = _consumer(instance, None)
    consumers.append(first)
    _wait(app, job_id, lambda j: j.status == "running" and j.progress_done >= 2000)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)

    with app.app_context():
        job = db.session.get(ReportJob, job_id)
        assert (job.status, job.result_file) == ("running", None), "killed: nothing finished, nothing offered"
        assert result_path(job) is None
        assert not [p for p in reports_dir().iterdir() if p.suffix == ".xlsx" and p.name.startswith(f"job-{job_id}-")]

    # The next consumer on this host takes the dead worker's job back before it starts.
    consumers.append(_consumer(instance, None))
    job = _wait(app, job_id, lambda j: j.status in ("done", "failed"))
    assert (job.status, job.attempts) == ("done", 2), job.error
    assert _register_rows(app, job) == DOSSIERS
    with app.app_context():
        assert not list(reports_dir().glob(f"job-{job_id}-attempt*.part")), "the half-written file is gone"


def test_a_job_whose_worker_died_twice_is_failed_not_running_forever(instance, monkeypatch):
    app = _app(instance, None, monkeypatch)
    with app.app_context():
        stale = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=app.config["JOB_STALE_SECONDS"] + 1)
        job = ReportJob(kind="register_received", parameters={"year": 2026, "month": 6}, status="running",
                        requested_at=stale, started_at=stale, heartbeat_at=stale, worker="elsewhere:4242",
                        progress_done=10, attempts=app.config["JOB_MAX_ATTEMPTS"])
        fresh = ReportJob(kind="register_received", parameters={"year": 2026, "month": 6}, status="running",
                          requested_at=stale, started_at=stale, heartbeat_at=dt.datetime.now(dt.UTC),
                          worker="elsewhere:4243", progress_done=10, attempts=1)
        db.session.add_all([job, fresh])
        db.session.commit()
        assert reap(app.extensions["loket_jobs"]) == []
        statuses = dict(db.session.execute(select(ReportJob.id, ReportJob.status)
                                           .where(ReportJob.id.in_([job.id, fresh.id]))).all())
        assert statuses == {job.id: "failed", fresh.id: "running"}, "only the silent worker's job is reaped"
        assert db.session.get(ReportJob, job.id).error == WORKER_DIED


def _latest_permits(app, count: int) -> dict[str, str]:  # noqa: ANN001
    """Batch print parameters: the issue dates of about the `count` latest standing permits."""
    with app.app_context():
        days = db.session.scalars(select(Permit.issued_on).where(Permit.revoked_at.is_(None))
                                  .order_by(Permit.issued_on.desc()).limit(count)).all()
    assert len(days) == count, "the demo data issues permits"
    return {"date_from": days[-1].isoformat(), "date_to": days[0].isoformat()}


@pytest.mark.skipif(not has_proc(), reason="reads the process table from /proc")
def test_a_consumer_killed_mid_batch_print_leaves_no_process_behind(instance, consumers, monkeypatch):
    app = _app(instance, None, monkeypatch)
    app.extensions["loket_jobs"].huey.flush()
    job_id = _submit(app, "batch_permits", _latest_permits(app, 300))  # at ~0.1 s a permit: many seconds
    consumer = _consumer({**instance, "LOKET_PRINT_WORKERS": "2"}, None)
    consumers.append(consumer)
    below: dict[int, int] = {}
    try:
        _wait(app, job_id, lambda j: j.status == "running" and j.progress_total)

        def printing() -> bool:  # the forkserver and both print workers are up
            below.update(descendants(consumer.pid))
            return sum("multiprocessing.forkserver" in command_line(pid) for pid in still_running(below)) >= 3

        assert wait_until(printing, timeout=60), f"no print workers under the consumer: {still_running(below)}"
        assert _job(app, job_id).status == "running", "killed mid-print, not after"
        consumer.send_signal(signal.SIGKILL)
        consumer.wait(timeout=10)
        assert wait_until(lambda: not still_running(below), timeout=30), f"left behind: {still_running(below)}"
    finally:
        for pid in still_running(below):  # only after a failure: end what the test started
            os.kill(pid, signal.SIGKILL)
        with app.app_context():  # no later consumer should take this print up again
            db.session.execute(update(ReportJob).where(ReportJob.id == job_id).values(status="failed"))
            db.session.commit()


def _job(app, job_id: int) -> ReportJob:  # noqa: ANN001
    with app.app_context():
        job = db.session.get(ReportJob, job_id)
        db.session.expunge(job)
        return job
