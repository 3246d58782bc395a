from __future__ import annotations

import sqlite3

from .db import fetch_one, utc_now
from .models import Conversation


class ConversationStore:
    def __init__(self, conn: sqlite3.Connection, known: dict[str, Conversation]):
        self._conn = conn
        self._known = known  # the Store's cache of unchanged conversations; forget on every change

    def upsert(self, conv: Conversation, reactivate: bool) -> None:
        """Record the conversation and its latest serviceUrl; `reactivate` resumes posting there."""
        self._conn.execute(
            """
            INSERT INTO conversations
                (id, conversation_type, tenant_id, service_url, name, team_id, channel_id, bot_id, active, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?)
            ON CONFLICT (id) DO UPDATE SET
                service_url = excluded.service_url,
                tenant_id = CASE WHEN excluded.tenant_id != '' THEN excluded.tenant_id ELSE tenant_id END,
                name = CASE WHEN excluded.name != '' THEN excluded.name ELSE name END,
                team_id = CASE WHEN excluded.team_id != '' THEN excluded.team_id ELSE team_id END,
                channel_id = CASE WHEN excluded.channel_id != '' THEN excluded.channel_id ELSE channel_id END,
                bot_id = CASE WHEN excluded.bot_id != '' THEN excluded.bot_id ELSE bot_id END,
                active = CASE WHEN ? THEN 1 ELSE active END,
                updated_at = excluded.updated_at
            """,
            (conv.id, conv.conversation_type, conv.tenant_id, conv.service_url, conv.name,
             conv.team_id, conv.channel_id, conv.bot_id, utc_now(), reactivate),
        )

    def get(self, conversation_id: str) -> Conversation | None:
        row = fetch_one(self._conn, "SELECT * FROM conversations WHERE id = ?", (conversation_id,))
        if row is None:
            return None
        return Conversation(
            id=row["id"], conversation_type=row["conversation_type"], tenant_id=row["tenant_id"],
            service_url=row["service_url"], name=row["name"], team_id=row["team_id"],
            channel_id=row["channel_id"], bot_id=row["bot_id"], active=bool(row["active"]),
        )

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
