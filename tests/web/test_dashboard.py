"""Laporan → Dasbor: the figures agree with the monthly register of the same month, every bar opens
the grid of exactly the dossiers it counts, the tallies are kept incrementally, and only those
who oversee the office see it."""
from __future__ import annotations

import datetime as dt
import html
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from app.dashboard import panels, tallies
from app.extensions import db
from app.jobs.register_data import SummaryCollector, issued_in, received_in, register_rows
from app.models import DashboardTally, Dossier, Stage, StageEvent, TallyMeasure
from app.printing import describe_permits
from app.sop.calendar import WorkingCalendar
from app.sop.machine import MISSING_MARK, Action, move
from app.views.papers import current_office
from tests.conftest import role_username
from tests.factories import make_dossier
from tests.web.helpers import page_text

pytestmark = pytest.mark.usefixtures("clean_db")

ALL_VERIFIED = (
    "SURAT_PERMOHONAN", "PROFIL_PERUSAHAAN", "AKTA_PENDIRIAN", "NIB", "NPWP", "KTP_PENANGGUNG_JAWAB",
    "BUKTI_PENGUASAAN_LAHAN", "DENAH_LOKASI", "DAFTAR_KENDARAAN", "BAP_PEMERIKSAAN_LAPANGAN",
)
TZ = "Asia/Jakarta"
OCTOBER = dt.date(2026, 10, 1)
# Wednesday 14 October 2026, 09.00 WIB, and the days after.
RECEIVED = dt.datetime(2026, 10, 14, 2, 0, tzinfo=dt.UTC)
IN_NOVEMBER = dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC)
IN_JANUARY = dt.datetime(2027, 1, 12, 3, 0, tzinfo=dt.UTC)  # October is kept as a whole month by then


def _user_id(app, role: str) -> int:  # noqa: ANN001
    return app.appbuilder.sm.find_user(username=role_username(role)).id


def _october_office(app) -> dict[str, int]:  # noqa: ANN001
    """Five October dossiers: three issued by the Kepala Dinas (one of them late), one returned
    with missing papers and resumed, one received and waiting; and one November dossier."""
    calendar = WorkingCalendar()
    kadis, front = _user_id(app, "Kepala Dinas"), _user_id(app, "Front Office")
    stages = {s.code: s for s in db.session.scalars(select(Stage))}
    made = {}
    with app.test_request_context():
        describe = describe_permits(current_office())
        for n, key in enumerate(("quick", "steady", "late")):
            dossier = make_dossier(submitted_at=RECEIVED + dt.timedelta(days=n), stage_code="PENANDATANGANAN",
                                   verified=ALL_VERIFIED)
            # A visit at the signing stage from its own event, so the stage has a time of its own.
            db.session.add(StageEvent(dossier_id=dossier.id, action="advance", from_stage_id=stages["PARAF_KABID"].id,
                                      to_stage_id=stages["PENANDATANGANAN"].id,
                                      occurred_at=dossier.submitted_at + dt.timedelta(hours=2 + n)))
            db.session.commit()
            signed_at = dossier.submitted_at + dt.timedelta(days=2 if key != "late" else 12, hours=3)
            outcome = move(db.session, dossier.id, Action.ADVANCE, actor_id=kadis, roles={"Kepala Dinas"}, note=None,
                           now=signed_at, calendar=calendar, describe_permit=describe)
            assert outcome.moved, outcome.reasons
            db.session.commit()
            made[key] = dossier.id
        returned = make_dossier(submitted_at=RECEIVED + dt.timedelta(days=1, hours=1), stage_code="VERIFIKASI")
        for action, hours, note in ((Action.RETURN, 3, "Berkas kurang"), (Action.RESUME, 30, None)):
            outcome = move(db.session, returned.id, action, actor_id=front, roles={"Front Office", "Back Office"},
                           note=note, now=returned.submitted_at + dt.timedelta(hours=hours), calendar=calendar)
            assert outcome.moved, outcome.reasons
            db.session.commit()
        made["returned"] = returned.id
        made["waiting"] = make_dossier(submitted_at=RECEIVED + dt.timedelta(days=5)).id
        made["november"] = make_dossier(submitted_at=dt.datetime(2026, 11, 3, 3, 0, tzinfo=dt.UTC)).id
    return made


