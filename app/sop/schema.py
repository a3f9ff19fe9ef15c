"""An SOP file, parsed and checked. Parsing touches no database."""
from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from app.sop.fields import FIELD_CHECKS
from app.sop.number_format import DEFAULT_PERMIT_NUMBER_FORMAT, format_permit_number


class SopFileError(ValueError):
    """A problem in an SOP file; the message names the file and the problem."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{Path(path).name}: {problem}")


@dataclass(frozen=True)
class StepDef:
    no: int
    code: str
    name: str
    activity: str
    actor: str
    role: str
    time_text: str
    time_minutes: int
    inputs: str
    output: str
    applicant_step: bool
    office_continuation: bool
    required_fields: tuple[str, ...] = ()
    issues_permit: bool = False
    # Leaving this step (the permit handed over) invites the applicant to the SKM survey.
    invites_survey: bool = False
    # Who may reject a dossier at this step (None: nobody; a rejection ends the dossier).
    reject_role: str | None = None
    # Who takes a dossier returned at this step back from the applicant (SOP 76: the FO).
    resume_role: str = ""
    # The applicant's own event that does this step for a dossier applied for online (ONLINE_EVENTS).
    online_event: str | None = None


@dataclass(frozen=True)
class RequirementDef:
    seq: int
    code: str
    name: str
    mandatory: bool
    due_stage: str


@dataclass(frozen=True)
class SopDefinition:
    path: str
    content_hash: str
    code: str
    name: str
    sop_number: str
    receipt_prefix: str
    legal_bases: tuple[str, ...]
    executor_qualifications: tuple[str, ...]
    equipment: tuple[str, ...]
    related_sops: tuple[str, ...]
    recording: tuple[str, ...]
    service_days: int
    fee: Decimal
    output_document: str
    validity_months: int | None
    permit_number_format: str
    steps: tuple[StepDef, ...] = field(default_factory=tuple)
    requirements: tuple[RequirementDef, ...] = field(default_factory=tuple)


# The applicant's events on the portal that can do an SOP step, and how a history note names them.
ONLINE_EVENTS = {
    "account_verified": "akun terverifikasi",
    "signed_in": "masuk ke aplikasi",
    "data_filled": "data permohonan diisi",
}

_TIME = re.compile(r"^\s*(\d+)\s*(menit|jam|hari kerja|hari)\s*$", re.IGNORECASE)
_CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")


def parse_time(text: str, working_day_minutes: int) -> int:
    """'10 Menit' -> 10, '1 jam' -> 60, '2 hari kerja' -> 2 working days in minutes."""
    match = _TIME.match(str(text))
    if not match:
        raise ValueError(text)
    amount, unit = int(match.group(1)), match.group(2).lower()
    if unit == "menit":
        return amount
    if unit == "jam":
        return amount * 60
    return amount * working_day_minutes


@dataclass(frozen=True)
class SopPlaces:
    """How problems are named for a source that is not a YAML file (an SOP sheet, app.sop.sheet).

    `steps[i]` / `requirements[i]` name the place of the (i+1)-th step / requirement (e.g.
    "baris 12 (langkah 4)"); the label maps give the source's own name for a key (e.g.
    "sop_number" -> "Nomor SOP"). Anything not given falls back to the YAML wording.
    """

    top: str = "SOP"
    steps: Sequence[str] = ()
    requirements: Sequence[str] = ()
    top_labels: Mapping[str, str] = field(default_factory=dict)
    step_labels: Mapping[str, str] = field(default_factory=dict)
    requirement_labels: Mapping[str, str] = field(default_factory=dict)


def content_hash(raw: bytes, working_day_minutes: int) -> str:
    """Hash of a source file's bytes and the working day it was read with (same file -> no-op load)."""
    return hashlib.sha256(raw + f"|{working_day_minutes}".encode()).hexdigest()


