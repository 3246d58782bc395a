from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from .db import fetch_one, placeholders, utc_now


@dataclass(frozen=True)
class SentMessage:
    conversation_id: str
    activity_id: str
    card_id: int | None
    text: str


class MessageStore:
    """The text messages the bot sent, and people's reactions to the bot's messages."""

    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn

    def record_sent(self, conversation_id: str, activity_id: str, card_id: int | None, text: str) -> None:
        self._conn.execute(
            """INSERT INTO sent_messages (conversation_id, activity_id, card_id, text, sent_at)
               VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (conversation_id, activity_id) DO UPDATE SET
                   card_id = excluded.card_id, text = excluded.text, sent_at = excluded.sent_at""",
            (conversation_id, activity_id, card_id, text, utc_now()),
        )

    def sent(self, conversation_id: str, activity_id: str) -> SentMessage | None:
        row = fetch_one(self._conn, "SELECT * FROM sent_messages WHERE conversation_id = ? AND activity_id = ?",
                        (conversation_id, activity_id))
        return SentMessage(row["conversation_id"], row["activity_id"], row["card_id"], row["text"]) if row else None

    def sent_with_cards(self, card_ids: list[int]) -> list[SentMessage]:
        """The texts that went with these cards (their quick replies, for example)."""
        marks = placeholders(card_ids)
        rows = self._conn.execute(f"SELECT * FROM sent_messages WHERE card_id IN ({marks})", card_ids).fetchall()
        return [SentMessage(r["conversation_id"], r["activity_id"], r["card_id"], r["text"]) for r in rows]

    def prune_sent(self, before: str) -> None:
        self._conn.execute("DELETE FROM sent_messages WHERE sent_at < ?", (before,))

    def add_reaction(self, conversation_id: str, activity_id: str, user_id: str, reaction: str,
                     card_id: int | None) -> None:
        self._conn.execute(
            """INSERT INTO reactions (conversation_id, activity_id, user_id, reaction, card_id, reacted_at)
               VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
            (conversation_id, activity_id, user_id, reaction, card_id, utc_now()),
        )

    def remove_reaction(self, conversation_id: str, activity_id: str, user_id: str, reaction: str) -> None:
        self._conn.execute(
            "DELETE FROM reactions WHERE conversation_id = ? AND activity_id = ? AND user_id = ? AND reaction = ?",
            (conversation_id, activity_id, user_id, reaction),
        )
