from __future__ import annotations

import sqlite3

from .db import fetch_one


class LaneStore:
    """Who delivers for each conversation: a lease per conversation, fenced by an epoch.

    An instance takes a conversation's lane when no live lease covers it; each take
    bumps the epoch. The holder renews the lease with (owner, epoch), so once another
    instance has taken the lane over, every renewal of the old holder fails and it
    stops: nothing it writes afterwards can land.
    """

    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn

    def take(self, conversation_id: str, owner: str, now: float, until: float) -> int | None:
        """Hold the lane until `until`, if it is free, expired or `owner`'s already (an
        instance runs one lane per conversation); the new epoch, or None while another
        instance holds it."""
        row = fetch_one(
            self._conn,
            """INSERT INTO lanes (conversation_id, owner, epoch, lease_until)
               SELECT ?, ?, 1, ? WHERE EXISTS (SELECT 1 FROM conversations WHERE id = ?)
               ON CONFLICT (conversation_id) DO UPDATE SET
                   owner = excluded.owner, epoch = lanes.epoch + 1, lease_until = excluded.lease_until
               WHERE lanes.lease_until < ? OR lanes.owner = excluded.owner
               RETURNING epoch""",
            (conversation_id, owner, until, conversation_id, now),
        )
        return row[0] if row else None

    def renew(self, conversation_id: str, owner: str, epoch: int, until: float) -> bool:
        """Extend the lease; False if the lane is not this holder's any more (taken over)."""
        cur = self._conn.execute(
            "UPDATE lanes SET lease_until = ? WHERE conversation_id = ? AND owner = ? AND epoch = ?",
            (until, conversation_id, owner, epoch),
        )
        return cur.rowcount == 1

    def release(self, conversation_id: str, owner: str, epoch: int) -> None:
        self._conn.execute(
            "UPDATE lanes SET owner = '', lease_until = 0 WHERE conversation_id = ? AND owner = ? AND epoch = ?",
            (conversation_id, owner, epoch),
        )

    def release_all(self, owner: str | None = None) -> list[str]:
        """Release every lane `owner` holds (every lane at all, without one); their conversations."""
        sql = "UPDATE lanes SET owner = '', lease_until = 0 WHERE owner != ''"
        rows = self._conn.execute(sql + (" AND owner = ?" if owner else "") + " RETURNING conversation_id",
                                  (owner,) if owner else ()).fetchall()
        return [r[0] for r in rows]

    def unowned_work(self, now: float, limit: int) -> list[str]:
        """Conversations with deliverable work in the outbox and no live lease: the holder
        released it, died or lost its database. Held work (a conversation that refused
        the bot or is on hold) is left for the event that resumes it."""
        rows = self._conn.execute(
            """SELECT DISTINCT o.conversation_id FROM outbox o
               JOIN conversations c ON c.id = o.conversation_id
               LEFT JOIN lanes l ON l.conversation_id = o.conversation_id
               WHERE c.active = 1 AND (c.suspended = '' OR o.kind = 'open_personal_chat')
               AND (l.conversation_id IS NULL OR l.lease_until < ?) LIMIT ?""",
            (now, limit),
        ).fetchall()
        return [r[0] for r in rows]
