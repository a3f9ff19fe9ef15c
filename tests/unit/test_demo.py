"""seed.demo: deterministic, valid, internally consistent demo data (300 dossiers, generated once)."""
from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import (
    Applicant,
    Company,
    Document,
    Dossier,
    NumberCounter,
    Permit,
    PermitType,
    RegisterEntry,
    RequirementType,
    Stage,
    StageEvent,
)
from app.regions import desa_choices, kecamatan_choices
from app.sop.calendar import WorkingCalendar
from app.sop.machine import replay
from app.sop.number_format import format_permit_number
from app.sop.numbering import REGISTER_NUMBER_FORMAT, REGISTER_SERIES, next_number
from app.validators import (
    normalize_email,
    normalize_nib,
    normalize_nik,
    normalize_npwp,
    normalize_phone,
)
from seed.demo import generate
from tests.conftest import wipe_business_tables

REFERENCE = dt.date(2026, 6, 15)
SEED = 11
N = 300
JAKARTA = ZoneInfo("Asia/Jakarta")
# Rows whose ids the database assigns (sequences differ between runs on PostgreSQL).
DB_NUMBERED = {"stage_event", "document", "register_entry", "permit"}
TABLES = {
    "company": Company, "applicant": Applicant, "dossier": Dossier, "stage_event": StageEvent,
    "document": Document, "register_entry": RegisterEntry, "permit": Permit, "number_counter": NumberCounter,
}


def _wipe() -> None:
    wipe_business_tables()


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
            permit_types = {p.id: p for p in db.session.scalars(select(PermitType))}
            for obj in (*stages.values(), *requirements.values(), *permit_types.values()):
                db.session.expunge(obj)
        finally:
            _wipe()
    return dict(
        summary=summary, first=first, second=second, other=other, stages=stages, requirements=requirements,
        permit_types=permit_types,
    )


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
    issued = sum(d["status"] in ("issued", "archived") for d in demo["second"]["dossier"])
    assert f"{issued} izin bernomor, {issued} baris register" in summary


def test_same_seed_same_data_other_seed_other_data(demo):
    first, second, other = demo["first"], demo["second"], demo["other"]
    assert first == second
    assert [d["receipt_number"] for d in first["dossier"]] != [d["receipt_number"] for d in other["dossier"]]
    assert {p["token"] for p in first["permit"]}.isdisjoint(p["token"] for p in other["permit"])
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
    issuing = frozenset(s.id for s in demo["stages"].values() if s.issues_permit)
    assert len(issuing) == 1, "the SOP issues the permit at one stage"
    for d in demo["first"]["dossier"]:
        walk = events[d["id"]]
        assert walk[0]["action"] == "submit" and walk[0]["from_stage_id"] is None
        assert walk[0]["occurred_at"] == d["submitted_at"]
        assert d["version"] == len(walk)
        # The history replays, as app.sop.machine reads it, to the dossier's own stage and status.
        stage_id, status = replay([SimpleNamespace(**e) for e in walk[1:]], walk[0]["to_stage_id"], issuing)
        assert stage_id == d["stage_id"]
        assert status == d["status"]
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
            assert e["register_number"] == REGISTER_NUMBER_FORMAT.format(seq=e["seq"], year=year)
            assert (e["book_page"] - 1) * 25 + e["book_line"] == e["seq"]
            archived = stages[finished[e["dossier_id"]]["stage_id"]].code == "PENGARSIPAN"
            assert bool(e["archive_box"]) == bool(e["archive_shelf"]) == archived
            # As app.sop.numbering enters it: on the issue date, archived or not.
            assert e["entry_date"] == e["issue_date"]


def test_every_issued_dossier_has_one_numbered_permit_matching_its_register_line(demo):
    snap, stages, permit_types = demo["first"], demo["stages"], demo["permit_types"]
    dossiers = {d["id"]: d for d in snap["dossier"]}
    issuing = {s.id for s in stages.values() if s.issues_permit}
    advanced_in = {  # dossier -> when it advanced into the issuing stage
        e["dossier_id"]: e["occurred_at"]
        for e in snap["stage_event"]
        if e["action"] == "advance" and e["to_stage_id"] in issuing
    }
    permits = snap["permit"]
    by_dossier = defaultdict(list)
    for p in permits:
        by_dossier[p["dossier_id"]].append(p)
    issued = {i for i, d in dossiers.items() if d["status"] in ("issued", "archived")}
    assert issued and set(by_dossier) == issued == set(advanced_in)
    assert all(len(found) == 1 for found in by_dossier.values())
    register = {e["dossier_id"]: e for e in snap["register_entry"]}
    for p in permits:
        d, line = dossiers[p["dossier_id"]], register[p["dossier_id"]]
        permit_type = permit_types[p["permit_type_id"]]
        assert p["permit_type_id"] == d["permit_type_id"] and p["series"] == permit_type.code
        assert p["number"] == line["permit_number"]
        assert p["number"] == format_permit_number(
            permit_type.permit_number_format, seq=p["seq"], year=p["year"], prefix=permit_type.receipt_prefix
        )
        assert p["issued_at"] == advanced_in[p["dossier_id"]]
        assert p["issued_on"] == p["issued_at"].astimezone(JAKARTA).date() == line["issue_date"]
        assert p["year"] == p["issued_on"].year == line["year"]
        assert p["valid_until"] is None  # SOP 76 states no validity period
        assert p["revoked_at"] is None and p["revoked_by_id"] is None
        assert re.fullmatch(r"[A-Za-z0-9_-]{32}", p["token"])
    assert len({p["token"] for p in permits}) == len(permits)
    assert len({p["number"] for p in permits}) == len(permits)


