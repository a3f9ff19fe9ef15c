"""Files and folders that only the service account may read: the SQLite database, the secret key,
uploaded documents, report files and kept spreadsheets hold NIKs, password hashes and permits.

Modes are set with chmod, never left to the umask: a permissive umask (0o022, 0o000) must not
widen them, and mkdir/open only ever take bits away. Pure module (no Flask), like app.uploads.
"""
from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from sqlalchemy.engine import make_url

FILE_MODE = 0o600
DIR_MODE = 0o700

log = logging.getLogger(__name__)


def _narrow(path: Path, mode: int) -> None:
    if stat.S_IMODE(path.stat().st_mode) == mode:
        return
    try:
        os.chmod(path, mode)
    except PermissionError:  # a folder someone else owns (a deployment choice): say so, keep going
        log.warning("cannot make %s private (mode %o): not its owner", path, mode)


def private_dir(path: Path) -> Path:
    """The folder, made if missing (with its parents), and mode 0700 either way."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _narrow(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """The file, created empty if missing (never truncated), and mode 0600 either way."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        _narrow(path, FILE_MODE)
    else:
        os.fchmod(fd, FILE_MODE)  # os.open's mode went through the umask
        os.close(fd)
    return path


def private_sqlite_file(url: str) -> Path | None:
    """Creates a SQLite database file 0600 before anything connects to it.

    SQLite gives its -journal, -wal and -shm files the mode of the database file, so they follow.
    In-memory databases, URI file names and other backends are left alone. Returns the path.
    """
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:" \
            or database.startswith("file:") or parsed.query.get("uri"):
        return None
    path = Path(database)
    if not path.parent.is_dir():
        return None  # SQLite will say so itself
    return private_file(path)
