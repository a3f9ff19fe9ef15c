"""Claiming, running, reaping and purging report jobs. Runs in a consumer, inside an app context.

A job's file is written as <name>.part and renamed into place only when complete; the row
names the file only after that. So a consumer killed mid-job leaves at most a .part file that
nothing offers for download, and the job 'running' with a heartbeat that stops moving: the
reaper (every minute, and at every consumer start for this host's dead workers) puts it back
in the queue, or fails it once it has had its attempts.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import select, update

from app.audit import SYSTEM, Actor, actor_name, changes_by
from app.extensions import db
from app.jobs.kinds import KINDS, JobContext, ReportRefused
from app.models import JobStatus, ReportJob
from app.sop.calendar import as_utc

if TYPE_CHECKING:
    from app.jobs.queue import JobQueue

log = logging.getLogger(__name__)

WORKER_DIED = "Pekerja laporan berhenti di tengah tugas (mati atau dimatikan); laporan tidak selesai."
INTERNAL_ERROR = "Terjadi kesalahan internal saat membuat laporan; administrator dapat melihat rinciannya di log."


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def reports_dir() -> Path:
    path = Path(current_app.instance_path) / "reports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def run_job(job_id: int, worker: str) -> None:
    """Claims a queued job (nobody else can) and makes its file."""
    now = _now()
    claimed = db.session.execute(
        update(ReportJob)
        .where(ReportJob.id == job_id, ReportJob.status == JobStatus.QUEUED.value)
        .values(status=JobStatus.RUNNING.value, started_at=now, heartbeat_at=now, worker=worker,
                attempts=ReportJob.attempts + 1, progress_done=0, error=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if claimed != 1:
        return  # already taken, finished, or reaped meanwhile
    job = db.session.get(ReportJob, job_id)
    kind = KINDS.get(job.kind)
    if kind is None:
        _finish(job_id, JobStatus.FAILED, error=f"Jenis laporan '{job.kind}' tidak dikenal.")
        return
    part = reports_dir() / f"job-{job.id}.part"
    final = reports_dir() / f"job-{job.id}-{secrets.token_hex(8)}{kind.extension}"

    def progress(done: int, total: int | None = None) -> None:
        values = dict(progress_done=done, heartbeat_at=_now())
        if total is not None:
            values["progress_total"] = total
        db.session.execute(
            update(ReportJob).where(ReportJob.id == job_id).values(**values)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()

    # What a job changes (a register book's page numbers) is its requester's doing.
    requester = job.requested_by
    actor = Actor(requester.id, actor_name(requester.username, requester.full_name), None, "job") if requester else SYSTEM
    try:
        with changes_by(db.session, actor=actor):
            download_name = kind.build(JobContext.current(), dict(job.parameters), part, progress)
        os.replace(part, final)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the job
        db.session.rollback()
        part.unlink(missing_ok=True)
        if not isinstance(exc, ReportRefused):
            log.exception("report job %s (%s) failed", job_id, job.kind)
        _finish(job_id, JobStatus.FAILED, error=str(exc) if isinstance(exc, ReportRefused) else INTERNAL_ERROR)
        return
    _finish(job_id, JobStatus.DONE, result_file=final.name, result_name=download_name,
            result_bytes=final.stat().st_size)


def _finish(job_id: int, status: JobStatus, **values: object) -> None:
    db.session.execute(
        update(ReportJob)
        .where(ReportJob.id == job_id, ReportJob.status == JobStatus.RUNNING.value)
        .values(status=status.value, finished_at=_now(), **values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap(queue: JobQueue, local_host: str | None = None) -> list[int]:
    """Running jobs whose worker is gone: queued again while attempts remain, failed after.

    Gone means: no heartbeat for JOB_STALE_SECONDS (any host), or, with `local_host`, a worker
    on this host whose process no longer exists. Returns the ids put back in the queue.
    """
    config = current_app.config
    stale_before = _now() - dt.timedelta(seconds=config["JOB_STALE_SECONDS"])
    running = db.session.execute(
        select(ReportJob.id, ReportJob.worker, ReportJob.heartbeat_at, ReportJob.attempts)
        .where(ReportJob.status == JobStatus.RUNNING.value)
    ).all()
    requeued = []
    for job_id, worker, heartbeat, attempts in running:
        host, _, pid = (worker or "").rpartition(":")
        dead = heartbeat is None or as_utc(heartbeat) < stale_before
        if local_host is not None and host == local_host and pid.isdigit() and int(pid) != os.getpid():
            dead = dead or not _pid_alive(int(pid))
        if not dead:
            continue
        retry = attempts < config["JOB_MAX_ATTEMPTS"]
        values = (
            dict(status=JobStatus.QUEUED.value, worker=None, error=WORKER_DIED + " Dicoba lagi.")
            if retry else dict(status=JobStatus.FAILED.value, finished_at=_now(), error=WORKER_DIED)
        )
        changed = db.session.execute(
            update(ReportJob)
            .where(ReportJob.id == job_id, ReportJob.status == JobStatus.RUNNING.value, ReportJob.worker == worker)
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
        if changed and retry:
            requeued.append(job_id)
            queue.submit(job_id)
        for part in reports_dir().glob(f"job-{job_id}.part"):
            part.unlink(missing_ok=True)
    if requeued:
        log.warning("report jobs %s put back in the queue after their worker died", requeued)
    return requeued


def purge() -> int:
    """Deletes the files of jobs finished more than REPORT_RETENTION_DAYS ago (the rows stay), and
    uploaded import files as old."""
    before = _now() - dt.timedelta(days=current_app.config["REPORT_RETENTION_DAYS"])
    old = db.session.execute(
        select(ReportJob.id, ReportJob.result_file)
        .where(ReportJob.finished_at < before, ReportJob.result_file.is_not(None))
    ).all()
    for job_id, name in old:
        (reports_dir() / name).unlink(missing_ok=True)
        db.session.execute(
            update(ReportJob).where(ReportJob.id == job_id).values(result_file=None)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    # Uploaded spreadsheets are kept for their preview and apply; after that they are only copies.
    uploads = Path(current_app.instance_path) / "imports"
    for path in uploads.glob("*") if uploads.is_dir() else ():
        if dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC) < before:
            path.unlink(missing_ok=True)
    return len(old)


def result_path(job: ReportJob) -> Path | None:
    """The finished file of a done job, if it is still kept."""
    if job.status != JobStatus.DONE.value or not job.result_file:
        return None
    path = reports_dir() / job.result_file
    return path if path.is_file() else None
