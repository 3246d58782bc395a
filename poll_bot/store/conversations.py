from __future__ import annotations

import sqlite3
from dataclasses import replace

from .db import fetch_one, placeholders, utc_now
from .models import Conversation
from .people import roster_keys


class ConversationStore:
    def __init__(self, conn: sqlite3.Connection, known: dict[str, Conversation]):
        self._conn = conn
        self._known = known  # the Store's cache of unchanged conversations; forget on every change

    def upsert(self, conv: Conversation, reactivate: bool) -> None:
        """Record the conversation and its latest serviceUrl; `reactivate` resumes posting there."""
        self._conn.execute(
            """
            INSERT INTO conversations AS c
                (id, conversation_type, tenant_id, service_url, name, team_id, channel_id, bot_id,
                 team_name, channel_name, locale, active, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)
            ON CONFLICT (id) DO UPDATE SET
                service_url = excluded.service_url,
                tenant_id = CASE WHEN excluded.tenant_id != '' THEN excluded.tenant_id ELSE c.tenant_id END,
                name = CASE WHEN excluded.name != '' THEN excluded.name ELSE c.name END,
                team_id = CASE WHEN excluded.team_id != '' THEN excluded.team_id ELSE c.team_id END,
                channel_id = CASE WHEN excluded.channel_id != '' THEN excluded.channel_id ELSE c.channel_id END,
                bot_id = CASE WHEN excluded.bot_id != '' THEN excluded.bot_id ELSE c.bot_id END,
                team_name = CASE WHEN excluded.team_name != '' THEN excluded.team_name ELSE c.team_name END,
                channel_name = CASE WHEN excluded.channel_name != '' THEN excluded.channel_name ELSE c.channel_name END,
                locale = CASE WHEN excluded.locale != '' THEN excluded.locale ELSE c.locale END,
                active = CASE WHEN ? THEN 1 ELSE c.active END,
                updated_at = excluded.updated_at
            """,
            (conv.id, conv.conversation_type, conv.tenant_id, conv.service_url, conv.name, conv.team_id,
             conv.channel_id, conv.bot_id, conv.team_name, conv.channel_name, conv.locale, utc_now(), reactivate),
        )

    def get(self, conversation_id: str) -> Conversation | None:
        row = fetch_one(self._conn, "SELECT * FROM conversations WHERE id = ?", (conversation_id,))
        if row is None:
            return None
        return Conversation(
            id=row["id"], conversation_type=row["conversation_type"], tenant_id=row["tenant_id"],
            service_url=row["service_url"], name=row["name"], team_id=row["team_id"],
            channel_id=row["channel_id"], bot_id=row["bot_id"], team_name=row["team_name"],
            channel_name=row["channel_name"], active=bool(row["active"]), suspended=row["suspended"],
            locale=row["locale"],
        )

    def named(self, conversation_id: str) -> Conversation | None:
        """The conversation with its team's and channel's names, which Teams sends only with some
        events: a channel reply chain's own row has none, so they come from the team's other rows."""
        conversation = self.get(conversation_id)
        if conversation is None or not conversation.team_id:
            return conversation
        team_name, channel_name = fetch_one(self._conn, """SELECT
            (SELECT team_name FROM conversations WHERE team_id = ? AND team_name != '' LIMIT 1),
            (SELECT channel_name FROM conversations WHERE channel_id = ? AND channel_name != '' LIMIT 1)""",
            (conversation.team_id, conversation.channel_id))
        return replace(conversation, team_name=team_name or "", channel_name=channel_name or "")

    def set_active(self, conversation_id: str, active: bool) -> None:
        self._known.pop(conversation_id, None)
        self._conn.execute(
            "UPDATE conversations SET active = ?, updated_at = ? WHERE id = ?",
            (int(active), utc_now(), conversation_id),
        )

    def set_service_url(self, conversation_id: str, service_url: str) -> None:
        self._known.pop(conversation_id, None)
        self._conn.execute(
            "UPDATE conversations SET service_url = ?, updated_at = ? WHERE id = ?",
            (service_url, utc_now(), conversation_id),
        )

    # Scopes: a team's every channel thread, one channel's threads, or one chat --------

    def of_team(self, team_id: str) -> list[str]:
        return [r[0] for r in self._conn.execute("SELECT id FROM conversations WHERE team_id = ?", (team_id,))]

    def of_channel(self, channel_id: str) -> list[str]:
        return [r[0] for r in self._conn.execute("SELECT id FROM conversations WHERE channel_id = ?", (channel_id,))]

    def in_tenant(self, tenant_id: str) -> bool:
        """Whether any conversation of this tenant is stored."""
        row = fetch_one(self._conn, "SELECT 1 FROM conversations WHERE tenant_id = ? LIMIT 1", (tenant_id,))
        return row is not None

    def of_chat(self, conversation_id: str) -> list[str]:
        """The chat and its reply threads (`id;messageid=...`)."""
        root = conversation_id.split(";", 1)[0]
        rows = self._conn.execute("SELECT id FROM conversations WHERE id = ? OR id LIKE ? ESCAPE '\\'",
                                  (root, _like_prefix(root + ";")))
        return [r[0] for r in rows]

    def suspend(self, ids: list[str], reason: str) -> None:
        self._known.clear()
        self._conn.execute(f"UPDATE conversations SET suspended = ? WHERE id IN ({placeholders(ids)})", (reason, *ids))

    def resume(self, ids: list[str], reason: str) -> list[str]:
        """End the hold on these conversations if it was for `reason`; the ones resumed."""
        self._known.clear()
        rows = self._conn.execute(
            f"UPDATE conversations SET suspended = '' WHERE suspended = ? AND id IN ({placeholders(ids)}) RETURNING id",
            (reason, *ids),
        ).fetchall()
        return [r[0] for r in rows]

    def rename_team(self, team_id: str, name: str) -> None:
        self._known.clear()
        self._conn.execute("UPDATE conversations SET team_name = ? WHERE team_id = ?", (name, team_id))

    def rename_channel(self, channel_id: str, name: str) -> None:
        self._known.clear()
        self._conn.execute("UPDATE conversations SET channel_name = ? WHERE channel_id = ?", (name, channel_id))

    def erase(self, ids: list[str]) -> None:
        """Delete the conversations and, through foreign keys, everything stored for them; and the
        rosters of their chats and channels, which are kept by chat or channel, not by conversation."""
        for conversation_id in ids:
            self._known.pop(conversation_id, None)
        self._conn.execute(f"DELETE FROM conversations WHERE id IN ({placeholders(ids)})", ids)
        keys = roster_keys(ids)
        self._conn.execute(f"DELETE FROM conversation_members WHERE conversation_id IN ({placeholders(keys)})", keys)

    # Installations -------------------------------------------------------------------

    def first_installation(self, scope_id: str) -> bool:
        """Record the installation; False if it was already recorded (already welcomed)."""
        cur = self._conn.execute(
            "INSERT INTO installations (scope_id, installed_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (scope_id, utc_now()))
        return cur.rowcount == 1

    def forget_installation(self, scope_id: str) -> None:
        self._conn.execute("DELETE FROM installations WHERE scope_id = ?", (scope_id,))


def _like_prefix(prefix: str) -> str:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"