class _Reader:
    """Reads one mapping, naming the file and the place of every problem."""

    def __init__(self, path: str | Path, data: Any, where: str, labels: Mapping[str, str] | None = None) -> None:
        if not isinstance(data, dict):
            raise SopFileError(path, f"{where} harus berupa mapping (kunci: nilai)")
        self.path, self.data, self.where, self.labels = path, data, where, labels or {}

    def label(self, key: str) -> str:
        return self.labels.get(key, key)

    def fail(self, problem: str) -> SopFileError:
        return SopFileError(self.path, f"{self.where}: {problem}")

    def get(self, key: str, kind: type | tuple[type, ...], required: bool = True, default: Any = None) -> Any:
        if key not in self.data or self.data[key] is None:
            if required:
                raise self.fail(f"kolom wajib '{self.label(key)}' tidak ada")
            return default
        value = self.data[key]
        if kind is int and isinstance(value, bool) or not isinstance(value, kind):
            raise self.fail(f"kolom '{self.label(key)}' bertipe salah ({type(value).__name__})")
        return value

    def text(self, key: str, required: bool = True) -> str:
        value = self.get(key, (str, int), required, "")
        value = str(value).strip()
        if required and not value:
            raise self.fail(f"kolom wajib '{self.label(key)}' kosong")
        return value

    def texts(self, key: str, required: bool = True) -> tuple[str, ...]:
        values = self.get(key, list, required, [])
        if not all(isinstance(v, str) and v.strip() for v in values):
            raise self.fail(f"kolom '{self.label(key)}' harus berupa daftar teks")
        return tuple(v.strip() for v in values)

    def role(self, key: str, roles: frozenset[str], required: bool = True) -> str:
        value = self.text(key, required)
        if value and value not in roles:
            column = "" if key == "role" else f"kolom '{self.label(key)}': "
            raise self.fail(f"{column}peran '{value}' tidak dikenal (yang dikenal: {', '.join(sorted(roles))})")
        return value

    def code(self, key: str) -> str:
        value = self.text(key)
        if not _CODE.match(value):
            raise self.fail(f"kode '{value}' harus huruf besar, angka dan garis bawah")
        return value


