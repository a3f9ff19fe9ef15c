"""The process table, read from /proc (Linux): a process's descendants, and which of them still run.

A process is told apart from a later one that got its pid by its start time; a zombie (dead, not
yet reaped by whoever adopted it) does not run.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

PROC = Path("/proc")


def has_proc() -> bool:
    return (PROC / "self" / "stat").is_file()


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, start time) of a process, None if there is none."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2:].split()  # the name in parentheses may hold spaces
    return fields[0], int(fields[1]), int(fields[19])


def command_line(pid: int) -> str:
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except (FileNotFoundError, ProcessLookupError):
        return ""


def descendants(root: int) -> dict[int, int]:
    """{pid: start time} of every running process below `root`."""
    children: dict[int, list[tuple[int, int]]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (info := _stat(int(entry.name))) is not None and info[0] != "Z":
            children.setdefault(info[1], []).append((int(entry.name), info[2]))
    found: dict[int, int] = {}
    todo = [root]
    while todo:
        for pid, started in children.get(todo.pop(), []):
            found[pid] = started
            todo.append(pid)
    return found


def still_running(processes: dict[int, int]) -> dict[int, str]:
    """{pid: command line} of those of `processes` that run yet."""
    running = {}
    for pid, started in processes.items():
        info = _stat(pid)
        if info is not None and info[0] != "Z" and info[2] == started:
            running[pid] = command_line(pid)
    return running


def wait_until(condition: Callable[[], object], timeout: float, poll: float = 0.05) -> object:
    """Polls `condition` until it returns something true (which is returned) or `timeout` passes
    (then the last falsy answer is returned)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = condition()
        if answer or time.monotonic() >= deadline:
            return answer
        time.sleep(poll)
