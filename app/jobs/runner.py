"""Claiming, running, reaping and purging report jobs. Runs in a consumer, inside an app context.

A job's file is written as <name>.part and renamed into place only when complete; the row
names the file only after that. So a consumer killed mid-job leaves at most a .part file that
nothing offers for download, and the job 'running' with a heartbeat that stops moving: the
reaper (every minute, and at every consumer start for this host's dead workers) puts it back
in the queue, or fails it once it has had its attempts.

Each attempt owns its job: the claim counts ReportJob.attempts up, and every later write of
that attempt (progress, heartbeat, file, status; the reaper's too) is an UPDATE whose WHERE
names the attempt. A worker whose job was reaped and claimed again so changes nothing: its
progress call raises JobSuperseded and its run ends without touching the job. Each attempt
writes its own job-<id>-attempt<n>.part, so the reaper deletes the file of the attempt it
reaped, never the live one's.

Files are 0600 in a 0700 folder whatever the umask (app.private_files).
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select, update

from app.audit import SYSTEM, Actor, actor_name, changes_by
from app.extensions import db
from app.jobs.context import JobContext, ReportRefused
from app.jobs.kinds import KINDS
from app.jobs.submit import LOCALE_KEY
from app.models import ImportBatch, ImportStatus, JobStatus, ReportJob
from app.private_files import FILE_MODE, private_dir, private_file
from app.sop.calendar import as_utc
from reports.parallel import process_alive, remove_stale_batch_dirs

if TYPE_CHECKING:
    from app.jobs.queue import JobQueue

log = logging.getLogger(__name__)

WORKER_DIED = "Pekerja laporan berhenti di tengah tugas (mati atau dimatikan); laporan tidak selesai."
INTERNAL_ERROR = "Terjadi kesalahan internal saat membuat laporan; administrator dapat melihat rinciannya di log."
# A .part file this old is not being written any more: an upload or an import preview takes
# seconds, and a report job's part is spared while its attempt still runs, however long.
STRAY_PART_AGE = dt.timedelta(hours=1)


class JobSuperseded(Exception):
    """This attempt no longer owns its job (it was reaped, and maybe claimed again): stop, change nothing."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def reports_dir() -> Path:
    return private_dir(Path(current_app.instance_path) / "reports")


def part_path(job_id: int, attempt: int) -> Path:
    """Where one attempt writes its file until it is complete."""
    return reports_dir() / f"job-{job_id}-attempt{attempt}.part"


def _owned_by(job_id: int, attempt: int) -> tuple:
    return ReportJob.id == job_id, ReportJob.status == JobStatus.RUNNING.value, ReportJob.attempts == attempt


