from __future__ import annotations

import json
import sqlite3
from typing import Any

from .db import fetch_one, placeholders, utc_now
from .models import Card


class CardStore:
    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn

    def create(self, conversation_id: str, kind: str, locale: str, subject_id: int | None = None,
               owner_id: str = "", state: dict[str, Any] | None = None) -> int:
        """A card written in `locale` (a language tag, i18n.current() when it is the sender's)."""
        cur = self._conn.execute(
            """INSERT INTO cards (conversation_id, kind, subject_id, owner_id, state, locale, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id""",
            (conversation_id, kind, subject_id, owner_id, json.dumps(state or {}), locale, utc_now()),
        )
        (card_id,) = cur.fetchone()
        return card_id

    def get(self, card_id: int) -> Card | None:
        row = fetch_one(self._conn, "SELECT * FROM cards WHERE id = ?", (card_id,))
        return Card.from_row(row) if row else None

    def for_subject(self, kind: str, subject_id: int) -> list[Card]:
        rows = self._conn.execute(
            "SELECT * FROM cards WHERE kind = ? AND subject_id = ? ORDER BY id", (kind, subject_id)
        ).fetchall()
        return [Card.from_row(r) for r in rows]

    def in_conversation(self, kind: str, subject_id: int, conversation_id: str) -> Card | None:
        """The first card about this subject in that conversation."""
        row = fetch_one(self._conn, "SELECT * FROM cards WHERE kind = ? AND subject_id = ? AND conversation_id = ?"
                                    " ORDER BY id LIMIT 1", (kind, subject_id, conversation_id))
        return Card.from_row(row) if row else None

    def set_state(self, card_id: int, state: dict[str, Any]) -> None:
        self._conn.execute("UPDATE cards SET state = ? WHERE id = ?", (json.dumps(state), card_id))

    def set_activity_id(self, card_id: int, activity_id: str | None) -> None:
        self._conn.execute("UPDATE cards SET activity_id = ? WHERE id = ?", (activity_id, card_id))

    def next_render(self, card_id: int) -> int:
        """The number of a new render of the card (each render's is higher than the last's)."""
        (version,) = fetch_one(self._conn, "UPDATE cards SET render_version = render_version + 1 WHERE id = ?"
                                           " RETURNING render_version", (card_id,))
        return version

    def show(self, card_id: int, version: int) -> bool:
        """Record that Teams took this render of the card; False (and nothing recorded) if it
        had already taken a newer one: the store never goes back to an older render."""
        cur = self._conn.execute("UPDATE cards SET shown_version = ? WHERE id = ? AND shown_version < ?",
                                 (version, card_id, version))
        return cur.rowcount == 1

    def by_activity(self, conversation_id: str, activity_id: str) -> Card | None:
        row = fetch_one(self._conn, "SELECT * FROM cards WHERE conversation_id = ? AND activity_id = ?",
                        (conversation_id, activity_id))
        return Card.from_row(row) if row else None

    def delete(self, card_id: int) -> None:
        self._conn.execute("DELETE FROM cards WHERE id = ?", (card_id,))

    def delete_for_subjects(self, kind: str, subject_ids: list[int]) -> None:
        """Every card (1:1 copies too) showing these polls or requests; their outbox rows,
        texts and reactions go with them."""
        self._conn.execute(f"DELETE FROM cards WHERE kind = ? AND subject_id IN ({placeholders(subject_ids)})",
                           (kind, *subject_ids))

    def showing_subjects_of(self, conversation_ids: list[str]) -> list[Card]:
        """Cards in other conversations (1:1 copies) that show polls or requests of these conversations."""
        marks = placeholders(conversation_ids)
        rows = self._conn.execute(
            f"""SELECT * FROM cards WHERE conversation_id NOT IN ({marks}) AND (
                    (kind = 'poll' AND subject_id IN (SELECT id FROM polls WHERE conversation_id IN ({marks})))
                 OR (kind = 'approval' AND subject_id IN
                        (SELECT id FROM approvals WHERE conversation_id IN ({marks}))))""",
            conversation_ids * 3,
        ).fetchall()
        return [Card.from_row(r) for r in rows]

    def in_conversations(self, conversation_ids: list[str]) -> list[Card]:
        marks = placeholders(conversation_ids)
        rows = self._conn.execute(f"SELECT * FROM cards WHERE conversation_id IN ({marks})", conversation_ids)
        return [Card.from_row(r) for r in rows]
