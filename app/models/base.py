"""The declarative base of Loket's tables. SQLAlchemy only: importing the models loads no Flask.

Flask-AppBuilder keeps its own security tables (ab_user, ab_role ...) in its own MetaData; Alembic
sees both (app.schema). Our tables point at ab_user through `Account` (app.models.account).
"""
from __future__ import annotations

import sqlite3

from sqlalchemy import BigInteger, Index, Integer, MetaData, event, func, literal_column, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# Named constraints let Alembic's batch mode alter SQLite tables later. FAB's metadata gets the
# same convention (app.extensions), so every constraint in the database is named alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

def trigram_index(name: str, column: str) -> Index:
    """A GIN trigram index (pg_trgm) for a grid's "contains" search (ILIKE '%word%') on a big
    table's name column. On SQLite, which has no trigrams and scans at its sizes, the index is
    declared over no rows at all (WHERE 0), so models and migrations agree on every database at
    no cost."""
    return Index(name, column, postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"},
                 sqlite_where=text("0"))


def prefix_index(name: str, column: str) -> Index:
    """A btree over lower(column) with text_pattern_ops, for a grid's "starts with" search
    (lower(column) LIKE 'word%', app.views.grid.FilterPrefix): PostgreSQL scans the prefix's range
    of it. Declared over no rows on SQLite (WHERE 0), as trigram_index is."""
    expression = func.lower(literal_column(column)).label(f"{column}_lower")
    return Index(name, expression, postgresql_ops={f"{column}_lower": "text_pattern_ops"}, sqlite_where=text("0"))


# An id column that is a 64-bit integer on PostgreSQL and the rowid on SQLite (a BIGINT primary
# key there would not autoincrement).
BigId = BigInteger().with_variant(Integer(), "sqlite")


# For a table whose rows may be deleted (an undone import, a company registered by mistake):
# SQLite then never hands a deleted row's id to a new row, so the audit trail, which names rows
# by id, never tells one record's past as another's (PostgreSQL's sequences never reuse ids).
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


@event.listens_for(Engine, "connect")
def _sqlite_foreign_keys(dbapi_connection, _record) -> None:  # noqa: ANN001
    """SQLite checks foreign keys only when asked, per connection: ask on every one, app, job
    consumer, CLI and test engines alike (PostgreSQL always checks)."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
