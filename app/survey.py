"""Survei Kepuasan Masyarakat (SKM, PermenPAN-RB 14/2017): the nine elements, who may answer, the
index (IKM) and the e-mail invitations. Plain Python and SQLAlchemy; the tokens take the secret.

The index as the regulation computes it: per element the mean of the answers (NRR, 1 to 4),
weighted by 1/9 (every element weighs the same), summed to the unit's value (1 to 4) and times 25
to the IKM (25 to 100), graded A to D.

Who is asked: a dossier that has left a stage flagged `invites_survey` in its SOP (Izin Pool
Kendaraan: PENYERAHAN, the permit handed over), once per dossier (survey_response's unique key).
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import String, case, cast, exists, func, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import Applicant, Dossier, OutboxMessage, PermitType, Stage, StageEvent, SurveyResponse
from app.models.survey import ELEMENT_COLUMNS
from app.sop.calendar import as_utc
from app.sop.worklist import as_stored

log = logging.getLogger(__name__)

ADVANCE = "advance"  # app.sop.machine.Action.ADVANCE (not imported: the engine pulls in more than needed)
TOKEN_SALT = "skm"
COMMENT_LENGTH = 1000
# Invitations look back this far for handovers not yet invited, at most this many per run.
INVITE_LOOKBACK = dt.timedelta(days=30)
INVITE_BATCH = 200


@dataclass(frozen=True)
class Element:
    code: str  # U1..U9
    name: str  # the regulation's name of the element
    question: str  # as the regulation's sample questionnaire asks it
    answers: tuple[str, str, str, str]  # the labels of 1, 2, 3 and 4


_FIT = ("Tidak sesuai", "Kurang sesuai", "Sesuai", "Sangat sesuai")

ELEMENTS: tuple[Element, ...] = (
    Element("U1", "Persyaratan",
            "Bagaimana pendapat Saudara tentang kesesuaian persyaratan pelayanan dengan jenis pelayanannya?", _FIT),
    Element("U2", "Sistem, Mekanisme, dan Prosedur",
            "Bagaimana pemahaman Saudara tentang kemudahan prosedur pelayanan di unit ini?",
            ("Tidak mudah", "Kurang mudah", "Mudah", "Sangat mudah")),
    Element("U3", "Waktu Penyelesaian",
            "Bagaimana pendapat Saudara tentang kecepatan waktu dalam memberikan pelayanan?",
            ("Tidak cepat", "Kurang cepat", "Cepat", "Sangat cepat")),
    Element("U4", "Biaya/Tarif",
            "Bagaimana pendapat Saudara tentang kewajaran biaya/tarif dalam pelayanan?",
            ("Sangat mahal", "Cukup mahal", "Murah", "Gratis")),
    Element("U5", "Produk Spesifikasi Jenis Pelayanan",
            "Bagaimana pendapat Saudara tentang kesesuaian produk pelayanan antara yang tercantum dalam standar "
            "pelayanan dengan hasil yang diberikan?", _FIT),
    Element("U6", "Kompetensi Pelaksana",
            "Bagaimana pendapat Saudara tentang kompetensi/kemampuan petugas dalam pelayanan?",
            ("Tidak kompeten", "Kurang kompeten", "Kompeten", "Sangat kompeten")),
    Element("U7", "Perilaku Pelaksana",
            "Bagaimana pendapat Saudara tentang perilaku petugas dalam pelayanan terkait kesopanan dan keramahan?",
            ("Tidak sopan dan ramah", "Kurang sopan dan ramah", "Sopan dan ramah", "Sangat sopan dan ramah")),
    Element("U8", "Penanganan Pengaduan, Saran dan Masukan",
            "Bagaimana pendapat Saudara tentang penanganan pengaduan pengguna layanan?",
            ("Tidak ada", "Ada tetapi tidak berfungsi", "Berfungsi kurang maksimal", "Dikelola dengan baik")),
    Element("U9", "Sarana dan Prasarana",
            "Bagaimana pendapat Saudara tentang kualitas sarana dan prasarana?",
            ("Buruk", "Cukup", "Baik", "Sangat baik")),
)
assert len(ELEMENTS) == len(ELEMENT_COLUMNS)
WEIGHT = 1 / len(ELEMENTS)  # the regulation's weighted mean: 1 / number of elements
CONVERSION = 25  # unit value (1..4) x 25 = IKM (25..100)


# --------------------------------------------------------------------------- tokens


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=TOKEN_SALT)


def survey_token(secret: str, dossier_id: int) -> str:
    """The survey link's token: signed, so no one reaches another dossier's survey by changing it."""
    return _serializer(secret).dumps(dossier_id)


def dossier_of(secret: str, token: str) -> int | None:
    """The dossier a token was made for; None for a forged, damaged or overlong token."""
    if not token or len(token) > 200:
        return None
    try:
        value = _serializer(secret).loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


# --------------------------------------------------------------------------- who may answer


class Refusal:
    UNKNOWN = "unknown"  # no such dossier
    NOT_YET = "not_yet"  # the permit has not been handed over yet
    ANSWERED = "answered"  # once per dossier


def handed_over(session: Session, dossier_id: int) -> bool:
    """Whether the dossier has left a stage whose end invites to the survey."""
    return bool(session.scalar(select(exists().where(
        StageEvent.dossier_id == dossier_id, StageEvent.action == ADVANCE,
        StageEvent.from_stage_id.in_(select(Stage.id).where(Stage.invites_survey.is_(True))),
    ))))


def may_answer(session: Session, dossier_id: int) -> tuple[bool, str]:
    """(True, "") when the dossier's applicant may answer now, else (False, a Refusal value)."""
    if session.get(Dossier, dossier_id) is None:
        return False, Refusal.UNKNOWN
    if session.scalar(select(exists().where(SurveyResponse.dossier_id == dossier_id))):
        return False, Refusal.ANSWERED
    if not handed_over(session, dossier_id):
        return False, Refusal.NOT_YET
    return True, ""