def _register(population, now: dt.datetime) -> tuple[list, dict]:
    summary = SummaryCollector()
    _, rows = register_rows(db.session, population, WorkingCalendar(), TZ, now, summary, lambda *a: None)
    rows = list(rows)
    return rows, {s.stage: (s.count, s.median_minutes) for s in summary.rows()}


@pytest.mark.parametrize("now", [IN_NOVEMBER, IN_JANUARY], ids=["october-in-days", "october-as-a-month"])
def test_the_dashboard_agrees_with_the_monthly_registers_of_the_same_month(app, now):
    with app.app_context():
        _october_office(app)
        tallies.refresh(db.session, WorkingCalendar(), now)
        measure = TallyMeasure.STAGE_MINUTES_MONTH if now == IN_JANUARY else TallyMeasure.STAGE_MINUTES
        assert db.session.scalar(select(func.count()).select_from(DashboardTally)
                                 .where(DashboardTally.measure == measure)), measure
        october = panels.Period(OCTOBER, OCTOBER)
        figures = panels.monthly(db.session, october)[0]
        received, summary = _register(received_in(2026, 10, TZ), now)
        issued, _ = _register(issued_in(2026, 10), now)

        assert figures.received == len(received) == 5
        assert figures.issued == len(issued) == 3
        assert figures.issued_on_time == sum(1 for row in issued if row.on_time) == 2
        assert (figures.returned, figures.rejected) == (1, 0)
        times = {t.name: (t.visits, t.median) for t in panels.stage_times(db.session, october)}
        assert times == summary and summary, "per stage: finished visits and their median, as the summary sheet"
        november = panels.monthly(db.session, panels.Period(dt.date(2026, 11, 1), dt.date(2026, 11, 1)))[0]
        assert november.received == 1


