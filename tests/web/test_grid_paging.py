"""Grid pages at scale: ids first, names after; counts capped ("lebih dari 10.000") with paging
that still works; exports read by keyset in one pass, in the grid's order, without OFFSET."""
from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from openpyxl import load_workbook
from sqlalchemy import event, update

from app.extensions import db
from app.models import Document, Dossier, RegisterEntry
from app.views import paging
from tests.factories import make_applicant, make_company, make_dossier
from tests.web.helpers import page_text

pytestmark = pytest.mark.usefixtures("clean_db")

START = dt.datetime(2026, 10, 1, 2, 0, tzinfo=dt.UTC)


class _Statements:
    def __init__(self, app) -> None:  # noqa: ANN001
        with app.app_context():
            self.engine = db.engine
        self.seen: list[str] = []
        self.offsets: list[object] = []  # the OFFSET each statement was given (SQLite writes "OFFSET 0")

    def __enter__(self) -> _Statements:
        event.listen(self.engine, "before_cursor_execute", self._hit)
        return self

    def __exit__(self, *exc) -> None:  # noqa: ANN002
        event.remove(self.engine, "before_cursor_execute", self._hit)

    def _hit(self, conn, cursor, statement, parameters, *args) -> None:  # noqa: ANN001, ANN002
        statement = " ".join(statement.split())
        self.seen.append(statement)
        if "OFFSET" in statement.upper():
            self.offsets.append(parameters[-1] if isinstance(parameters, (list, tuple)) else "named")


def _more_than(app, count: int) -> str:  # noqa: ANN001
    with app.test_request_context("/"):
        from flask import session

        session["locale"] = "id"
        return str(_l("more than %(count)s", count=format_decimal(count)))


def _record_count(html: str) -> str:
    return re.search(r"</strong>\s*([^<]*?)\s*</div>", html.split("Record Count", 1)[-1].split("Jumlah", 1)[-1]).group(1)


def _dossiers(app, n: int) -> list[str]:  # noqa: ANN001
    """n dossiers, the i-th submitted i hours after START; their receipt numbers, oldest first."""
    with app.app_context():
        company = make_company(name="PT Halaman")
        applicant = make_applicant(company)
        return [make_dossier(company, applicant, submitted_at=START + dt.timedelta(hours=i)).receipt_number
                for i in range(n)]


def _in_page_order(html: str, receipts: list[str]) -> list[str]:
    return sorted((r for r in receipts if r in html), key=html.index)


def test_a_count_past_the_cap_reads_more_than_and_next_and_previous_still_page(app, login_as, monkeypatch):
    monkeypatch.setattr(paging, "COUNT_CAP", 10)
    with app.app_context():
        for n in range(30):
            make_company(name=f"PT Hitung {n:02d}")
    client = login_as("Front Office")
    first = page_text(client.get("/companyview/list/?psize_CompanyView=5"))
    assert _more_than(app, 10) in first, "11 counted, more than 10 shown"
    assert "page_CompanyView=1" in first and "page_CompanyView=2" in first, "next pages offered"
    assert "page_CompanyView=5" not in first, "no link to a last page nobody counted"
    assert "PT Hitung 00" in first and "PT Hitung 05" not in first

    deep = page_text(client.get("/companyview/list/?psize_CompanyView=5&page_CompanyView=3"))
    assert _more_than(app, 20) in deep, "the count reaches just past the page asked for"
    assert "page_CompanyView=4" in deep and "page_CompanyView=2" in deep, "next and previous"
    assert "PT Hitung 15" in deep and "PT Hitung 19" in deep and "PT Hitung 20" not in deep

    last = page_text(client.get("/companyview/list/?psize_CompanyView=5&page_CompanyView=5"))
    assert _record_count(last) == "30", "under the cap the count is exact"
    assert "PT Hitung 29" in last and "page_CompanyView=6" not in last


def test_a_count_under_the_cap_is_exact(app, login_as):
    with app.app_context():
        for n in range(7):
            make_company(name=f"PT Tepat {n}")
    html = page_text(login_as("Front Office").get("/companyview/list/?_flt_2_name=Tepat"))
    assert _record_count(html) == "7"


