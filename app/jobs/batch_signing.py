"""Batch signing (TTE): the Kepala Dinas signs every dossier waiting at the signing stage that the
grid's filter matches, with one passphrase, as a report job with progress. A dossier moves (the
ADVANCE that numbers its permit) only in the transaction that stores its signed permit.

In parallel, like the batch print: a chunk of dossiers is moved and numbered in one short
transaction, while the print workers (reports.parallel.worker_pool) render and sign its permits,
and is committed when every one is signed. If anything in the chunk fails, the chunk is rolled
back whole (no number taken, so the numbers keep running without a gap) and done again dossier
by dossier (sign_and_move): only a dossier that cannot be signed stays where it was, and the
workbook says why. The number counters are held for one chunk's signing: a few workers' worth
of permits (CHUNK_PER_WORKER each), about a second.

The passphrase. The signer types it once, on the confirmation page, which opens the certificate
with it (a wrong one starts no job). The job then needs it again, in another process, so it
travels in the job's parameters sealed with Loket's key (app.tte.seal: the same key that keeps
the certificates at rest), with the time it was sealed, and:
- the job keeps it in memory for its own run (the workers open the certificate with it, each
  once), never in a file or a log;
- the job's first act is to remove it from its row (committed before any dossier is touched), so
  it sits in the database only while the job waits in the queue; a queued job older than
  PASSPHRASE_TTL is refused instead of signing, and a retried attempt (its worker died) finds
  no passphrase and asks for a new start;
- it is never logged, audited or shown: ReportJob rows are not audited (app.audit.AUDITED), the
  job pages show describe_parameters(), which names the filter only, and errors carry Indonesian
  messages, never the parameters.
"""
from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import logging
import secrets
from collections.abc import Callable
from concurrent.futures import Executor
from itertools import pairwise
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.audit import Actor, actor_name, changes_by
from app.extensions import db
from app.jobs.context import JobContext, Progress, ReportRefused
from app.models import Dossier, DossierStatus, JobStatus, Permit, ReportJob, Stage
from app.office import office_calendar
from app.printing import Office, describe_permits
from app.signing import (
    SIGNING_REASON,
    certificate_of,
    keep_signature,
    permit_to_sign,
    sign_issued_permit,
    signing_credentials,
)
from app.sop.bulk import given_up_by_the_database
from app.sop.machine import Action, Outcome, apply_many
from app.sop.numbering import permit_of
from app.tte import Credentials, SigningRefused, TrustSettings, seal, sealing_key, unseal
from app.tte.workers import render_and_sign
from app.views.dossiers import dossier_filter_query  # the grid's own filters, applied as the grid does
from reports.grid_export import write_grid
from reports.parallel import worker_pool

log = logging.getLogger(__name__)

KIND = "batch_sign"
PASSPHRASE_KEY = "sealed_passphrase"
BATCH_KEY = "batch"  # a random name of this request: how the job finds its own row to forget the passphrase
PASSPHRASE_TTL = dt.timedelta(hours=1)
MAX_BATCH = 10_000
CHUNK_PER_WORKER = 4  # permits each print worker signs per chunk (see the module's docstring)
ATTEMPTS = 3
HEADERS = ["Nomor pendaftaran", "Ditandatangani", "Dari tahap", "Ke tahap", "Nomor izin", "Alasan tidak ditandatangani"]
SIGNING_FAILED = "Penandatanganan gagal karena kesalahan internal; berkas tidak dipindahkan (rincian di log)."
NO_PERMIT = "Tahap berikutnya tidak menerbitkan izin; berkas tidak dipindahkan."


def signing_stage_ids(session: Session) -> list[int]:
    """The stages whose ADVANCE numbers the permit (the next stage of their SOP issues it): the
    signing stages, PENANDATANGANAN in the office's SOP."""
    stages = session.execute(
        select(Stage.id, Stage.permit_type_id, Stage.seq, Stage.issues_permit).order_by(Stage.permit_type_id, Stage.seq)
    ).all()
    return [here.id for here, after in pairwise(stages)
            if here.permit_type_id == after.permit_type_id and after.seq > here.seq and after.issues_permit]


def awaiting_signature(session: Session, filter_args: str) -> list[int]:
    """The dossiers the grid's filter matches that wait in progress at a signing stage, oldest first."""
    query = dossier_filter_query(filter_args).where(
        Dossier.stage_id.in_(signing_stage_ids(session)), Dossier.status == DossierStatus.IN_PROGRESS.value,
    )
    return list(session.scalars(query.order_by(Dossier.submitted_at, Dossier.id).limit(MAX_BATCH + 1)))


def seal_passphrase(passphrase: str, config: Any, now: dt.datetime) -> dict[str, str]:  # noqa: ANN401 - a Flask config
    """The job parameters that carry the passphrase (see the module's docstring)."""
    payload = json.dumps({"passphrase": passphrase, "sealed_at": now.isoformat()}).encode()
    return {PASSPHRASE_KEY: base64.b64encode(seal(payload, sealing_key(config))).decode("ascii"),
            BATCH_KEY: secrets.token_hex(16)}


