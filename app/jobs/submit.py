"""Asking for a report job: record it, commit, then queue it (a consumer never sees a job that is
not there yet)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app, has_request_context
from flask_babel import get_locale

from app.extensions import db
from app.models import JobStatus, ReportJob

LOCALE_KEY = "locale"  # the requester's language: the job writes its file in it (app.jobs.runner)


def start_job(kind: str, parameters: dict[str, Any], user_id: int | None) -> ReportJob:
    if has_request_context() and get_locale() is not None:
        parameters = {**parameters, LOCALE_KEY: str(get_locale())}
    job = ReportJob(kind=kind, parameters=parameters, requested_by_id=user_id, status=JobStatus.QUEUED.value,
                    requested_at=dt.datetime.now(dt.UTC), progress_done=0, attempts=0)
    db.session.add(job)
    db.session.commit()
    current_app.extensions["loket_jobs"].submit(job.id)
    return job
