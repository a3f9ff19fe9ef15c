"""seed.demo: deterministic, valid, internally consistent demo data (300 dossiers, generated once)."""
from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.models import (
    Applicant,
    Company,
    Document,
    Dossier,
    RegisterEntry,
    RequirementType,
    Stage,
    StageEvent,
)
from app.regions import desa_choices, kecamatan_choices
from app.sop.calendar import WorkingCalendar
from app.sop.machine import replay
from app.validators import (
    normalize_email,
    normalize_nib,
    normalize_nik,
    normalize_npwp,
    normalize_phone,
)
from seed.demo import generate
from tests.conftest import BUSINESS_TABLES

REFERENCE = dt.date(2026, 6, 15)
SEED = 11
N = 300
JAKARTA = ZoneInfo("Asia/Jakarta")
# Rows whose ids the database assigns (sequences differ between runs on PostgreSQL).
DB_NUMBERED = {"stage_event", "document", "register_entry"}
TABLES = {
    "company": Company, "applicant": Applicant, "dossier": Dossier, "stage_event": StageEvent,
    "document": Document, "register_entry": RegisterEntry,
}


def _wipe() -> None:
    db.session.rollback()
    for table in BUSINESS_TABLES:
        db.session.execute(text(f"DELETE FROM {table}"))
    db.session.commit()


def _utc(value: dt.datetime) -> dt.datetime:
    """SQLite hands back naive UTC, PostgreSQL aware datetimes."""
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


def _snapshot() -> dict[str, list[dict]]:
    snap = {}
    for name, model in TABLES.items():
        table = model.__table__
        rows = [dict(r._mapping) for r in db.session.execute(select(table).order_by(*table.primary_key.columns))]
        for row in rows:
            if name in DB_NUMBERED:
                row.pop("id")
            for key, value in row.items():
                if isinstance(value, dt.datetime):
                    row[key] = _utc(value)
        snap[name] = rows
    return snap


@pytest.fixture(scope="module")
def demo(app):
    """Generates twice with the same seed (wiping in between) and once more with another seed."""
    with app.app_context():
        _wipe()
        try:
            generate(N, seed=SEED + 1, reference_date=REFERENCE)
            other = _snapshot()
            _wipe()
            generate(N, seed=SEED, reference_date=REFERENCE)
            first = _snapshot()
            _wipe()
            summary = generate(N, seed=SEED, reference_date=REFERENCE)
            second = _snapshot()
            stages = {s.id: s for s in db.session.scalars(select(Stage))}
            requirements = {r.id: r for r in db.session.scalars(select(RequirementType))}
            for obj in (*stages.values(), *requirements.values()):
                db.session.expunge(obj)
        finally:
            _wipe()
    return dict(summary=summary, first=first, second=second, other=other, stages=stages, requirements=requirements)


def _events_by_dossier(snap: dict) -> dict[int, list[dict]]:
    events = defaultdict(list)
    for event in snap["stage_event"]:  # in insertion order, i.e. walk order
        events[event["dossier_id"]].append(event)
    return events


def test_summary_is_one_indonesian_line(demo):
    summary = demo["summary"]
    assert "\n" not in summary
    assert summary.startswith("Data demo dibuat: 100 perusahaan")
    assert f"{N} berkas" in summary and "detik" in summary


def test_same_seed_same_data_other_seed_other_data(demo):
    first, second, other = demo["first"], demo["second"], demo["other"]
    assert first == second
    assert [d["receipt_number"] for d in first["dossier"]] != [d["receipt_number"] for d in other["dossier"]]
    assert {a["nik"] for a in first["applicant"]} != {a["nik"] for a in other["applicant"]}


def test_counts(demo):
    snap = demo["first"]
    assert len(snap["company"]) == N // 3
    assert N // 3 <= len(snap["applicant"]) <= 2 * (N // 3)
    assert len(snap["dossier"]) == N
    assert len(snap["stage_event"]) > 10 * N


def test_company_identity_and_contact_pass_validators(demo):
    kecamatan = {code for code, _ in kecamatan_choices("61.08")}
    desa = {code for code, _ in desa_choices("61.08")}
    companies = demo["first"]["company"]
    assert len({c["nib"] for c in companies}) == len(companies)
    for c in companies:
        assert normalize_nib(c["nib"]) == c["nib"]
        assert normalize_npwp(c["npwp"]) == c["npwp"]
        assert normalize_email(c["email"]) == c["email"]
        assert normalize_phone(c["phone"]) == c["phone"]
        assert c["kecamatan_code"] in kecamatan
        assert c["desa_code"] in desa and c["desa_code"].startswith(c["kecamatan_code"] + ".")
        assert re.fullmatch(r"Jl\. .+ No\. \d+", c["address"])
        assert c["legal_form"] in {"PT", "CV", "KOPERASI", "FIRMA", "PERSEORANGAN", "YAYASAN", "BUMD"}
        assert c["deed_number"] and c["deed_date"] < REFERENCE
    assert len({c["name"] for c in companies}) == len(companies)


def test_applicant_nik_unique_valid_and_from_landak(demo):
    applicants = demo["first"]["applicant"]
    assert len({a["nik"] for a in applicants}) == len(applicants)
    kecamatan = {code.replace(".", "") for code, _ in kecamatan_choices("61.08")}
    for a in applicants:
        assert normalize_nik(a["nik"]) == a["nik"]
        assert a["nik"][:6] in kecamatan
        assert normalize_email(a["email"]) == a["email"]
        assert normalize_phone(a["phone"]) == a["phone"]
        assert a["position"] and a["full_name"] and a["company_id"]
    assert any(int(a["nik"][6:8]) > 40 for a in applicants), "no women among the applicants"