def _write_owned(job_id: int, attempt: int, **values: object) -> bool:
    """Updates the job only while `attempt` owns it. Commits (with the builder's own pending writes)
    if it did; rolls back and returns False if another attempt or the reaper has it now."""
    changed = db.session.execute(
        update(ReportJob).where(*_owned_by(job_id, attempt)).values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        db.session.rollback()
        return False
    db.session.commit()
    return True


def _claim(job_id: int, worker: str) -> int | None:
    """Takes a queued job (nobody else can); returns this attempt's number, None if not taken."""
    now = _now()
    claimed = db.session.execute(
        update(ReportJob)
        .where(ReportJob.id == job_id, ReportJob.status == JobStatus.QUEUED.value)
        .values(status=JobStatus.RUNNING.value, started_at=now, heartbeat_at=now, worker=worker,
                attempts=ReportJob.attempts + 1, progress_done=0, error=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        db.session.commit()
        return None  # already taken, finished, or reaped meanwhile
    # Read in the claim's own transaction: the row is locked by it, so this is our attempt.
    attempt = db.session.scalar(select(ReportJob.attempts).where(ReportJob.id == job_id))
    db.session.commit()
    return attempt


def _progress_of(job_id: int, attempt: int) -> Callable[..., None]:
    def progress(done: int, total: int | None = None) -> None:
        values: dict[str, object] = {"progress_done": done, "heartbeat_at": _now()}
        if total is not None:
            values["progress_total"] = total
        if not _write_owned(job_id, attempt, **values):
            raise JobSuperseded(f"report job {job_id}: attempt {attempt} was superseded")

    return progress


def run_job(job_id: int, worker: str) -> None:
    """Claims a queued job and makes its file, as long as this attempt owns the job."""
    attempt = _claim(job_id, worker)
    if attempt is None:
        return
    job = db.session.get(ReportJob, job_id)
    kind = KINDS.get(job.kind)
    if kind is None:
        _finish(job_id, attempt, JobStatus.FAILED, error=f"Jenis laporan '{job.kind}' tidak dikenal.")
        return
    part = private_file(part_path(job_id, attempt))
    final = reports_dir() / f"job-{job.id}-{secrets.token_hex(8)}{kind.extension}"

    # What a job changes (a register book's page numbers) is its requester's doing.
    requester = job.requested_by
    actor = Actor(requester.id, actor_name(requester.username, requester.full_name), None, "job") if requester else SYSTEM
    # Labels in the file (statuses, titles) in the requester's language, not the msgid's English.
    locale = (job.parameters or {}).get(LOCALE_KEY) or current_app.config["BABEL_DEFAULT_LOCALE"]
    try:
        with force_locale(locale), changes_by(db.session, actor=actor):
            download_name = kind.build(JobContext.current(), dict(job.parameters), part,
                                       _progress_of(job_id, attempt))
        os.chmod(part, FILE_MODE)  # a builder that wrote a new file in its place made it by the umask
        os.replace(part, final)
    except JobSuperseded:
        db.session.rollback()
        part.unlink(missing_ok=True)
        log.warning("report job %s: attempt %s was taken over by another; it stops, touching nothing", job_id, attempt)
        return
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the job
        db.session.rollback()
        part.unlink(missing_ok=True)
        if not isinstance(exc, ReportRefused):
            log.exception("report job %s (%s) failed", job_id, job.kind)
        _finish(job_id, attempt, JobStatus.FAILED, error=str(exc) if isinstance(exc, ReportRefused) else INTERNAL_ERROR)
        return
    if not _finish(job_id, attempt, JobStatus.DONE, result_file=final.name, result_name=download_name,
                   result_bytes=final.stat().st_size):
        final.unlink(missing_ok=True)  # superseded after its last progress: no row will name it
        log.warning("report job %s: attempt %s was taken over before it finished; its file is dropped", job_id, attempt)


def _finish(job_id: int, attempt: int, status: JobStatus, **values: object) -> bool:
    """Ends the job as `attempt`; False (and nothing written) if that attempt no longer owns it."""
    return _write_owned(job_id, attempt, status=status.value, finished_at=_now(), **values)


def reap(queue: JobQueue, local_host: str | None = None) -> list[int]:
    """Running jobs whose worker is gone: queued again while attempts remain, failed after.

    Gone means: no heartbeat for JOB_STALE_SECONDS (any host), or, with `local_host`, a worker
    on this host whose process no longer exists. Only the attempt found dead is reaped (a job
    finished or claimed again meanwhile is left alone), and only that attempt's file deleted.
    Returns the ids put back in the queue.
    """
    config = current_app.config
    stale_before = _now() - dt.timedelta(seconds=config["JOB_STALE_SECONDS"])
    running = db.session.execute(
        select(ReportJob.id, ReportJob.worker, ReportJob.heartbeat_at, ReportJob.attempts)
        .where(ReportJob.status == JobStatus.RUNNING.value)
    ).all()
    db.session.commit()
    requeued = []
    for job_id, worker, heartbeat, attempts in running:
        host, _, pid = (worker or "").rpartition(":")
        dead = heartbeat is None or as_utc(heartbeat) < stale_before
        if local_host is not None and host == local_host and pid.isdigit() and int(pid) != os.getpid():
            dead = dead or not process_alive(int(pid))
        if not dead:
            continue
        retry = attempts < config["JOB_MAX_ATTEMPTS"]
        values = (
            dict(status=JobStatus.QUEUED.value, worker=None, error=WORKER_DIED + " Dicoba lagi.")
            if retry else dict(status=JobStatus.FAILED.value, finished_at=_now(), error=WORKER_DIED)
        )
        changed = db.session.execute(
            update(ReportJob).where(*_owned_by(job_id, attempts), ReportJob.worker == worker).values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
        if not changed:
            continue  # finished, or reaped and claimed again, since it was read: not this reaper's
        part_path(job_id, attempts).unlink(missing_ok=True)
        if retry:
            requeued.append(job_id)
            queue.submit(job_id)
    if requeued:
        log.warning("report jobs %s put back in the queue after their worker died", requeued)
    return requeued


def purge() -> int:
    """Deletes the files of jobs finished more than REPORT_RETENTION_DAYS ago (the rows stay), the
    kept spreadsheets that no preview needs any more, and the .part files that nobody writes.
    Returns the number of finished report files deleted."""
    now = _now()
    before = now - dt.timedelta(days=current_app.config["REPORT_RETENTION_DAYS"])
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
    _purge_report_leftovers(now, before)
    _purge_spreadsheets(Path(current_app.instance_path) / "imports", now, before)
    for part in (Path(current_app.instance_path) / "documents").glob(".upload-*.part"):  # a killed upload's
        if _older(part, now - STRAY_PART_AGE):
            part.unlink(missing_ok=True)
    remove_stale_batch_dirs(STRAY_PART_AGE.total_seconds())
    return len(old)


def _older(path: Path, than: dt.datetime) -> bool:
    try:
        return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC) < than
    except FileNotFoundError:  # gone meanwhile
        return False


def _purge_report_leftovers(now: dt.datetime, before: dt.datetime) -> None:
    """The .part of an attempt that no longer runs, and a finished file that no row names (its
    attempt was killed between the rename and the row): the parts of running attempts stay."""
    live = {part_path(job_id, attempt).name for job_id, attempt in db.session.execute(
        select(ReportJob.id, ReportJob.attempts).where(ReportJob.status == JobStatus.RUNNING.value))}
    named = set(db.session.scalars(select(ReportJob.result_file).where(ReportJob.result_file.is_not(None))))
    db.session.commit()
    for path in reports_dir().iterdir():
        if path.name in live or path.name in named or not path.is_file():
            continue
        if _older(path, now - STRAY_PART_AGE if path.suffix == ".part" else before):
            path.unlink(missing_ok=True)


def _purge_spreadsheets(folder: Path, now: dt.datetime, before: dt.datetime) -> None:
    """Kept uploads (<sha256>.xlsx): gone once every import of them is applied, undone or past the
    retention; one no import names (an SOP sheet's) once past the retention. Uploaded again within
    STRAY_PART_AGE, a file stays: a preview of the same bytes may be under way."""
    if not folder.is_dir():
        return
    sheets = {path.stem: path for path in folder.glob("*.xlsx")}
    known, wanted = set(), set()
    for sha, status, uploaded_at in db.session.execute(
        select(ImportBatch.sha256, ImportBatch.status, ImportBatch.uploaded_at).where(ImportBatch.sha256.in_(list(sheets)))
    ):
        known.add(sha)
        if status == ImportStatus.PREVIEWED.value and as_utc(uploaded_at) >= before:
            wanted.add(sha)
    db.session.commit()
    for sha, path in sheets.items():
        if sha not in wanted and _older(path, now - STRAY_PART_AGE if sha in known else before):
            path.unlink(missing_ok=True)
    for part in folder.glob("*.part"):  # a killed preview's copy
        if _older(part, now - STRAY_PART_AGE):
            part.unlink(missing_ok=True)


def result_path(job: ReportJob) -> Path | None:
    """The finished file of a done job, if it is still kept."""
    if job.status != JobStatus.DONE.value or not job.result_file:
        return None
    path = reports_dir() / job.result_file
    return path if path.is_file() else None
