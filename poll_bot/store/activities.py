from __future__ import annotations

import sqlite3

from .db import utc_now


class ActivityLog:
    """Remembers handled inbound activities so a redelivery changes nothing."""

    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn

    def first_time(self, key: str) -> bool:
        cur = self._conn.execute(
            "INSERT OR IGNORE INTO processed_activities (activity_key, received_at) VALUES (?, ?)",
            (key, utc_now()),
        )
        return cur.rowcount == 1
