"""The audit trail of the office's records (no Flask). Importing this package installs the ORM
listener (app.audit.listener) on every SQLAlchemy session of the process."""
from app.audit import listener as _listener  # noqa: F401  (installs the flush hooks)
from app.audit.context import SYSTEM, Actor, actor_name, actor_of, changes_by, reason_of, set_actor, set_reason
from app.audit.trail import AUDITED, Audited, Change, audit, record_rows, write

__all__ = [
    "AUDITED",
    "Actor",
    "Audited",
    "Change",
    "SYSTEM",
    "actor_name",
    "actor_of",
    "audit",
    "changes_by",
    "reason_of",
    "record_rows",
    "set_actor",
    "set_reason",
    "write",
]
