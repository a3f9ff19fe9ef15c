"""Opening a dossier and its history, with a bare SQLAlchemy session (no Flask)."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Applicant, Company, Dossier, PermitType, StageEvent
from app.models.dossier import AppendOnlyError
from app.sop.calendar import WorkingCalendar
from app.sop.intake import RECEIPT_ALPHABET, new_receipt_number, open_dossier

SEED = Path(__file__).resolve().parents[2] / "seed" / "sop"
WIB = dt.timezone(dt.timedelta(hours=7))


def _open(session: Session, when: dt.datetime) -> Dossier:
    permit = session.scalar(select(PermitType))
    with session.no_autoflush:
        dossier = Dossier(
            company=Company(name="PT Uji", legal_form="PT", nib="9120000000001"),
            applicant=Applicant(full_name="Uji", nik="6108014508950001"),
        )
        open_dossier(dossier, permit, when, WorkingCalendar(), actor_id=None)
    session.add(dossier)
    session.commit()
    return dossier


def test_receipt_numbers_are_short_readable_and_not_sequential():
    when = dt.datetime(2026, 11, 28, tzinfo=WIB)
    numbers = {new_receipt_number("IPK", when) for _ in range(2000)}
    assert len(numbers) == 2000
    for number in list(numbers)[:50]:
        assert re.fullmatch(r"IPK-26-[0-9A-Z]{6}", number)
        assert not set(number[7:]) - set(RECEIPT_ALPHABET)
    assert not set("ILOU") & set("".join(n[7:] for n in numbers))


def test_a_new_dossier_starts_at_the_first_stage_with_its_promised_date(session):
    # Friday 27 Nov 2026, 10.00 WIB: five working days later is Friday 4 Dec, closing time.
    dossier = _open(session, dt.datetime(2026, 11, 27, 10, 0, tzinfo=WIB))
    assert dossier.stage.code == "BERKAS" and dossier.status == "in_progress" and dossier.version == 1
    assert dossier.due_at.replace(tzinfo=dt.timezone.utc).astimezone(WIB) == dt.datetime(2026, 12, 4, 16, 0, tzinfo=WIB)
    assert [(e.action, e.to_stage.code) for e in dossier.events] == [("submit", "BERKAS")]


def test_holidays_and_cuti_bersama_do_not_count_as_working_days():
    calendar = WorkingCalendar()
    # From Mon 16 Mar 2026: Tue 17 counts; Nyepi and its cuti bersama (18-19 Mar) and the
    # Idul Fitri days (20-24 Mar) do not; then 25, 26, 27 and Monday 30 March.
    assert calendar.add_working_days(dt.date(2026, 3, 16), 5) == dt.date(2026, 3, 30)
    assert not calendar.is_working_day(dt.date(2026, 12, 24))  # cuti bersama Natal
    assert not calendar.is_working_day(dt.date(2026, 11, 28))  # Saturday
    local = WorkingCalendar(local_days_off=frozenset({dt.date(2026, 11, 30)}))
    assert local.add_working_days(dt.date(2026, 11, 27), 1) == dt.date(2026, 12, 1)


def test_history_is_append_only(session):
    dossier = _open(session, dt.datetime(2026, 11, 27, 10, 0, tzinfo=WIB))
    event = session.scalar(select(StageEvent).where(StageEvent.dossier_id == dossier.id))
    event.note = "diubah"
    with pytest.raises(AppendOnlyError):
        session.commit()
    session.rollback()
    session.delete(session.get(StageEvent, event.id))
    with pytest.raises(AppendOnlyError):
        session.commit()