def _unseal_passphrase(sealed: str | None, config: Any, now: dt.datetime) -> str:  # noqa: ANN401
    if not sealed:
        raise ReportRefused("Frasa sandi sertifikat tidak tersedia lagi (tugas ini diulang setelah pekerjanya "
                            "berhenti); tidak ada berkas yang ditandatangani. Mulai lagi penandatanganan massal.")
    try:
        payload = json.loads(unseal(base64.b64decode(sealed), sealing_key(config)))
        sealed_at = dt.datetime.fromisoformat(payload["sealed_at"])
    except Exception as exc:  # noqa: BLE001 - another key, a damaged row: nothing to sign with
        raise ReportRefused("Frasa sandi sertifikat tidak dapat dibuka (kunci Loket berubah?); tidak ada berkas "
                            "yang ditandatangani. Mulai lagi penandatanganan massal.") from exc
    if now - sealed_at > PASSPHRASE_TTL:
        raise ReportRefused("Tugas ini menunggu terlalu lama di antrean; demi keamanan frasa sandi tidak dipakai "
                            "lagi dan tidak ada berkas yang ditandatangani. Mulai lagi penandatanganan massal.")
    return payload["passphrase"]


def _forget_passphrase(batch: str | None) -> None:
    """Removes the sealed passphrase from this job's row and commits, before any signing."""
    jobs = db.session.scalars(
        select(ReportJob).where(ReportJob.kind == KIND, ReportJob.status == JobStatus.RUNNING.value)
    ).all()
    for job in jobs:
        if batch and (job.parameters or {}).get(BATCH_KEY) == batch:
            job.parameters = {k: v for k, v in job.parameters.items() if k != PASSPHRASE_KEY}
    db.session.commit()


def sign_and_move(
    session: Session, dossier_id: int, *, credentials: object, trust: TrustSettings, user_id: int,
    roles: set[str], office: Office, storage_dir: Path, clock: Callable[[], dt.datetime],
) -> Outcome:
    """One dossier: ADVANCE out of the signing stage (which numbers the permit) and the permit signed,
    committed together; any refusal or failure rolls both back and is the outcome's reason."""
    for attempt in range(1, ATTEMPTS + 1):
        now = clock()
        outcome = None
        try:
            (outcome,) = apply_many(
                session, [dossier_id], Action.ADVANCE, actor_id=user_id, roles=roles, note=None, now=now,
                timezone=current_app.config["OFFICE_TIMEZONE"], calendar=office_calendar(),
                describe_permit=describe_permits(office), carry=False,
            )
            if outcome.moved:
                permit = permit_of(session, dossier_id)
                if permit is None:  # the SOP changed under the job: never move a permit unsigned
                    session.rollback()
                    return _unmoved(outcome, NO_PERMIT)
                sign_issued_permit(session, permit, credentials, trust, signer_id=user_id, office=office,
                                   storage_dir=storage_dir, now=now)
            session.commit()
            return outcome
        except SigningRefused as exc:
            session.rollback()
            return _unmoved(outcome, str(exc), dossier_id)
        except DBAPIError as exc:
            session.rollback()
            if attempt == ATTEMPTS or not given_up_by_the_database(exc):
                raise
        except Exception:  # noqa: BLE001 - one dossier's broken render must not stop the batch
            session.rollback()
            log.exception("batch signing: dossier %s could not be signed", dossier_id)
            return _unmoved(outcome, SIGNING_FAILED, dossier_id)
    raise AssertionError("unreachable: the last attempt returns or raises")


@dataclasses.dataclass(frozen=True)
class Batch:
    """What every dossier of one batch is signed with, and by whom."""

    credentials: Credentials
    p12: bytes  # for the workers, which open it themselves (once each)
    passphrase: str = dataclasses.field(repr=False)
    trust: TrustSettings
    user_id: int
    roles: set[str]
    office: Office
    storage_dir: Path
    clock: Callable[[], dt.datetime]

    def one_by_one(self, session: Session, dossier_id: int) -> Outcome:
        return sign_and_move(session, dossier_id, credentials=self.credentials, trust=self.trust,
                             user_id=self.user_id, roles=self.roles, office=self.office,
                             storage_dir=self.storage_dir, clock=self.clock)


