from __future__ import annotations

import json
from typing import Any

import aiosqlite

from .db import fetch_one, utc_now
from .models import OutboxJob


class OutboxStore:
    """Durable queue of operations toward Teams, ordered per conversation."""

    def __init__(self, conn: aiosqlite.Connection):
        self._conn = conn
        self.touched: set[str] = set()

    async def enqueue(self, conversation_id: str, kind: str, card_id: int | None = None,
                      body: dict[str, Any] | None = None) -> None:
        # OR IGNORE: a second unclaimed update of the same card coalesces into the first.
        await self._conn.execute(
            """INSERT OR IGNORE INTO outbox (conversation_id, kind, card_id, body, created_at)
               VALUES (?, ?, ?, ?, ?)""",
            (conversation_id, kind, card_id, json.dumps(body or {}), utc_now()),
        )
        self.touched.add(conversation_id)

    async def head(self, conversation_id: str) -> OutboxJob | None:
        row = await fetch_one(
            self._conn, "SELECT * FROM outbox WHERE conversation_id = ? AND claimed = 0 ORDER BY id LIMIT 1",
            (conversation_id,),
        )
        if row is None:
            return None
        return OutboxJob(
            id=row["id"], conversation_id=row["conversation_id"], kind=row["kind"], card_id=row["card_id"],
            body=json.loads(row["body"]), attempts=row["attempts"], not_before=row["not_before"],
        )

    async def claim(self, job_id: int) -> bool:
        """Mark the job as being sent: a card update enqueued from now on is a new row."""
        cur = await self._conn.execute("UPDATE outbox SET claimed = 1 WHERE id = ? AND claimed = 0", (job_id,))
        return cur.rowcount == 1


    async def finish(self, job_id: int) -> None:
        await self._conn.execute("DELETE FROM outbox WHERE id = ?", (job_id,))

    async def retry_later(self, job: OutboxJob, not_before: float) -> None:
        await self._requeue(job, job.attempts + 1, not_before)

    async def release(self, job: OutboxJob) -> None:
        """Back to the queue as it was (its conversation is paused)."""
        await self._requeue(job, job.attempts, job.not_before)

    async def _requeue(self, job: OutboxJob, attempts: int, not_before: float) -> None:
        # If a newer update of the same card was queued meanwhile, that one wins.
        if job.kind == "update_card" and await self._has_pending_update(job.card_id):
            await self.finish(job.id)
            return
        await self._conn.execute(
            "UPDATE outbox SET claimed = 0, attempts = ?, not_before = ? WHERE id = ?",
            (attempts, not_before, job.id),
        )

    async def _has_pending_update(self, card_id: int | None) -> bool:
        row = await fetch_one(
            self._conn, "SELECT 1 FROM outbox WHERE card_id = ? AND kind = 'update_card' AND claimed = 0", (card_id,)
        )
        return row is not None

    async def release_claims(self) -> None:
        """After a crash: jobs that were in flight go back to the queue (a duplicate update is dropped)."""
        await self._conn.execute(
            """DELETE FROM outbox WHERE claimed = 1 AND kind = 'update_card' AND card_id IN
                   (SELECT card_id FROM outbox WHERE kind = 'update_card' AND claimed = 0)"""
        )
        await self._conn.execute("UPDATE outbox SET claimed = 0 WHERE claimed = 1")

    async def conversations_with_work(self) -> list[str]:
        return [r[0] for r in await self._conn.execute_fetchall("SELECT DISTINCT conversation_id FROM outbox")]

    async def pending_count(self) -> int:
        (count,) = await fetch_one(self._conn, "SELECT COUNT(*) FROM outbox")
        return count
