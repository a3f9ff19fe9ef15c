"""What the database itself refuses, whoever asks (a view, the API, an import, a console):

* the audit trail is append-only;
* a permit is never deleted, and once numbered nothing on it changes but one revocation;
* a dossier holding a permit keeps the parties, type and site the permit printed;
* a register line written by numbering is never deleted and keeps what it records (the
  archivist still fills in the box, the shelf, the book page and line).

The app checks the same rules first and says why in Indonesian (app.frozen); these triggers are
the backstop. A refusal is an IntegrityError on SQLite (RAISE ABORT) and on PostgreSQL (SQLSTATE
23000). Migrations and create_all install them from here. A later migration that rebuilds one of
these tables on SQLite (Alembic's batch mode copies and drops it) drops its triggers with it: it
calls install_guards again at its end.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.engine import Connection

from app.models.base import Base


@dataclass(frozen=True)
class Guard:
    name: str
    table: str
    sqlite: tuple[str, ...]  # CREATE TRIGGER statements
    postgresql: str  # the plpgsql function body (returns NEW or raises)
    pg_events: str  # e.g. "UPDATE OR DELETE"


def _changed_sqlite(columns: tuple[str, ...]) -> str:
    return " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in columns)


def _changed_pg(columns: tuple[str, ...]) -> str:
    cast = {"snapshot": "::text"}  # json has no equality operator
    new = ", ".join(f"NEW.{c}{cast.get(c, '')}" for c in columns)
    old = ", ".join(f"OLD.{c}{cast.get(c, '')}" for c in columns)
    return f"ROW({new}) IS DISTINCT FROM ROW({old})"


def _abort(message: str) -> str:
    return f"SELECT RAISE(ABORT, '{message}');"


def _pg_raise(message: str) -> str:
    return f"RAISE EXCEPTION '{message}' USING ERRCODE = 'integrity_constraint_violation';"


PERMIT_FROZEN = ("dossier_id", "permit_type_id", "series", "year", "seq", "number", "issued_at", "issued_on",
                 "valid_until", "token", "snapshot", "supersedes_id")
REVOCATION = ("revoked_at", "revoked_by_id", "revocation_reason")
# What a permit prints of its dossier (besides the parties' own data, which the snapshot keeps).
DOSSIER_PRINTED = ("receipt_number", "permit_type_id", "company_id", "applicant_id", "submitted_at",
                   "site_address", "site_area_m2", "vehicle_capacity")
REGISTER_RECORDED = ("register_number", "year", "seq", "entry_date", "dossier_id", "permit_number", "company_id",
                     "applicant_id", "permit_type_id", "issue_date")

AUDIT_APPEND_ONLY = "audit trail rows are never changed or deleted"
PERMIT_IS_FROZEN = "an issued permit is never changed or deleted; it can only be revoked once"
DOSSIER_IS_FROZEN = "the permit of this dossier is issued: what it printed cannot change"
REGISTER_IS_FROZEN = "a register line of an issued permit is never changed or deleted"

GUARDS = (
    Guard(
        "audit_log_append_only", "audit_log",
        sqlite=(
            f"CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN {_abort(AUDIT_APPEND_ONLY)} END",
            f"CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN {_abort(AUDIT_APPEND_ONLY)} END",
        ),
        postgresql=_pg_raise(AUDIT_APPEND_ONLY),
        pg_events="UPDATE OR DELETE",
    ),
    Guard(
        "permit_is_frozen", "permit",
        sqlite=(
            "CREATE TRIGGER permit_no_change BEFORE UPDATE ON permit WHEN "
            f"{_changed_sqlite(PERMIT_FROZEN)} OR (OLD.revoked_at IS NOT NULL AND ({_changed_sqlite(REVOCATION)})) "
            f"BEGIN {_abort(PERMIT_IS_FROZEN)} END",
            f"CREATE TRIGGER permit_no_delete BEFORE DELETE ON permit BEGIN {_abort(PERMIT_IS_FROZEN)} END",
        ),
        postgresql=(
            f"IF TG_OP = 'DELETE' OR {_changed_pg(PERMIT_FROZEN)} "
            f"OR (OLD.revoked_at IS NOT NULL AND {_changed_pg(REVOCATION)}) THEN {_pg_raise(PERMIT_IS_FROZEN)} "
            "END IF; RETURN NEW;"
        ),
        pg_events="UPDATE OR DELETE",
    ),
    Guard(
        "dossier_is_frozen_after_issue", "dossier",
        sqlite=(
            "CREATE TRIGGER dossier_no_change_after_issue BEFORE UPDATE ON dossier WHEN "
            f"({_changed_sqlite(DOSSIER_PRINTED)}) AND EXISTS (SELECT 1 FROM permit WHERE dossier_id = OLD.id) "
            f"BEGIN {_abort(DOSSIER_IS_FROZEN)} END",
        ),
        postgresql=(
            f"IF {_changed_pg(DOSSIER_PRINTED)} AND EXISTS (SELECT 1 FROM permit WHERE dossier_id = OLD.id) "
            f"THEN {_pg_raise(DOSSIER_IS_FROZEN)} END IF; RETURN NEW;"
        ),
        pg_events="UPDATE",
    ),
    Guard(
        "register_entry_is_frozen", "register_entry",
        sqlite=(
            "CREATE TRIGGER register_entry_no_change BEFORE UPDATE ON register_entry WHEN "
            f"OLD.dossier_id IS NOT NULL AND ({_changed_sqlite(REGISTER_RECORDED)}) "
            f"BEGIN {_abort(REGISTER_IS_FROZEN)} END",
            "CREATE TRIGGER register_entry_no_delete BEFORE DELETE ON register_entry WHEN OLD.dossier_id IS NOT NULL "
            f"BEGIN {_abort(REGISTER_IS_FROZEN)} END",
        ),
        postgresql=(
            "IF OLD.dossier_id IS NOT NULL AND (TG_OP = 'DELETE' OR "
            f"{_changed_pg(REGISTER_RECORDED)}) THEN {_pg_raise(REGISTER_IS_FROZEN)} END IF; "
            "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW;"
        ),
        pg_events="UPDATE OR DELETE",
    ),
)


def _sqlite_names(guard: Guard) -> list[str]:
    return [statement.split()[2] for statement in guard.sqlite]


def install_guards(connection: Connection) -> None:
    """Creates every guard (idempotent: replaces what is there)."""
    remove_guards(connection)
    for guard in GUARDS:
        if connection.dialect.name == "sqlite":
            for statement in guard.sqlite:
                connection.exec_driver_sql(statement)
        elif connection.dialect.name == "postgresql":
            connection.exec_driver_sql(
                f"CREATE FUNCTION loket_{guard.name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN {guard.postgresql} END $$"
            )
            connection.exec_driver_sql(
                f"CREATE TRIGGER {guard.name} BEFORE {guard.pg_events} ON {guard.table} "
                f"FOR EACH ROW EXECUTE FUNCTION loket_{guard.name}()"
            )


def remove_guards(connection: Connection) -> None:
    """Drops every guard (migrations that rebuild a table; the test suite emptying its tables)."""
    for guard in GUARDS:
        if connection.dialect.name == "sqlite":
            for name in _sqlite_names(guard):
                connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
        elif connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {guard.name} ON {guard.table}")
            connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS loket_{guard.name}()")


@contextmanager
def guards_lifted(connection: Connection) -> Iterator[None]:
    """The guards off for a block of the caller's transaction (a test emptying its tables)."""
    remove_guards(connection)
    try:
        yield
    finally:
        install_guards(connection)


@event.listens_for(Base.metadata, "after_create")
def _guards_with_the_tables(_metadata, connection: Connection, **_kw) -> None:  # noqa: ANN001
    install_guards(connection)