def test_a_refresh_counts_only_what_moved_and_names_the_missing_papers_of_a_return(app):
    with app.app_context():
        calendar = WorkingCalendar()
        dossier = make_dossier(stage_code="VERIFIKASI", submitted_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
        first = tallies.refresh(db.session, calendar, dt.datetime.now(dt.UTC))
        assert first.days >= 1
        rows_before = db.session.scalar(select(func.count()).select_from(DashboardTally))
        again = tallies.refresh(db.session, calendar, dt.datetime.now(dt.UTC))
        assert db.session.scalar(select(func.count()).select_from(DashboardTally)) == rows_before, "idempotent"
        assert again.months == 0
        outcome = move(db.session, dossier.id, Action.RETURN, actor_id=_user_id(app, "Back Office"),
                       roles={"Back Office"}, note="Kurang lengkap", now=dt.datetime.now(dt.UTC), calendar=calendar)
        assert outcome.moved, outcome.reasons
        db.session.commit()
        tallies.refresh(db.session, calendar, dt.datetime.now(dt.UTC))
        this_month = calendar.local_date(dt.datetime.now(dt.UTC)).replace(day=1)
        period = panels.Period(this_month, this_month)
        reasons, returns = panels.return_reasons(db.session, period)
        assert returns == 1
        # The gate's missing items, split off the officer's reason (MISSING_MARK).
        assert reasons and all(r.label and MISSING_MARK.strip() not in r.label for r in reasons)
        assert any("Dokumen" in r.label for r in reasons)


def test_quantiles_from_counts_match_the_median_of_the_values():
    import statistics

    values = [5, 5, 7, 9, 12, 12, 12, 30, 31, 200]
    counts = sorted({v: values.count(v) for v in values}.items())
    assert panels.quantile(counts, 0.5) == statistics.median(values)
    assert panels.quantile(counts, 0.9) == pytest.approx(statistics.quantiles(values, n=10, method="inclusive")[8])
    assert panels.quantile([], 0.5) is None


def _chart_links(page: str, panel: str) -> list[tuple[str, int]]:
    body = re.search(rf'id="panel-{panel}".*?</svg>', page, re.S).group(0)
    links = []
    for tag in re.findall(r"<a [^>]*chart-link[^>]*>", body):
        href = html.unescape(re.search(r'href="([^"]+)"', tag).group(1))
        links.append((href, int(float(re.search(r'data-count="([^"]+)"', tag).group(1)))))
    return links


def _grid_count(client, url: str) -> int:  # noqa: ANN001
    text = page_text(client.get(url))
    return int(re.search(r"Jumlah data:</strong>\s*([\d.]+)", text).group(1).replace(".", ""))


def test_every_bar_opens_the_grid_of_exactly_the_dossiers_it_counts(app, login_as):
    with app.app_context():
        _october_office(app)
        now = dt.datetime.now(dt.UTC)
        for code, due in (("VERIFIKASI", -dt.timedelta(days=2)), ("VERIFIKASI", dt.timedelta(hours=2)),
                          ("VERIFIKASI", dt.timedelta(days=9)), ("DRAFT_IZIN", -dt.timedelta(days=1))):
            dossier = make_dossier(stage_code=code)
            # A plain UPDATE: the test places the dossier, no officer changes a record.
            db.session.execute(update(Dossier).where(Dossier.id == dossier.id).values(due_at=now + due))
        db.session.commit()
        tallies.refresh(db.session, WorkingCalendar(), now)
    client = login_as("Supervisor")
    page = page_text(client.get("/dasbor/?dari=2026-10&sampai=2026-10"))
    stage_links = _chart_links(page, "tahap-sekarang")
    month_links = _chart_links(page, "per-bulan")
    assert len(stage_links) >= 4 and month_links
    for href, count in stage_links + month_links:
        assert _grid_count(client, href) == count, href


def test_the_dashboard_is_for_those_who_oversee_and_is_their_home(app, login_as):
    with app.app_context():
        _october_office(app)
        tallies.refresh(db.session, WorkingCalendar(), dt.datetime.now(dt.UTC))
    supervisor = login_as("Supervisor")
    page = page_text(supervisor.get("/dasbor/"))
    for name in ("tahap-sekarang", "per-bulan", "tepat-waktu", "mutu-baku", "alasan-pengembalian", "beban-kerja"):
        assert f'id="panel-{name}"' in page, name
    assert page.count("<svg") >= 6 and "Survei Kepuasan Masyarakat" in page
    assert 'id="panel-tahap-sekarang"' in page_text(supervisor.get("/")), "the Supervisor's home is the dashboard"
    kabid_home = page_text(login_as("Kabid Perizinan").get("/"))
    assert 'id="home-queue"' in kabid_home and 'id="panel-mutu-baku"' in kabid_home
    for role in ("Back Office", "Front Office", "Arsiparis"):
        client = login_as(role)
        assert client.get("/dasbor/").status_code in (302, 403), role
        assert 'id="panel-tahap-sekarang"' not in page_text(client.get("/")), role


def test_each_panel_downloads_its_table_as_excel(app, login_as):
    with app.app_context():
        _october_office(app)
        tallies.refresh(db.session, WorkingCalendar(), IN_NOVEMBER)
    client = login_as("Kepala Dinas")
    response = client.get("/dasbor/excel/per-bulan?dari=2026-10&sampai=2026-10")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data), read_only=True).active
    values = [row for row in sheet.iter_rows(values_only=True) if any(v is not None for v in row)]
    october = next(row for row in values if row[0] == "Okt 2026")
    assert october[1:5] == (5, 3, 1, 0), "received, issued, returns, rejected: numbers stay numbers"
    assert client.get("/dasbor/excel/tidak-ada").status_code == 404


def test_a_period_it_cannot_read_is_said_and_this_month_shown(login_as):
    client = login_as("Supervisor")
    page = page_text(client.get("/dasbor/?dari=2026-13&sampai=kemarin&jenis=999"))
    assert "TTTT-BB" in page and "Jenis izin tidak dikenal" in page
    assert 'id="panel-tahap-sekarang"' in page