def test_the_dossier_grid_reads_the_page_ids_first_then_joins_names_for_those_only(app, login_as):
    receipts = _dossiers(app, 12)
    client = login_as("Front Office")
    client.get("/dossierview/list/")  # warm caches (stages, menus)
    with _Statements(app) as statements:
        html = page_text(client.get("/dossierview/list/?psize_DossierView=5&page_DossierView=1"))
    seen = statements.seen
    assert _in_page_order(html, receipts) == receipts[6:1:-1], "second page, newest first"
    paged = [s for s in seen if "OFFSET" in s.upper() and "COUNT(" not in s.upper()]
    assert paged and all("JOIN" not in s.upper() for s in paged), "the OFFSET query reads dossier ids alone"
    joined = [s for s in seen if "JOIN COMPANY" in s.upper()]
    assert joined and all("OFFSET" not in s.upper() and " IN (" in s.upper() for s in joined), joined
    counts = [s for s in seen if "COUNT(" in s.upper() and "FROM DOSSIER" in s.upper()]
    assert counts and all("LIMIT" in s.upper() for s in counts), "the count is capped"


def test_a_plain_grid_loads_its_related_names_in_one_statement_not_one_per_row(app, login_as):
    with app.app_context():
        for n in range(3):
            make_applicant(make_company(name=f"PT Induk {n}"), full_name=f"Pemohon Sedikit {n}")
    client = login_as("Front Office")
    client.get("/applicantview/list/")
    with _Statements(app) as few:
        html = page_text(client.get("/applicantview/list/?_flt_0_full_name=Pemohon"))
    few = few.seen
    assert "PT Induk 2" in html
    with app.app_context():
        for n in range(12):
            make_applicant(make_company(name=f"PT Induk Lagi {n}"), full_name=f"Pemohon Banyak {n}")
    with _Statements(app) as many:
        html = page_text(client.get("/applicantview/list/?_flt_0_full_name=Pemohon"))
    many = many.seen
    assert "PT Induk Lagi 11" in html
    assert len(many) == len(few), (few, many)


def _sheet_receipts(response) -> list[str]:  # noqa: ANN001
    assert response.status_code == 200, response.status_code
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    column = list(rows[0]).index("Nomor Pendaftaran")
    return [row[column] for row in rows[1:]]


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_an_export_reads_by_keyset_in_the_grid_order_without_offset_or_count(app, login_as, monkeypatch, direction):
    monkeypatch.setattr(paging, "EXPORT_BATCH", 3)  # many batches, across ties and NULLs
    receipts = _dossiers(app, 11)
    with app.app_context():
        # Ties on the due time (ordered by id) and dossiers without one (where the database puts NULL).
        for i, receipt in enumerate(receipts):
            due = None if i % 4 == 0 else START + dt.timedelta(days=i % 3)
            db.session.execute(update(Dossier).where(Dossier.receipt_number == receipt).values(due_at=due))
        db.session.commit()
    client = login_as("Supervisor")
    order = f"_oc_DossierView=due_at&_od_DossierView={direction}"
    grid = _in_page_order(page_text(client.get(f"/dossierview/list/?{order}&psize_DossierView=100")), receipts)
    assert len(grid) == 11
    with _Statements(app) as statements:
        exported = _sheet_receipts(client.get(f"/dossierview/export_xlsx?{order}"))
    assert exported == grid, "the export's rows are the grid's, in its order"
    reads = [s for s in statements.seen if s.upper().startswith("SELECT") and "FROM DOSSIER" in s.upper()]
    assert len([s for s in reads if " > (" in s or " < (" in s]) >= 2, "batches after the last row read"
    assert all(offset == 0 for offset in statements.offsets), "no OFFSET"
    assert len([s for s in reads if "COUNT(" in s.upper()]) == 1, "one capped count decides inline or job"


def test_an_export_of_a_plain_grid_pages_by_keyset_through_every_row(app, login_as, monkeypatch):
    monkeypatch.setattr(paging, "EXPORT_BATCH", 4)
    with app.app_context():
        for n in range(10):
            make_company(name=f"PT Kunci {n % 5}")  # five names, each twice: ties broken by id
    sheet = load_workbook(io.BytesIO(
        login_as("Front Office").get("/companyview/export_xlsx?_flt_2_name=Kunci&_oc_CompanyView=name&_od_CompanyView=asc").data
    )).active
    names = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert names == [f"PT Kunci {n // 2}" for n in range(10)]


