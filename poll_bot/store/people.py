from __future__ import annotations

import sqlite3

from ..domain.approvals import Person
from .db import fetch_one, placeholders


class PeopleStore:
    """Who is in a conversation, and each user's 1:1 chat with the bot."""

    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn

    def personal_chat(self, user_id: str) -> str | None:
        row = fetch_one(self._conn, "SELECT conversation_id FROM personal_chats WHERE user_id = ?", (user_id,))
        return row["conversation_id"] if row else None

    def person_in_chat(self, conversation_id: str) -> str | None:
        """The user whose 1:1 chat with the bot this is, if it is one the bot knows."""
        row = fetch_one(self._conn, "SELECT user_id FROM personal_chats WHERE conversation_id = ?", (conversation_id,))
        return row["user_id"] if row else None

    def remember_personal_chat(self, user_id: str, conversation_id: str) -> None:
        self._conn.execute(
            """INSERT INTO personal_chats (user_id, conversation_id) VALUES (?, ?)
               ON CONFLICT (user_id) DO UPDATE SET conversation_id = excluded.conversation_id""",
            (user_id, conversation_id),
        )

    def replace_members(self, conversation_id: str, members: list[tuple[str, str, str]]) -> None:
        """members: (user id, name, AAD object id)."""
        self._conn.execute("DELETE FROM conversation_members WHERE conversation_id = ?", (conversation_id,))
        self._conn.executemany(
            """INSERT INTO conversation_members AS m (conversation_id, user_id, name, aad_object_id)
               VALUES (?, ?, ?, ?)
               ON CONFLICT (conversation_id, user_id) DO UPDATE SET
                   name = excluded.name, aad_object_id = excluded.aad_object_id""",
            [(conversation_id, *m) for m in members],
        )

    def colleagues(self, user_id: str) -> list[Person]:
        """Everyone who shares a conversation with this user, as far as the bot has seen."""
        rows = self._conn.execute(
            """SELECT DISTINCT m.user_id, m.name FROM conversation_members m
               WHERE m.conversation_id IN (SELECT conversation_id FROM conversation_members WHERE user_id = ?)
               ORDER BY m.name""",
            (user_id,),
        ).fetchall()
        return [Person(r["user_id"], r["name"]) for r in rows]

    def members(self, conversation_id: str) -> list[Person]:
        rows = self._conn.execute(
            "SELECT user_id, name FROM conversation_members WHERE conversation_id = ? ORDER BY name",
            (conversation_id,),
        ).fetchall()
        return [Person(r["user_id"], r["name"]) for r in rows]

    def member_count(self, conversation_id: str) -> int:
        (count,) = fetch_one(self._conn, "SELECT COUNT(*) FROM conversation_members WHERE conversation_id = ?",
                             (conversation_id,))
        return count

    def with_roster(self, conversation_ids: list[str]) -> list[str]:
        """Those of these conversations whose members the bot has read."""
        marks = placeholders(conversation_ids)
        rows = self._conn.execute(
            f"SELECT DISTINCT conversation_id FROM conversation_members WHERE conversation_id IN ({marks})",
            conversation_ids,
        )
        return [r[0] for r in rows]

    def add_member(self, conversation_id: str, user_id: str, name: str, aad_object_id: str) -> None:
        self._conn.execute(
            """INSERT INTO conversation_members AS m (conversation_id, user_id, name, aad_object_id)
               VALUES (?, ?, ?, ?)
               ON CONFLICT (conversation_id, user_id) DO UPDATE SET
                   name = CASE WHEN excluded.name != '' THEN excluded.name ELSE m.name END""",
            (conversation_id, user_id, name, aad_object_id),
        )

    def remove_member(self, conversation_ids: list[str], user_id: str) -> None:
        marks = placeholders(conversation_ids)
        self._conn.execute(f"DELETE FROM conversation_members WHERE user_id = ? AND conversation_id IN ({marks})",
                           (user_id, *conversation_ids))