def sign_chunk(session: Session, dossier_ids: list[int], batch: Batch, pool: Executor) -> list[Outcome]:
    """These dossiers moved and numbered in one transaction, their permits rendered and signed by
    the pool's workers, committed when all are signed. Any failure: rolled back whole, then done
    dossier by dossier, so only what cannot be signed stays."""
    now = batch.clock()
    try:
        outcomes = apply_many(
            session, dossier_ids, Action.ADVANCE, actor_id=batch.user_id, roles=batch.roles, note=None, now=now,
            timezone=current_app.config["OFFICE_TIMEZONE"], calendar=office_calendar(),
            describe_permit=describe_permits(batch.office), carry=False,
        )
        moved = [o.dossier_id for o in outcomes if o.moved]
        permits = {p.dossier_id: p for p in session.scalars(select(Permit).where(Permit.dossier_id.in_(moved)))}
        if len(permits) != len(moved):  # the SOP changed under the job: never move a permit unsigned
            raise LookupError("a moved dossier has no permit")
        to_sign = [(permits[i], permit_to_sign(session, permits[i], batch.user_id, batch.office, now)) for i in moved]
        futures = [pool.submit(render_and_sign, *printed, batch.p12, batch.passphrase, batch.trust, SIGNING_REASON,
                               now) for _, printed in to_sign]
        for (permit, printed), future in zip(to_sign, futures, strict=True):
            keep_signature(session, permit, future.result(), batch.credentials, signer_id=batch.user_id,
                           mark=printed[3], storage_dir=batch.storage_dir, now=now)
        session.commit()
        return outcomes
    except Exception:  # noqa: BLE001 - whatever it was, each dossier gets its own try and its own reason
        session.rollback()
        log.info("batch signing: a chunk of %d is signed one by one", len(dossier_ids), exc_info=True)
        return [batch.one_by_one(session, dossier_id) for dossier_id in dossier_ids]


def _unmoved(outcome: Outcome | None, reason: str, dossier_id: int | None = None) -> Outcome:
    if outcome is None:
        receipt = db.session.scalar(select(Dossier.receipt_number).where(Dossier.id == dossier_id)) or ""
        return Outcome(dossier_id or 0, receipt, Action.ADVANCE, False, (reason,))
    return dataclasses.replace(outcome, moved=False, to_stage="", permit_number="", through=(), reasons=(reason,))


def batch_sign(context: JobContext, parameters: dict[str, Any], out: Path, progress: Progress) -> str:
    config = current_app.config
    sealed = parameters.pop(PASSPHRASE_KEY, None)
    _forget_passphrase(parameters.get(BATCH_KEY))
    passphrase = _unseal_passphrase(sealed, config, context.now)
    sm = current_app.appbuilder.sm
    user = sm.get_user_by_id(parameters.get("user_id"))
    if user is None or not user.is_active:
        raise ReportRefused("Penanda tangan yang meminta tugas ini tidak aktif lagi; "
                            "tidak ada berkas yang ditandatangani.")
    trust = TrustSettings.from_config(config)
    try:
        credentials = signing_credentials(db.session, user.id, passphrase, trust=trust, key=sealing_key(config),
                                          now=context.now)
    except SigningRefused as exc:
        raise ReportRefused(str(exc)) from exc
    if credentials is None:
        raise ReportRefused("Penanda tangan ini tidak memiliki sertifikat elektronik; "
                            "tidak ada berkas yang ditandatangani.")
    office = context.office
    if parameters.get("public_base_url") and not config.get("PUBLIC_BASE_URL"):
        # QR codes of permits numbered here point where the signer's browser reached us.
        office = dataclasses.replace(office, public_base_url=parameters["public_base_url"].rstrip("/"))
    ids = awaiting_signature(db.session, str(parameters.get("filter", "")))[:MAX_BATCH]
    db.session.commit()
    if not ids:
        raise ReportRefused("Tidak ada berkas di tahap penandatanganan yang cocok dengan filter ini.")
    progress(0, len(ids))
    roles = {role.name for role in sm.get_user_roles(user)}
    storage_dir = Path(current_app.instance_path) / "documents"  # the permits' files, as app.views.documents
    signer = Actor(user.id, actor_name(user.username, user.get_full_name()), parameters.get("address"), "job")
    batch = Batch(credentials=credentials, p12=unseal(certificate_of(db.session, user.id).sealed_p12,
                                                      sealing_key(config)),
                  passphrase=passphrase, trust=trust, user_id=user.id, roles=roles, office=office,
                  storage_dir=storage_dir, clock=lambda: dt.datetime.now(dt.UTC))
    del passphrase
    outcomes: list[Outcome] = []
    size = max(1, context.print_workers) * CHUNK_PER_WORKER
    with changes_by(db.session, actor=signer), worker_pool(context.print_workers) as pool:
        for start in range(0, len(ids), size):
            outcomes += sign_chunk(db.session, ids[start:start + size], batch, pool)
            progress(len(outcomes))
    rows = [[o.receipt_number, "Ya" if o.moved else "Tidak", o.from_stage, o.to_stage, o.permit_number,
             "; ".join(o.reasons)] for o in outcomes]
    write_grid(out, "Hasil penandatanganan massal", HEADERS, rows)
    return f"penandatanganan-massal-{context.now:%Y%m%d-%H%M}.xlsx"
