"""Transaction helpers shared by the SOP engine (numbering) and bulk imports. No Flask."""
from __future__ import annotations

from sqlalchemy.orm import Session


def begin_immediate(session: Session) -> None:
    """On SQLite, make the session's transaction hold the write lock from its start.

    pysqlite opens a deferred transaction at the first write; one that read first could then be
    refused the lock (SQLITE_BUSY) instead of waiting. BEGIN IMMEDIATE waits (busy timeout) for
    the lock up front. PostgreSQL needs nothing: the UPDATE that follows (a number counter, an
    import batch) locks its row.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    if not connection.connection.driver_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
