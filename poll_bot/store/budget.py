from __future__ import annotations

import sqlite3
from typing import Callable

from .db import fetch_one, placeholders

# A budget window: at most N operations in any S seconds.
Windows = tuple[tuple[int, float], ...]


class BudgetStore:
    """Teams' rate budgets as sliding logs in the database, so they hold for every
    instance together: one row per call and scope (a thread, a tenant), its time being
    the latest the call can have reached Teams. A call in flight counts at its deadline
    (it reaches Teams no later); once it has ended it counts at its end."""

    def __init__(self, conn: sqlite3.Connection, lock: Callable[[str], None]):
        self._conn = conn
        self._lock = lock

    def reserve(self, scopes: list[tuple[str, Windows]], now: float, deadline: float) -> tuple[list[int], float]:
        """One call starting now in every scope, if every window has room: its rows (each
        counted at `deadline` until `spent`) and 0. Else nothing is recorded: no rows and the
        seconds until there may be room."""
        for scope, _ in sorted(scopes):  # sorted: two instances reserving both scopes never deadlock
            self._lock(f"budget {scope}")
        wait = max(self._wait(scope, windows, now) for scope, windows in scopes)
        if wait > 0:
            return [], wait
        rows = [fetch_one(self._conn, "INSERT INTO send_log (scope, at) VALUES (?, ?) RETURNING id", (scope, deadline))
                for scope, _ in scopes]
        return [r[0] for r in rows], 0.0

    def _wait(self, scope: str, windows: Windows, now: float) -> float:
        longest = max(span for _, span in windows)
        self._conn.execute("DELETE FROM send_log WHERE scope = ? AND at <= ?", (scope, now - longest))
        wait = 0.0
        for limit, span in windows:
            # The window is full while the limit-th newest call still counts in it. One still
            # in flight (its time is ahead) will count until at least `span` from now.
            row = fetch_one(self._conn, "SELECT at FROM send_log WHERE scope = ? ORDER BY at DESC LIMIT 1 OFFSET ?",
                            (scope, limit - 1))
            if row is not None and row[0] > now - span:
                wait = max(wait, min(row[0], now) + span - now)
        return wait

    def spent(self, ids: list[int], ended: float) -> None:
        """These calls ended at `ended`: they count from then on (never later than reserved)."""
        self._conn.execute(f"UPDATE send_log SET at = ? WHERE id IN ({placeholders(ids)}) AND at > ?",
                           (ended, *ids, ended))

    def prune(self, before: float) -> None:
        """Forget calls that ended before `before` in every scope (a quiet thread's included)."""
        self._conn.execute("DELETE FROM send_log WHERE at < ?", (before,))

    def forget(self, scopes: list[str]) -> None:
        """The log of these scopes (the bot was removed from their conversations)."""
        self._conn.execute(f"DELETE FROM send_log WHERE scope IN ({placeholders(scopes)})", scopes)
