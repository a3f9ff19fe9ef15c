"""Helpers for the tests of private files: a process umask for the length of a block, and modes."""
from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Permissive umasks: under either, a file made by the umask alone would be readable by others.
PERMISSIVE_UMASKS = [0o022, 0o000]


@contextmanager
def process_umask(value: int) -> Iterator[None]:
    previous = os.umask(value)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def modes(*paths: Path) -> dict[str, str]:
    """{name: octal mode}: a failed comparison shows which path has which mode."""
    return {str(path): oct(mode(path)) for path in paths}
