"""The Huey instance of one app, its tasks, and the consumers that run them."""
from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import socket
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.api import TaskWrapper
from huey.consumer import Consumer

from app import alerts, outbox, survey
from app.dashboard import tallies
from app.extensions import db
from app.jobs import runner
from app.mail import mail_configured
from app.office import office_calendar
from app.portal import notices
from app.private_files import private_file
from app.whatsapp import wa_configured

log = logging.getLogger(__name__)


@dataclass
class JobQueue:
    huey: Huey
    run_report: TaskWrapper

    def submit(self, job_id: int) -> None:
        """Enqueues a committed ReportJob (in immediate mode: runs it now)."""
        self.run_report(job_id)


def make_huey(app: Flask) -> Huey:
    if app.config.get("JOBS_IMMEDIATE"):
        return Huey("loket", immediate=True)
    if app.config.get("REDIS_URL"):
        return RedisHuey("loket", url=app.config["REDIS_URL"])
    # 0600 before Huey first connects, like the app's own SQLite file (app.private_files).
    return SqliteHuey("loket", filename=str(private_file(Path(app.instance_path) / "jobs.db")))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _base_url(app: Flask) -> str:
    """Where links in mail point: the configured public address of the app."""
    return (app.config.get("PUBLIC_BASE_URL") or "http://localhost:8080").rstrip("/")


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def init_jobs(app: Flask) -> JobQueue:
    """One Huey per app (a second create_app gets its own), with the app's tasks registered on it."""
    huey = make_huey(app)

    @huey.task(name="loket.run_report", retries=0)
    def run_report(job_id: int) -> None:
        with app.app_context():
            runner.run_job(job_id, worker_id())

    @huey.periodic_task(crontab(minute="*"), name="loket.reap_stale_jobs")
    def reap_stale_jobs() -> None:
        with app.app_context():
            runner.reap(app.extensions["loket_jobs"])

    @huey.periodic_task(crontab(minute="*/5"), name="loket.refresh_dashboard")
    @huey.lock_task("loket.refresh_dashboard")  # one counter at a time, across every consumer
    def refresh_dashboard() -> None:
        with app.app_context():
            tallies.refresh(db.session, office_calendar(), _now())

    @huey.periodic_task(crontab(minute="*/5"), name="loket.scan_sla")
    def scan_sla() -> None:
        """The bell: dossiers due within a working day or past their promise (never told twice)."""
        with app.app_context():
            alerts.scan(db.session, office_calendar(), _now())
            db.session.commit()

    @huey.periodic_task(crontab(minute="*/5"), name="loket.queue_digest")
    def queue_digest() -> None:
        """The supervisors' morning digest: queued once per working day from 07:00 office time, so a
        consumer that was down at 07:00 still sends it when it comes back."""
        with app.app_context():
            if mail_configured(app):
                alerts.queue_digest(db.session, office_calendar(), _now(), base_url=_base_url(app),
                                    enqueue=outbox.enqueue)
                db.session.commit()

    @huey.periodic_task(crontab(minute="*/10"), name="loket.invite_survey")
    def invite_survey() -> None:
        """The SKM invitation, once per dossier handed over (the outbox's dedup key remembers it)."""
        with app.app_context():
            if mail_configured(app):
                survey.invite_due(db.session, _now(), base_url=_base_url(app), secret=app.config["SECRET_KEY"],
                                  enqueue=outbox.enqueue)
                db.session.commit()

    @huey.periodic_task(crontab(minute="*"), name="loket.notify_applicants")
    @huey.lock_task("loket.notify_applicants")  # one scan at a time (two would still tell nobody twice)
    def notify_applicants() -> None:
        """The applicant's receipt, return, issued and ready-to-collect messages, from the history
        since the last run, by e-mail and WhatsApp (each channel only once it is set up: a message
        for a channel that is not would wait in the outbox for ever)."""
        with app.app_context():
            channels = [channel for channel, ready in ((outbox.Channel.EMAIL, mail_configured(app)),
                                                       (outbox.Channel.WHATSAPP, wa_configured(app))) if ready]
            notices.scan(db.session, _now(), office=notices.Office.from_config(app.config, _base_url(app)),
                         channels=channels, enqueue=outbox.enqueue)

    @huey.periodic_task(crontab(minute="*"), name="loket.send_outbox")
    def send_outbox() -> None:
        with app.app_context():
            outbox.send_pending(app)

    @huey.periodic_task(crontab(minute="17", hour="2"), name="loket.purge_old_reports")
    def purge_old_reports() -> None:
        """Old report files, previews no import needs any more, and the `.part` files of the dead."""
        with app.app_context():
            runner.purge()

    queue = JobQueue(huey, run_report)
    app.extensions["loket_jobs"] = queue
    return queue


def create_consumer(app: Flask, workers: int) -> Consumer:
    """A consumer for this app's queue. Jobs a killed consumer on this host left 'running' are
    taken back first (their worker's pid is gone), so nothing waits for the stale-job reaper."""
    with app.app_context():
        runner.reap(app.extensions["loket_jobs"], local_host=socket.gethostname())
    return app.extensions["loket_jobs"].huey.create_consumer(workers=workers, worker_type="thread", periodic=True)


def start_embedded_consumer(app: Flask, workers: int = 2) -> Consumer:
    """Runs the consumer's threads inside this process (python run.py), leaving the process's
    signal handlers to the web server: Huey's would swallow Ctrl-C."""
    consumer = create_consumer(app, workers)
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    consumer.start()
    for sig, handler in saved.items():
        signal.signal(sig, handler)
    log.info("Konsumen tugas laporan berjalan di proses ini (%s pekerja).", workers)
    return consumer