def test_permits_gapless_per_series_and_year_in_issue_order_and_counters_continue(demo):
    snap = demo["first"]
    counters = {(c["series"], c["year"]): c["last_seq"] for c in snap["number_counter"]}
    permits = defaultdict(list)
    for p in snap["permit"]:
        permits[(p["series"], p["year"])].append(p)
    assert permits
    for (series, year), rows in permits.items():
        rows.sort(key=lambda p: p["seq"])
        assert [p["seq"] for p in rows] == list(range(1, len(rows) + 1))
        issued = [p["issued_at"] for p in rows]
        assert issued == sorted(issued)
        assert counters[(series, year)] == len(rows)
    lines = defaultdict(int)
    for e in snap["register_entry"]:
        lines[e["year"]] = max(lines[e["year"]], e["seq"])
    assert {(REGISTER_SERIES, year): last for year, last in lines.items()} == {
        key: last for key, last in counters.items() if key[0] == REGISTER_SERIES
    }
    assert set(counters) == set(permits) | {(REGISTER_SERIES, year) for year in lines}


def test_the_next_real_issue_continues_after_the_demo_numbers(app):
    with app.app_context():
        _wipe()
        try:
            generate(40, seed=SEED, reference_date=REFERENCE)
            counters = db.session.execute(select(NumberCounter.series, NumberCounter.year, NumberCounter.last_seq)).all()
            assert {series for series, _, _ in counters} == {"IZIN_POOL_KENDARAAN", REGISTER_SERIES}
            for series, year, last in counters:
                assert next_number(db.session, series, year) == last + 1
            db.session.rollback()
        finally:
            _wipe()


def test_an_sop_without_an_issuing_stage_issues_nothing(app):
    with app.app_context():
        _wipe()
        issuing = list(db.session.scalars(select(Stage.id).where(Stage.issues_permit)))
        db.session.execute(update(Stage).where(Stage.id.in_(issuing)).values(issues_permit=False))
        db.session.commit()
        try:
            summary = generate(40, seed=SEED, reference_date=REFERENCE)
            statuses = set(db.session.scalars(select(Dossier.status)))
            assert "archived" in statuses and "issued" not in statuses
            for model in (Permit, RegisterEntry, NumberCounter):
                assert db.session.scalar(select(func.count()).select_from(model)) == 0
            assert "0 izin bernomor, 0 baris register" in summary
        finally:
            _wipe()
            db.session.execute(update(Stage).where(Stage.id.in_(issuing)).values(issues_permit=True))
            db.session.commit()


def test_every_dossier_has_a_pool_site_in_landak(demo):
    snap, stages = demo["first"], demo["stages"]
    verification = next(s.id for s in stages.values() if s.code == "VERIFIKASI")
    assert "dossier.site_address" in stages[verification].required_fields
    left_verification = {
        e["dossier_id"] for e in snap["stage_event"] if e["action"] == "advance" and e["from_stage_id"] == verification
    }
    dossiers = {d["id"]: d for d in snap["dossier"]}
    assert left_verification
    # The engine would not have let them leave VERIFIKASI without these.
    assert all(dossiers[i]["site_address"] and dossiers[i]["vehicle_capacity"] for i in left_verification)
    kecamatan = {name for _, name in kecamatan_choices("61.08")}
    for d in snap["dossier"]:
        match = re.fullmatch(r"Jl\. .+ (No\.|Km) \d+, .+, Kec\. (.+)", d["site_address"])
        assert match and match.group(2) in kecamatan, d["site_address"]
        assert 400 <= d["site_area_m2"] <= 5000 and 5 <= d["vehicle_capacity"] <= 80
    assert len({d["site_address"] for d in snap["dossier"]}) > N * 0.9


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
