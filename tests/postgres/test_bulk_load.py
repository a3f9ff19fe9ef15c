"""PostgreSQL only: the demo load COPYs history and permits with their foreign keys dropped, then restores them."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from app.extensions import db
from app.models import Company
from seed.demo import generate
from tests.conftest import POSTGRES_URL

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL: set LOKET_TEST_DATABASE_URL"),
]


# The tables the load COPYs with their foreign keys dropped.
DEFERRED = ("stage_event", "document", "permit")


def _foreign_keys(table: str) -> set[str]:
    rows = db.session.execute(
        text("SELECT conname FROM pg_constraint WHERE conrelid = CAST(:t AS regclass) AND contype = 'f'"), {"t": table}
    )
    return {name for (name,) in rows}


def test_demo_load_restores_keys_and_moves_sequences(app, clean_db):  # noqa: ARG001
    with app.app_context():
        keys_before = {t: _foreign_keys(t) for t in DEFERRED}
        assert keys_before["stage_event"], "the migration defines the history's foreign keys"
        assert keys_before["permit"], "the migration defines the permit's foreign keys"
        generate(dossiers=60, seed=3, reference_date=dt.date(2026, 11, 27), with_documents=True)
        assert {t: _foreign_keys(t) for t in DEFERRED} == keys_before
        for table in DEFERRED:
            orphans = db.session.scalar(
                text(f"SELECT count(*) FROM {table} x LEFT JOIN dossier d ON d.id = x.dossier_id WHERE d.id IS NULL")
            )
            assert orphans == 0, table
        permits = db.session.scalar(text("SELECT count(*) FROM permit"))
        assert permits and permits == db.session.scalar(text("SELECT count(*) FROM register_entry"))
        # Ids were written explicitly; a normal insert afterwards must not collide with them.
        company = Company(name="PT Sesudah Demo", legal_form="PT", nib="9129999999999")
        db.session.add(company)
        db.session.commit()
        assert company.id > 20
