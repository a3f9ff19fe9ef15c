"""Moving many dossiers in short transactions: a transaction the database gives up is judged and
run again; anything else stops the move and keeps what is committed."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

import app.sop.bulk as bulk
from app.models import Dossier, StageEvent
from app.security.roles import FRONT_OFFICE
from app.sop.machine import Action
from tests.unit.test_machine import NOW, _open, verify


class _Deadlock(Exception):
    sqlstate = "40P01"


def _ready(session, count: int) -> list[int]:  # noqa: ANN001
    ids = [_open(session) for _ in range(count)]
    for dossier_id in ids:
        verify(session, dossier_id, "PROFIL_PERUSAHAAN")
    return ids


def _move(session, ids):  # noqa: ANN001, ANN202
    return bulk.move_in_chunks(session, ids, Action.ADVANCE, clock=lambda: NOW, chunk=2, actor_id=None,
                               roles={FRONT_OFFICE}, note=None)


def test_a_chunk_the_database_gives_up_is_run_again(session, monkeypatch):
    ids = _ready(session, 5)
    real, calls = bulk.apply_many, []

    def deadlocks_once(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(len(calls))
        if len(calls) == 2:  # the second chunk, first try
            real(*args, **kwargs)  # it had moved its dossiers when the database broke it off
            raise OperationalError("UPDATE dossier", {}, _Deadlock("deadlock detected"))
        return real(*args, **kwargs)

    monkeypatch.setattr(bulk, "apply_many", deadlocks_once)
    outcomes = _move(session, ids)
    assert [o.moved for o in outcomes] == [True] * 5 and len(calls) == 4
    advances = session.scalars(select(StageEvent.dossier_id).where(StageEvent.action == "advance")).all()
    assert sorted(advances) == sorted(ids), "each dossier moved once: the broken-off try left nothing"


def test_another_error_stops_the_move_and_keeps_the_committed_chunks(session, monkeypatch):
    ids = _ready(session, 4)
    real = bulk.apply_many

    def breaks_on_the_second_chunk(session_, part, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if part == ids[2:4]:
            raise OperationalError("UPDATE dossier", {}, Exception("disk I/O error"))
        return real(session_, part, *args, **kwargs)

    monkeypatch.setattr(bulk, "apply_many", breaks_on_the_second_chunk)
    with pytest.raises(OperationalError):
        _move(session, ids)
    stages = [session.get(Dossier, i).stage.code for i in ids]
    assert stages == ["REGISTRASI", "REGISTRASI", "BERKAS", "BERKAS"]


def test_each_chunk_is_stamped_with_the_time_it_ran(session):
    ids = _ready(session, 4)
    times = iter([NOW, NOW + dt.timedelta(minutes=5)])
    bulk.move_in_chunks(session, ids, Action.ADVANCE, clock=lambda: next(times), chunk=2, actor_id=None,
                        roles={FRONT_OFFICE}, note=None)
    stamped = {d: t for d, t in session.execute(
        select(StageEvent.dossier_id, StageEvent.occurred_at).where(StageEvent.action == "advance"))}
    assert stamped[ids[0]] != stamped[ids[3]]
