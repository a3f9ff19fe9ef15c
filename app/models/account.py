"""Who did something, as the records name them: Flask-AppBuilder's ab_user, read here only.

FAB owns the table (its model, its screens, its passwords). The records point at it (the
officer of a history row, the uploader of a document) and show the officer's name; mapping the
few columns they read keeps the models and the SOP engine free of Flask. The table object lives
in a MetaData of its own, so neither create_all of our tables nor Alembic sees a second ab_user.
"""
from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, MetaData, String, Table, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from app.models.base import Base

ACCOUNT_METADATA = MetaData()

ACCOUNT_TABLE = Table(
    "ab_user",
    ACCOUNT_METADATA,
    Column("id", Integer, primary_key=True),
    Column("username", String(128), nullable=False),
    Column("first_name", String(64), nullable=False),
    Column("last_name", String(64), nullable=False),
    Column("email", String(320), nullable=False),
    Column("active", Boolean),
    # What a signature on paper prints under the name (app.security.officers adds them to FAB's
    # model and screens; migration 0014).
    Column("nip", String(18)),
    Column("position", String(100)),
    # FAB's stamps (server-local, naive): an applicant's account made (its e-mail link opened) and
    # last signed in, which date the applicant's own online SOP steps (app.sop.machine).
    Column("created_on", DateTime),
    Column("last_login", DateTime),
)
# The roles an officer holds, read to know whether the one printing a paper may sign it.
ROLE_TABLE = Table(
    "ab_role",
    ACCOUNT_METADATA,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False),
)
ACCOUNT_ROLE_TABLE = Table(
    "ab_user_role",
    ACCOUNT_METADATA,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey(ACCOUNT_TABLE.c.id)),
    Column("role_id", Integer, ForeignKey(ROLE_TABLE.c.id)),
)


class Account(Base):
    __table__ = ACCOUNT_TABLE

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    def __repr__(self) -> str:
        return self.full_name or self.username


def role_names(session: Session, account_id: int) -> set[str]:
    """The names of the roles this account holds."""
    return set(session.scalars(
        select(ROLE_TABLE.c.name)
        .join(ACCOUNT_ROLE_TABLE, ACCOUNT_ROLE_TABLE.c.role_id == ROLE_TABLE.c.id)
        .where(ACCOUNT_ROLE_TABLE.c.user_id == account_id)
    ))


def create_all(bind: Engine | Connection) -> None:
    """Every Loket table on a bare database (unit tests, benches), with a minimal ab_user (and
    its roles) to point at; the app's schema comes from the migrations instead."""
    ACCOUNT_METADATA.create_all(bind)
    Base.metadata.create_all(bind)


def account_fk(**kwargs) -> ForeignKey:  # noqa: ANN003
    """A foreign key to ab_user.id (by column: the table is not in our MetaData)."""
    return ForeignKey(ACCOUNT_TABLE.c.id, **kwargs)


def drop_all(bind: Engine | Connection) -> None:
    Base.metadata.drop_all(bind)
    ACCOUNT_METADATA.drop_all(bind)
