"""Alembic owns the schema: after `upgrade`, the database matches the models exactly."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.extensions import db
from app.schema import schema_metadata


def test_migrations_match_the_models(app):
    with app.app_context(), db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), schema_metadata())
    assert diff == [], f"models changed without a migration: {diff}"
