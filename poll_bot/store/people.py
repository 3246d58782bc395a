from __future__ import annotations

import sqlite3

from ..domain.approvals import Person
from .db import fetch_one, placeholders


def roster_key(conversation_id: str) -> str:
    """Where a conversation's members are kept: its thread's root, the chat or the channel. Every
    reply chain of a channel shares the channel's one copy (each chain's own piled up over years)."""
    return conversation_id.split(";", 1)[0]


def roster_keys(conversation_ids: list[str]) -> list[str]:
    """The rosters of these conversations, each once."""
    return sorted({roster_key(c) for c in conversation_ids})


class PeopleStore:
    """Who is in a conversation (kept once per chat or channel, see `roster_key`), and each user's
    1:1 chat with the bot."""

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
        key = roster_key(conversation_id)
        self._conn.execute("DELETE FROM conversation_members WHERE conversation_id = ?", (key,))
        self._conn.executemany(
            """INSERT INTO conversation_members AS m (conversation_id, user_id, name, aad_object_id)
               VALUES (?, ?, ?, ?)
               ON CONFLICT (conversation_id, user_id) DO UPDATE SET
                   name = excluded.name, aad_object_id = excluded.aad_object_id""",
            [(key, *m) for m in members],
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
            (roster_key(conversation_id),),
        ).fetchall()
        return [Person(r["user_id"], r["name"]) for r in rows]

    def member_count(self, conversation_id: str) -> int:
        (count,) = fetch_one(self._conn, "SELECT COUNT(*) FROM conversation_members WHERE conversation_id = ?",
                             (roster_key(conversation_id),))
        return count

    def with_roster(self, conversation_ids: list[str]) -> list[str]:
        """Those of these conversations whose members the bot has read."""
        keys = roster_keys(conversation_ids)
        rows = self._conn.execute(
            f"SELECT DISTINCT conversation_id FROM conversation_members WHERE conversation_id IN "
            f"({placeholders(keys)})", keys,
        )
        read = {r[0] for r in rows}
        return [c for c in conversation_ids if roster_key(c) in read]

    def add_member(self, conversation_ids: list[str], user_id: str, name: str, aad_object_id: str) -> None:
        """To the rosters of these conversations' chats and channels."""
        self._conn.executemany(
            """INSERT INTO conversation_members AS m (conversation_id, user_id, name, aad_object_id)
               VALUES (?, ?, ?, ?)
               ON CONFLICT (conversation_id, user_id) DO UPDATE SET
                   name = CASE WHEN excluded.name != '' THEN excluded.name ELSE m.name END""",
            [(key, user_id, name, aad_object_id) for key in roster_keys(conversation_ids)],
        )

    def remove_member(self, conversation_ids: list[str], user_id: str) -> None:
        keys = roster_keys(conversation_ids)
        self._conn.execute(f"DELETE FROM conversation_members WHERE user_id = ? AND conversation_id IN "
                           f"({placeholders(keys)})", (user_id, *keys))