class AnswerError(ValueError):
    """Answers that cannot be kept: the elements left unanswered (or answered outside 1..4), or
    a comment that is too long (its length)."""

    def __init__(self, missing: Sequence[str] = (), comment_length: int | None = None) -> None:
        self.missing = tuple(missing)
        self.comment_length = comment_length
        super().__init__(f"missing {self.missing}, comment length {comment_length}")


def check_answers(form: Any) -> tuple[dict[str, int], str | None]:
    """The nine answers (u1..u9 -> 1..4) and the comment of a submitted form (a mapping), or
    AnswerError naming what is wrong."""
    answers: dict[str, int] = {}
    missing: list[str] = []
    for column, element in zip(ELEMENT_COLUMNS, ELEMENTS, strict=True):
        raw = str(form.get(column) or "").strip()
        if raw not in ("1", "2", "3", "4"):
            missing.append(element.code)
        else:
            answers[column] = int(raw)
    comment = str(form.get("comment") or "").strip()
    if missing or len(comment) > COMMENT_LENGTH:
        raise AnswerError(missing, len(comment) if len(comment) > COMMENT_LENGTH else None)
    return answers, comment or None


def record_answer(session: Session, dossier_id: int, answers: dict[str, int], comment: str | None,
                  now: dt.datetime) -> bool:
    """Keeps one dossier's answers and commits; False (nothing kept) when it was answered already,
    also by a post that committed meanwhile (the unique key decides)."""
    permit_type_id = session.scalar(select(Dossier.permit_type_id).where(Dossier.id == dossier_id))
    assert permit_type_id is not None, "record_answer after may_answer"
    session.add(SurveyResponse(dossier_id=dossier_id, permit_type_id=permit_type_id, answered_at=as_utc(now),
                               comment=comment, **answers))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True


# --------------------------------------------------------------------------- the index


@dataclass(frozen=True)
class Grade:
    letter: str  # A..D
    label: str  # the regulation's words (Sangat Baik .. Tidak Baik)


GRADES = (  # (lowest IKM of the grade, grade), best first
    (88.31, Grade("A", "Sangat Baik")),
    (76.61, Grade("B", "Baik")),
    (65.00, Grade("C", "Kurang Baik")),
    (25.00, Grade("D", "Tidak Baik")),
)


