"""A move of many dossiers as a report job: in short committed chunks with progress, as its
requester (their roles now, their name in the history and the trail), and the result of every
dossier as the job's workbook. Never inside a web request: gunicorn would kill it."""
from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

from flask import current_app

from app.audit import Actor, actor_name, changes_by
from app.extensions import db
from app.jobs.context import JobContext, Progress, ReportRefused
from app.office import office_calendar
from app.printing import describe_permits
from app.sop.bulk import move_in_chunks
from app.sop.machine import Action
from reports.grid_export import write_grid

HEADERS = ["Nomor pendaftaran", "Dipindahkan", "Dari tahap", "Ke tahap", "Nomor izin", "Alasan tidak dipindahkan"]
ACTION_WORDS = {
    Action.ADVANCE: "lanjutkan", Action.RETURN: "kembalikan", Action.RESUME: "lanjutkan-kembali",
    Action.REJECT: "tolak",
}


def bulk_move(context: JobContext, parameters: dict[str, Any], out: Path, progress: Progress) -> str:
    sm = current_app.appbuilder.sm
    user = sm.get_user_by_id(parameters.get("user_id"))
    if user is None or not user.is_active:
        raise ReportRefused("Petugas yang meminta pemindahan ini tidak aktif lagi; tidak ada berkas yang dipindahkan.")
    try:
        action = Action(parameters["action"])
    except (KeyError, ValueError) as exc:
        raise ReportRefused("Tindakan pemindahan tidak dikenal.") from exc
    ids = [int(i) for i in parameters.get("ids") or ()]
    office = context.office
    if parameters.get("public_base_url") and not current_app.config.get("PUBLIC_BASE_URL"):
        # QR codes of permits numbered here point where the requester's browser reached us.
        office = dataclasses.replace(office, public_base_url=parameters["public_base_url"].rstrip("/"))
    progress(0, len(ids))
    requester = Actor(user.id, actor_name(user.username, user.get_full_name()), parameters.get("address"), "job")
    with changes_by(db.session, actor=requester):
        outcomes = move_in_chunks(
            db.session, ids, action, clock=lambda: dt.datetime.now(dt.UTC), progress=lambda done: progress(done),
            actor_id=user.id, roles={role.name for role in sm.get_user_roles(user)}, note=parameters.get("note"),
            timezone=current_app.config["OFFICE_TIMEZONE"], calendar=office_calendar(),
            describe_permit=describe_permits(office), carry=action is Action.ADVANCE,
        )
    rows = [[o.receipt_number, "Ya" if o.moved else "Tidak", o.from_stage, o.to_stage, o.permit_number,
             "; ".join(o.reasons)] for o in outcomes]
    write_grid(out, "Hasil pemindahan berkas", HEADERS, rows)
    return f"pemindahan-berkas-{ACTION_WORDS[action]}-{context.now:%Y%m%d-%H%M}.xlsx"
