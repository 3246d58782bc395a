from __future__ import annotations

import json
import sqlite3
from typing import Any

from .db import fetch_one, utc_now
from .models import Card


class CardStore:
    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn

    def create(self, conversation_id: str, kind: str, subject_id: int | None = None,
               owner_id: str = "", state: dict[str, Any] | None = None) -> int:
        cur = self._conn.execute(
            """INSERT INTO cards (conversation_id, kind, subject_id, owner_id, state, created_at)
               VALUES (?, ?, ?, ?, ?, ?)""",
            (conversation_id, kind, subject_id, owner_id, json.dumps(state or {}), utc_now()),
        )
        return cur.lastrowid

    def get(self, card_id: int) -> Card | None:
        row = fetch_one(self._conn, "SELECT * FROM cards WHERE id = ?", (card_id,))
        return Card.from_row(row) if row else None

    def for_subject(self, kind: str, subject_id: int) -> list[Card]:
        rows = self._conn.execute(
            "SELECT * FROM cards WHERE kind = ? AND subject_id = ? ORDER BY id", (kind, subject_id)
        ).fetchall()
        return [Card.from_row(r) for r in rows]

    def set_state(self, card_id: int, state: dict[str, Any]) -> None:
        self._conn.execute("UPDATE cards SET state = ? WHERE id = ?", (json.dumps(state), card_id))

    def set_activity_id(self, card_id: int, activity_id: str | None) -> None:
        self._conn.execute("UPDATE cards SET activity_id = ? WHERE id = ?", (activity_id, card_id))