def grade_of(ikm_value: float) -> Grade:
    """The grade of an IKM as the regulation's table reads it, on the value rounded to 2 decimals."""
    value = round(ikm_value, 2)
    for lowest, grade in GRADES:
        if value >= lowest:
            return grade
    return GRADES[-1][1]


@dataclass(frozen=True)
class IkmResult:
    respondents: int
    nrr: tuple[float, ...]  # per element: mean answer (1..4)
    weighted: tuple[float, ...]  # per element: NRR x 1/9
    unit_value: float  # sum of the weighted NRR (1..4)
    ikm: float  # unit value x 25 (25..100)
    grade: Grade


def ikm_from_means(respondents: int, means: Sequence[float | None]) -> IkmResult | None:
    """The index from the nine means (as SQL's AVG gives them); None without respondents."""
    if respondents <= 0 or any(m is None for m in means):
        return None
    nrr = tuple(float(m) for m in means)  # type: ignore[arg-type]
    weighted = tuple(n * WEIGHT for n in nrr)
    unit_value = sum(weighted)
    value = unit_value * CONVERSION
    return IkmResult(respondents, nrr, weighted, unit_value, value, grade_of(value))


def ikm(rows: Iterable[Sequence[int]]) -> IkmResult | None:
    """The index of answer rows (each the nine answers u1..u9); None for no rows."""
    totals, count = [0] * len(ELEMENTS), 0
    for row in rows:
        assert len(row) == len(ELEMENTS)
        count += 1
        for i, answer in enumerate(row):
            totals[i] += answer
    return ikm_from_means(count, [t / count for t in totals]) if count else None


@dataclass(frozen=True)
class IkmLine:
    month: int  # 1..12, 0 for the whole year
    permit_type_id: int | None  # None for all permit types
    permit_type: str
    result: IkmResult


