"""Alembic owns the schema: after `upgrade`, the database matches the models exactly."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.extensions import db
from app.schema import schema_metadata


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
def test_migrations_match_the_models(app):
    with app.app_context(), db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), schema_metadata())
    assert diff == [], f"models changed without a migration: {diff}"


def test_every_index_of_the_models_is_in_the_database(app):
    """Also the expression indexes (prefix_index), which the comparison above cannot reflect."""
    from sqlalchemy import text

    with app.app_context(), db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            present = set(connection.execute(text("SELECT indexname FROM pg_indexes")).scalars())
        else:
            present = set(connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'")).scalars())
    declared = {index.name for metadata in schema_metadata() for table in metadata.tables.values()
                for index in table.indexes}
    assert declared - present == set()