def test_an_export_sorted_by_a_related_column_pages_by_keyset_on_the_joined_column(app, login_as, monkeypatch):
    monkeypatch.setattr(paging, "EXPORT_BATCH", 2)
    receipts = _dossiers(app, 5)  # each opened with a history row
    client = login_as("Supervisor")
    order = "_oc_StageEventView=dossier.receipt_number&_od_StageEventView=desc"
    grid = _in_page_order(page_text(client.get(f"/stageeventview/list/?{order}&psize_StageEventView=100")), receipts)
    assert grid == sorted(receipts, reverse=True)
    exported = load_workbook(io.BytesIO(client.get(f"/stageeventview/export_xlsx?{order}").data)).active
    cells = [cell for row in exported.iter_rows(min_row=2, values_only=True) for cell in row if cell in receipts]
    assert list(dict.fromkeys(cells)) == grid and len(cells) == len(receipts)


BIG_GRIDS = ["/dossierview/list/", "/companyview/list/", "/applicantview/list/", "/documentview/list/",
             "/stageeventview/list/", "/registerentryview/list/"]


def test_each_big_grid_page_runs_at_most_eight_statements_whatever_its_rows(app, login_as):
    """A page's statements do not grow with its rows: user, permissions, capped count, the page's
    ids, its rows with their names, and at most three more (the grid's own, e.g. the clock)."""
    with app.app_context():
        for n in range(30):
            dossier = make_dossier(submitted_at=START + dt.timedelta(hours=n))
            db.session.add(Document(
                dossier=dossier, requirement_type=dossier.permit_type.requirements[0], original_filename="surat.pdf",
                storage_key="cd" * 32, size_bytes=10, sha256="cd" * 32,
            ))
            db.session.add(RegisterEntry(
                register_number=f"REG/{9200 + n}/2026", year=2026, seq=9200 + n, entry_date=START.date(),
                dossier=dossier, permit_number=f"503/{9200 + n}/IPK/DPMPTSPTK/2026", company=dossier.company,
                applicant=dossier.applicant, permit_type=dossier.permit_type, issue_date=START.date(),
            ))
        db.session.commit()
    client = login_as("Back Office")
    wrong = {}
    for url in BIG_GRIDS:
        for query in ("", "?page_{}=1", "?_od_{}=asc"):
            view = url.strip("/").split("/")[0]
            name = {"dossierview": "DossierView", "companyview": "CompanyView", "applicantview": "ApplicantView",
                    "documentview": "DocumentView", "stageeventview": "StageEventView",
                    "registerentryview": "RegisterEntryView"}[view]
            target = url + query.format(name)
            assert client.get(target).status_code == 200, target  # warm the per-process caches
            with _Statements(app) as statements:
                assert client.get(target).status_code == 200, target
            if len(statements.seen) > 8:
                wrong[target] = statements.seen
    assert not wrong, {url: len(seen) for url, seen in wrong.items()}


def test_a_returned_dossiers_clock_stands_still_at_its_last_return_read_with_the_page(app, login_as):
    """The pause is read in the page's own SELECT; the cell is the working time from the last
    return to the promise, whatever the time now."""
    from app.formatting import format_working_time
    from app.models import DossierStatus, StageEvent
    from app.office import office_calendar
    from app.sop.sla import clock

    first, last = START + dt.timedelta(days=1), START + dt.timedelta(days=2, hours=1)  # Fri 09.00, Sat
    with app.app_context():
        dossier = make_dossier(submitted_at=START)
        db.session.add_all([StageEvent(dossier=dossier, action="return", occurred_at=at) for at in (first, last)])
        db.session.execute(update(Dossier).where(Dossier.id == dossier.id).values(status=DossierStatus.RETURNED.value))
        db.session.commit()
        receipt, due = dossier.receipt_number, dossier.due_at
        with app.test_request_context("/"):
            left, late = clock(office_calendar(), due, dt.datetime.now(dt.UTC), [(last, None)])
            expected = ("-" if late else "") + format_working_time(left)
    client = login_as("Front Office")
    client.get("/dossierview/list/")
    with _Statements(app) as statements:
        html = page_text(client.get(f"/dossierview/list/?_flt_3_receipt_number={receipt}"))
    assert not any("stage_event" in s.lower() and "group by" in s.lower() for s in statements.seen)
    (row,) = [tr for tr in html.split("<tr")[1:] if receipt in tr and "<td" in tr]
    assert expected in row.split("</tr>", 1)[0], (expected, row)