def ikm_table(session: Session, year: int, tz: dt.tzinfo | str, permit_type_id: int | None = None) -> list[IkmLine]:
    """A year's index per month (office time) and permit type, then per month for all permit types,
    then the year: averages and counts in one SQL query (GROUP BY month and permit type) with
    ROLLUP done here from the counts."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    bounds = [as_stored(session, dt.datetime(year + (m - 1) // 12, (m - 1) % 12 + 1, 1, tzinfo=zone))
              for m in range(1, 14)]
    month = case(*((SurveyResponse.answered_at < bounds[m], m) for m in range(1, 13)), else_=13)
    columns = [getattr(SurveyResponse, c) for c in ELEMENT_COLUMNS]
    query = (
        select(month.label("month"), SurveyResponse.permit_type_id, PermitType.name, func.count().label("n"),
               *(func.avg(c) for c in columns))
        .join(PermitType, PermitType.id == SurveyResponse.permit_type_id)
        .where(SurveyResponse.answered_at >= bounds[0], SurveyResponse.answered_at < bounds[12])
        .group_by(month, SurveyResponse.permit_type_id, PermitType.name)
        .order_by(month, PermitType.name)
    )
    if permit_type_id is not None:
        query = query.where(SurveyResponse.permit_type_id == permit_type_id)
    lines: list[IkmLine] = []
    # Sums per month and for the year, across permit types: sum of (mean x n) / sum of n.
    sums: dict[int, tuple[int, list[float]]] = {}
    for row in session.execute(query):
        n, means = int(row.n), [float(v) for v in row[4:]]
        result = ikm_from_means(n, means)
        assert result is not None
        lines.append(IkmLine(int(row.month), row.permit_type_id, row.name, result))
        for key in (int(row.month), 0):
            count, totals = sums.get(key, (0, [0.0] * len(ELEMENTS)))
            sums[key] = (count + n, [t + m * n for t, m in zip(totals, means, strict=True)])
    for key in sorted(sums, key=lambda k: (k == 0, k)):
        count, totals = sums[key]
        result = ikm_from_means(count, [t / count for t in totals])
        assert result is not None
        lines.append(IkmLine(key, None, "", result))
    return lines


def period_ikm(session: Session, start: dt.datetime, end: dt.datetime,
               permit_type_id: int | None = None) -> IkmResult | None:
    """The index of the answers given in [start, end): one SQL query of averages."""
    columns = [getattr(SurveyResponse, c) for c in ELEMENT_COLUMNS]
    query = select(func.count(), *(func.avg(c) for c in columns)).where(
        SurveyResponse.answered_at >= as_stored(session, start), SurveyResponse.answered_at < as_stored(session, end))
    if permit_type_id is not None:
        query = query.where(SurveyResponse.permit_type_id == permit_type_id)
    row = session.execute(query).one()
    return ikm_from_means(int(row[0]), [None if v is None else float(v) for v in row[1:]])


# --------------------------------------------------------------------------- invitations


def invitation_key(dossier_id: int) -> str:
    return f"skm:{dossier_id}"


def survey_url(base_url: str, secret: str, dossier_id: int) -> str:
    return f"{base_url.rstrip('/')}/survei/{survey_token(secret, dossier_id)}"


def invite_due(session: Session, now: dt.datetime, *, base_url: str, secret: str,
               enqueue: Callable[..., Any], lookback: dt.timedelta = INVITE_LOOKBACK,
               batch: int = INVITE_BATCH) -> int:
    """Queues one invitation e-mail per dossier that left an inviting stage in the last `lookback`,
    whose applicant has an e-mail, that is not answered and not invited yet; returns how many.
    Adds to the caller's transaction (no commit).

    The outbox is the memory: an invitation's dedup key is "skm:<dossier id>", so a dossier
    invited once (sent or not) is never picked again, also by two runs at once (enqueue's
    ON CONFLICT). The look-up reads the moves out of the inviting stages by
    ix_stage_event_from_stage_occurred (stage, time), probes the outbox by its unique dedup key
    and survey_response by its unique dossier key, and takes at most `batch` dossiers a run: the
    rest follow in the next runs.
    """
    since = as_stored(session, as_utc(now) - lookback)
    inviting = select(Stage.id).where(Stage.invites_survey.is_(True))
    key = literal("skm:", String) + cast(Dossier.id, String)
    rows = session.execute(
        select(Dossier.id, Dossier.receipt_number, Applicant.full_name, Applicant.email, PermitType.name)
        .select_from(StageEvent)
        .join(Dossier, Dossier.id == StageEvent.dossier_id)
        .join(Applicant, Applicant.id == Dossier.applicant_id)
        .join(PermitType, PermitType.id == Dossier.permit_type_id)
        .where(StageEvent.from_stage_id.in_(inviting), StageEvent.occurred_at >= since, StageEvent.action == ADVANCE,
               Applicant.email.is_not(None), Applicant.email.contains("@"),
               ~exists().where(SurveyResponse.dossier_id == Dossier.id),
               ~exists().where(OutboxMessage.dedup_key == key))
        .group_by(Dossier.id, Dossier.receipt_number, Applicant.full_name, Applicant.email, PermitType.name)
        .order_by(Dossier.id)
        .limit(batch)
    ).all()
    queued = 0
    for row in rows:
        link = survey_url(base_url, secret, row.id)
        body = (
            f"Yth. {row.full_name},\n\n"
            f"Izin Anda ({row.name}, nomor tanda terima {row.receipt_number}) telah diserahkan. "
            "Mohon kesediaan Anda mengisi Survei Kepuasan Masyarakat (9 pertanyaan, sekitar 2 menit) "
            f"melalui tautan berikut:\n\n{link}\n\n"
            "Survei hanya dapat diisi satu kali untuk setiap berkas. Jawaban Anda membantu kami "
            "memperbaiki pelayanan.\n\nTerima kasih."
        )
        try:
            message = enqueue(session, recipient=row.email,
                              subject=f"Survei Kepuasan Masyarakat – {row.receipt_number}",
                              body_text=body, dedup_key=invitation_key(row.id), now=now)
        except ValueError:
            log.warning("SKM invitation of dossier %s not queued: unusable e-mail address", row.id)
            continue
        queued += message is not None
    return queued