def parse_sop(path: str | Path, roles: frozenset[str], working_day_minutes: int) -> SopDefinition:
    path = Path(path)
    try:
        raw = path.read_bytes()
        data = yaml.safe_load(raw)
    except OSError as exc:
        raise SopFileError(path, f"berkas tidak dapat dibaca ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise SopFileError(path, f"YAML tidak valid: {exc}") from exc
    return build_sop(path, data, roles, working_day_minutes, content_hash=content_hash(raw, working_day_minutes))


def build_sop(
    path: str | Path,
    data: Any,
    roles: frozenset[str],
    working_day_minutes: int,
    *,
    content_hash: str,
    places: SopPlaces | None = None,
) -> SopDefinition:
    """Checks an SOP given as YAML-shaped data and builds its definition.

    The one validating constructor: the YAML parser and the SOP sheet reader both go through it.
    """
    places = places or SopPlaces()
    top = _Reader(path, data, places.top, places.top_labels)
    try:
        fee = Decimal(str(top.get("fee", (int, float, str))))
    except InvalidOperation as exc:
        raise top.fail(f"kolom '{top.label('fee')}' harus berupa angka") from exc
    service_days = top.get("service_days", int)
    if service_days < 1:
        raise top.fail(f"kolom '{top.label('service_days')}' harus minimal 1")

    steps: list[StepDef] = []
    raw_steps = [(s, False) for s in top.get("steps", list)]
    raw_steps += [(s, True) for s in top.get("office_continuation", list, required=False, default=[])]
    if not raw_steps:
        raise top.fail("daftar 'steps' kosong")
    seen_codes: set[str] = set()
    # Who takes returned files back, unless a step says otherwise: as the SOP file says, else the
    # role of the first step, the counter that received the file.
    default_resume = top.role("resume_role", roles, required=False)
    for index, (raw_step, continuation) in enumerate(raw_steps, start=1):
        place = places.steps[index - 1] if index <= len(places.steps) else None
        step = _Reader(path, raw_step, place or f"langkah ke-{index}", places.step_labels)
        no = step.get("step", int)
        if no != index:
            raise step.fail(f"nomor langkah {no} tidak urut (seharusnya {index})")
        code = step.code("code")
        step.where = place or f"langkah {no} ({code})"
        if code in seen_codes:
            raise step.fail(f"kode tahapan '{code}' ganda")
        seen_codes.add(code)
        role = step.role("role", roles)
        default_resume = default_resume or role
        reject_role = step.role("reject_role", roles, required=False) or None
        resume_role = step.role("resume_role", roles, required=False) or default_resume
        time_text = step.text("time")
        try:
            minutes = parse_time(time_text, working_day_minutes)
        except ValueError as exc:
            raise step.fail(f"waktu '{time_text}' tidak dipahami (contoh: '10 Menit', '2 hari kerja')") from exc
        online_event = step.text("online_event", required=False) or None
        if online_event is not None and online_event not in ONLINE_EVENTS:
            raise step.fail(f"kolom '{step.label('online_event')}': peristiwa daring '{online_event}' tidak dikenal "
                            f"(yang dikenal: {', '.join(ONLINE_EVENTS)})")
        required_fields = step.texts("required_fields", required=False)
        unknown = [f for f in required_fields if f not in FIELD_CHECKS]
        if unknown:
            raise step.fail(f"isian '{unknown[0]}' tidak dikenal")
        steps.append(
            StepDef(
                no=no,
                code=code,
                name=step.text("name"),
                activity=step.text("activity"),
                actor=step.text("actor"),
                role=role,
                time_text=time_text,
                time_minutes=minutes,
                inputs=step.text("inputs", required=False),
                output=step.text("output", required=False),
                applicant_step=bool(step.get("applicant_step", bool, required=False, default=False)),
                office_continuation=continuation,
                required_fields=required_fields,
                issues_permit=bool(step.get("issues_permit", bool, required=False, default=False)),
                invites_survey=bool(step.get("invites_survey", bool, required=False, default=False)),
                reject_role=reject_role,
                resume_role=resume_role,
                online_event=online_event,
            )
        )
    issuing = [s for s in steps if s.issues_permit]
    if len(issuing) > 1:
        raise top.fail("hanya satu tahapan boleh menerbitkan nomor izin (issues_permit), bukan "
                       + ", ".join(s.code for s in issuing))
    inviting = [s for s in steps if s.invites_survey]
    if len(inviting) > 1:
        raise top.fail("hanya satu tahapan boleh mengundang Survei Kepuasan Masyarakat (invites_survey), bukan "
                       + ", ".join(s.code for s in inviting))
    for event in ONLINE_EVENTS:
        doing = [s for s in steps if s.online_event == event]
        if len(doing) > 1:
            raise top.fail(f"peristiwa daring '{event}' hanya boleh pada satu tahapan, bukan "
                           + ", ".join(s.code for s in doing))
    # A numbered permit is revoked by the Kepala Dinas, never rejected: no step at or after the
    # numbering step may reject.
    late = [s for s in steps if s.reject_role and issuing and s.no >= issuing[0].no]
    if late:
        step = late[0]
        where = places.steps[step.no - 1] if step.no <= len(places.steps) else f"langkah {step.no} ({step.code})"
        raise SopFileError(path, (
            f"{where}: penolakan ('{places.step_labels.get('reject_role', 'reject_role')}') hanya boleh sebelum "
            f"penomoran izin (langkah {issuing[0].no}, {issuing[0].code}); izin yang sudah bernomor dicabut, "
            "bukan ditolak"))

    requirements: list[RequirementDef] = []
    seen_reqs: set[str] = set()
    for index, raw_req in enumerate(top.get("requirements", list), start=1):
        place = places.requirements[index - 1] if index <= len(places.requirements) else None
        req = _Reader(path, raw_req, place or f"persyaratan ke-{index}", places.requirement_labels)
        code = req.code("code")
        req.where = place or f"persyaratan {code}"
        if code in seen_reqs:
            raise req.fail(f"kode persyaratan '{code}' ganda")
        seen_reqs.add(code)
        due = req.code("due_stage")
        if due not in seen_codes:
            raise req.fail(f"tahapan '{due}' tidak ada di SOP ini")
        requirements.append(
            RequirementDef(
                seq=index,
                code=code,
                name=req.text("name"),
                mandatory=bool(req.get("mandatory", bool, required=False, default=True)),
                due_stage=due,
            )
        )

    validity = top.get("validity_months", int, required=False)
    number_format = top.get("permit_number_format", str, required=False, default=DEFAULT_PERMIT_NUMBER_FORMAT)
    try:
        sample = format_permit_number(number_format, seq=1, year=2026, prefix="X")
    except (KeyError, IndexError, ValueError) as exc:
        raise top.fail(f"format nomor izin '{number_format}' tidak valid: gunakan {{seq}}, {{year}} dan {{prefix}}") from exc
    if "{seq" not in number_format or "{year" not in number_format or len(sample) > 80:
        raise top.fail(f"format nomor izin '{number_format}' harus memuat {{seq}} dan {{year}} (paling panjang 80 huruf)")
    return SopDefinition(
        path=str(path),
        content_hash=content_hash,
        code=top.code("code"),
        name=top.text("name"),
        sop_number=top.text("sop_number"),
        receipt_prefix=top.code("receipt_prefix"),
        legal_bases=top.texts("legal_bases"),
        executor_qualifications=top.texts("executor_qualifications", required=False),
        equipment=top.texts("equipment", required=False),
        related_sops=top.texts("related_sops", required=False),
        recording=top.texts("recording", required=False),
        service_days=service_days,
        fee=fee,
        output_document=top.text("output_document"),
        validity_months=validity,
        permit_number_format=number_format,
        steps=tuple(steps),
        requirements=tuple(requirements),
    )
