"""Bulk INSERTs of ready row tuples: the column order of each table, and the writer per database."""
from __future__ import annotations

import json
from typing import Any, Iterable, Iterator

from sqlalchemy import Connection, insert, text

from app.models import Applicant, Company, Document, Dossier, Permit, RegisterEntry, StageEvent

CHUNK = 10_000

COMPANY_COLUMNS = (
    "id", "name", "legal_form", "nib", "npwp", "deed_number", "deed_date", "sk_kemenkumham", "address",
    "kecamatan_code", "desa_code", "phone", "email", "created_at",
)
APPLICANT_COLUMNS = ("id", "full_name", "nik", "email", "phone", "position", "company_id", "created_at")
DOSSIER_COLUMNS = (
    "id", "receipt_number", "permit_type_id", "company_id", "applicant_id", "stage_id", "status",
    "submitted_at", "due_at", "notes", "version", "site_address", "site_area_m2", "vehicle_capacity",
)
EVENT_COLUMNS = ("dossier_id", "from_stage_id", "to_stage_id", "action", "actor_id", "occurred_at", "note")
DOCUMENT_COLUMNS = (
    "dossier_id", "requirement_type_id", "original_filename", "storage_key", "size_bytes", "sha256",
    "uploaded_at", "uploaded_by_id", "verified_by_id", "verified_at", "note",
)
REGISTER_COLUMNS = (
    "register_number", "year", "seq", "entry_date", "dossier_id", "permit_number", "company_id",
    "applicant_id", "permit_type_id", "issue_date", "book_page", "book_line", "archive_box", "archive_shelf",
)
PERMIT_COLUMNS = (
    "dossier_id", "permit_type_id", "series", "year", "seq", "number", "issued_at", "issued_on", "valid_until",
    "token", "snapshot",
)
COUNTER_COLUMNS = ("series", "year", "last_seq")


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _Writer:
    """Bulk INSERTs of ready tuples, in chunks, inside the session's transaction.

    SQLAlchemy's executemany spends ~10 us per row binding parameters, which is most of the time
    at a million rows; here rows are built in the database's own value format instead:
    SQLite gets the driver's executemany (dates as the text SQLAlchemy itself stores), PostgreSQL
    via psycopg gets COPY, any other database Core's insert(Table) executemany.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dialect = conn.dialect
        self.text_dates = self.dialect.name == "sqlite"
        self.copy = self.dialect.name == "postgresql" and self.dialect.driver == "psycopg"
        # Timestamps as text: SQLite's driver path stores SQLAlchemy's own text (naive UTC);
        # COPY parses text itself, with "+00" for timestamptz. Cheaper than datetime objects.
        self.text_stamps = self.text_dates or self.copy
        self.stamp_suffix = "+00" if self.copy else ""
        self._cache_size = None
        self._restore: list = []
        if self.copy:
            # Index builds want memory: sorting a million keys in one pass instead of many.
            conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
            self._defer_checks((Company, Applicant, Dossier, StageEvent, Document, Permit, RegisterEntry))
        if self.text_dates:
            # A bigger page cache for this load keeps the random-order unique indexes in memory.
            self._cache_size = conn.exec_driver_sql("PRAGMA cache_size").scalar()
            conn.exec_driver_sql("PRAGMA cache_size = -262144")

    def _defer_checks(self, models: tuple[type, ...]) -> None:
        """PostgreSQL checks each foreign key row by row during COPY (15M history rows at 1M
        dossiers) and updates every index row by row (GIN trigram ones are the dearest). As
        pg_restore does, drop the loaded tables' foreign keys, unique constraints and indexes for
        the load and add them back after it: one sorted build or validating pass each. Primary
        keys stay (other tables' keys point at them). What is dropped is read from the catalog
        and put back by its own definition, exactly as the migrations left it. DDL is
        transactional, so a failed load rolls this back too."""
        uniques, indexes, keys = [], [], []
        quote = self.dialect.identifier_preparer.quote
        for model in models:
            table = model.__table__.name
            constraints = self.conn.execute(
                text("SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
                     "WHERE conrelid = CAST(:t AS regclass) ORDER BY conname"), {"t": table}
            ).all()
            owned = {name for name, _, _ in constraints}  # their indexes go with them
            for name, kind, definition in constraints:
                if kind in ("f", "u"):
                    self.conn.exec_driver_sql(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
                    restore = f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}"
                    (keys if kind == "f" else uniques).append(restore)
            for name, definition in self.conn.execute(
                text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                     "AND tablename = :t ORDER BY indexname"), {"t": table}
            ):
                if name not in owned:
                    self.conn.exec_driver_sql(f"DROP INDEX {quote(name)}")
                    indexes.append(definition)
        self._restore = uniques + indexes + keys

    def close(self) -> None:
        for ddl in self._restore:
            self.conn.exec_driver_sql(ddl)
        self._restore = []
        if self._cache_size is not None:
            self.conn.exec_driver_sql(f"PRAGMA cache_size = {int(self._cache_size)}")

    def json(self, value: Any) -> Any:  # noqa: ANN401
        """A JSON column's value in the row format insert() writes (text for the driver's own paths)."""
        return json.dumps(value) if self.copy or self.text_dates else value

    def insert(self, model: type, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if not rows:
            return
        table = model.__table__
        quote = self.dialect.identifier_preparer.quote
        names = ", ".join(quote(c) for c in columns)
        if self.copy:
            cursor = self.conn.connection.driver_connection.cursor()
            with cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        if self.text_dates:
            sql = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({', '.join('?' for _ in columns)})"
            for chunk in _chunks(rows, CHUNK):
                self.conn.exec_driver_sql(sql, chunk)
            return
        stmt = insert(table)
        for chunk in _chunks(rows, CHUNK):
            self.conn.execute(stmt, [dict(zip(columns, row)) for row in chunk])

    def sync_sequences(self, models: Iterable[type]) -> None:
        """Ids were given explicitly; PostgreSQL's sequences must move past them."""
        if self.dialect.name != "postgresql":
            return
        for model in models:
            table = model.__table__.name
            self.conn.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence(:t, 'id'), (SELECT max(id) FROM "
                    + self.dialect.identifier_preparer.quote(table)
                    + "))"
                ),
                {"t": table},
            )
