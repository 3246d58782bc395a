"""CPU time from /proc (Linux): of a bot process, and of a PostgreSQL server with all its backends."""
from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _fields(pid: int, thread: int | None = None) -> list[str]:
    """/proc/PID/stat (or one thread's, /proc/PID/task/TID/stat) after the command name (which may
    hold spaces): [state, ppid, ...]."""
    text = Path(f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat").read_text()
    return text[text.rindex(")") + 2:].split()


def _seconds(fields: list[str]) -> float:
    """User and system CPU from stat fields."""
    return (int(fields[11]) + int(fields[12])) / TICKS


def process_seconds(pid: int) -> float:
    """User and system CPU of the process, all its threads included."""
    return _seconds(_fields(pid))


def main_thread_seconds(pid: int) -> float:
    """User and system CPU of the process's main thread alone (the bot's event loop: HTTP, botbuilder,
    routing; its SQLite and PostgreSQL work runs on other threads)."""
    return _seconds(_fields(pid, thread=pid))


def tree_seconds(root: int) -> float:
    """CPU of `root` and its children: the running ones, and those that ended (the root's
    cutime/cstime hold what its ended children used). PostgreSQL's backends are all children
    of the postmaster."""
    fields = _fields(root)
    total = sum(int(f) for f in fields[11:15]) / TICKS
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            child = _fields(int(entry.name))
        except (FileNotFoundError, ProcessLookupError):
            continue  # ended meanwhile: its time is in the root's cutime now
        if int(child[1]) == root:
            total += _seconds(child)
    return total
