"""CPU time from /proc (Linux): of a bot process, and of a PostgreSQL server with all its backends."""
from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _fields(pid: int) -> list[str]:
    """/proc/PID/stat after the command name (which may hold spaces): [state, ppid, ...]."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2:].split()


def process_seconds(pid: int) -> float:
    """User and system CPU of the process, all its threads included."""
    fields = _fields(pid)
    return (int(fields[11]) + int(fields[12])) / TICKS


def main_thread_seconds(pid: int) -> float:
    """User and system CPU of the process's main thread alone (the bot's event loop: HTTP, botbuilder,
    routing; its SQLite and PostgreSQL work runs on other threads)."""
    text = Path(f"/proc/{pid}/task/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


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
            total += (int(child[11]) + int(child[12])) / TICKS
    return total