def test_dossiers_submitted_on_working_days_in_office_hours(demo):
    calendar = WorkingCalendar()
    receipts = set()
    for d in demo["first"]["dossier"]:
        local = d["submitted_at"].astimezone(JAKARTA)
        assert REFERENCE - dt.timedelta(days=366) <= local.date() < REFERENCE
        assert calendar.is_working_day(local.date())
        assert dt.time(7, 30) <= local.time() < dt.time(16, 0)
        assert d["due_at"] == calendar.due_at(d["submitted_at"], 5)
        assert re.fullmatch(r"IPK-\d{2}-[0-9A-HJKMNP-TV-Z]{6}", d["receipt_number"])
        assert d["receipt_number"][4:6] == f"{local:%y}"
        receipts.add(d["receipt_number"])
    assert len(receipts) == N


def test_status_matches_stage(demo):
    stages = demo["stages"]
    events = _events_by_dossier(demo["first"])
    counts = defaultdict(int)
    for d in demo["first"]["dossier"]:
        stage = stages[d["stage_id"]]
        last = events[d["id"]][-1]
        counts[d["status"]] += 1
        if d["status"] == "in_progress":
            assert stage.seq <= 12 and last["action"] in ("submit", "advance", "resume")
        elif d["status"] == "returned":
            assert stage.code in ("ENTRY_DATA", "VERIFIKASI") and last["action"] == "return"
        elif d["status"] == "rejected":
            assert stage.code in ("PEMERIKSAAN_KASI", "PARAF_KABID", "PENANDATANGANAN") and last["action"] == "reject"
        elif d["status"] == "issued":
            assert stage.code in ("PENOMORAN_CETAK", "PENYERAHAN")
        else:
            assert d["status"] == "archived" and stage.code == "PENGARSIPAN"
    assert counts["archived"] > N / 2
    assert counts["returned"] and counts["rejected"] and counts["in_progress"]
    assert counts["returned"] + counts["rejected"] < N / 5


def test_history_is_a_walk_in_office_time(demo):
    calendar = WorkingCalendar()
    end = dt.datetime.combine(REFERENCE, dt.time(0, 0), tzinfo=JAKARTA)
    events = _events_by_dossier(demo["first"])
    for d in demo["first"]["dossier"]:
        walk = events[d["id"]]
        assert walk[0]["action"] == "submit" and walk[0]["from_stage_id"] is None
        assert walk[0]["occurred_at"] == d["submitted_at"]
        assert d["version"] == len(walk)
        # The history replays, as app.sop.machine reads it, to the dossier's own stage and status
        # (issuing is not a move yet: an issued permit replays as in progress).
        stage_id, status = replay([SimpleNamespace(**e) for e in walk[1:]], walk[0]["to_stage_id"])
        assert stage_id == d["stage_id"]
        assert status == ("in_progress" if d["status"] == "issued" else d["status"])
        for before, after in zip(walk, walk[1:]):
            assert after["occurred_at"] > before["occurred_at"]
            assert after["from_stage_id"] == before["to_stage_id"]
            assert after["action"] in ("advance", "return", "resume", "reject")
        for event in walk:
            local = event["occurred_at"].astimezone(JAKARTA)
            assert local < end
            assert calendar.is_working_day(local.date()) and dt.time(7, 30) <= local.time() < dt.time(16, 0)


def test_register_gapless_per_year_in_issue_order(demo):
    snap = demo["first"]
    stages = demo["stages"]
    finished = {d["id"]: d for d in snap["dossier"] if d["status"] in ("issued", "archived")}
    entries = snap["register_entry"]
    assert {e["dossier_id"] for e in entries} == set(finished)
    by_year = defaultdict(list)
    for e in entries:
        by_year[e["year"]].append(e)
    for year, rows in by_year.items():
        rows.sort(key=lambda e: e["seq"])
        assert [e["seq"] for e in rows] == list(range(1, len(rows) + 1))
        dates = [e["issue_date"] for e in rows]
        assert dates == sorted(dates) and all(day.year == year for day in dates)
        for e in rows:
            assert e["permit_number"] == f"503/{e['seq']:04d}/IPK/DPMPTSPTK/{year}"
            assert e["register_number"] == f"REG/{e['seq']:04d}/{year}"
            assert (e["book_page"] - 1) * 25 + e["book_line"] == e["seq"]
            archived = stages[finished[e["dossier_id"]]["stage_id"]].code == "PENGARSIPAN"
            assert bool(e["archive_box"]) == bool(e["archive_shelf"]) == archived
            assert e["entry_date"] >= e["issue_date"]


def test_documents_only_for_requirements_already_past_their_stage(demo):
    snap, stages, requirements = demo["first"], demo["stages"], demo["requirements"]
    dossiers = {d["id"]: d for d in snap["dossier"]}
    left = defaultdict(set)
    for e in snap["stage_event"]:
        if e["action"] == "advance":
            left[e["dossier_id"]].add(e["from_stage_id"])
    assert snap["document"]
    for doc in snap["document"]:
        requirement = requirements[doc["requirement_type_id"]]
        assert requirement.due_stage_id in left[doc["dossier_id"]]
        assert doc["uploaded_at"] >= dossiers[doc["dossier_id"]]["submitted_at"]
        assert doc["verified_at"] >= doc["uploaded_at"]
        assert re.fullmatch(r"[0-9a-f]{64}", doc["sha256"])
    assert stages  # loaded
