from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from .db import fetch_one, hold, placeholders, utc_now
from .models import OutboxJob, OutboxStats


class OutboxStore:
    """Durable queue of operations toward Teams, ordered per conversation."""

    def __init__(self, conn: sqlite3.Connection, touched: set[str]):
        self._conn = conn
        self._touched = touched  # conversations whose lanes to wake after commit

    def enqueue(self, conversation_id: str, kind: str, card_id: int | None = None,
                body: dict[str, Any] | None = None) -> None:
        if kind == "update_card":
            hold(self._conn, _card_key(card_id), shared=True)  # see claim()
        # DO NOTHING: a second unclaimed update of the same card coalesces into the first,
        # which woke a lane already: only a new row wakes one.
        cur = self._conn.execute(
            """INSERT INTO outbox (conversation_id, kind, card_id, body, created_at)
               VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
            (conversation_id, kind, card_id, json.dumps(body or {}), utc_now()),
        )
        if cur.rowcount == 1:
            self._touched.add(conversation_id)

    def wake(self, conversation_id: str) -> None:
        """Have the conversation's lane look at its queue after commit (a hold on it ended)."""
        self._touched.add(conversation_id)

    def head(self, conversation_id: str, kinds: tuple[str, ...] | None = None) -> OutboxJob | None:
        """The conversation's oldest queued job (of these kinds only, if given)."""
        sql = "SELECT * FROM outbox WHERE conversation_id = ? AND claimed = 0"
        if kinds:
            sql += f" AND kind IN ({placeholders(kinds)})"
        row = fetch_one(self._conn, sql + " ORDER BY id LIMIT 1", (conversation_id, *(kinds or ())))
        if row is None:
            return None
        return OutboxJob(
            id=row["id"], conversation_id=row["conversation_id"], kind=row["kind"], card_id=row["card_id"],
            body=json.loads(row["body"]), attempts=row["attempts"], not_before=row["not_before"],
        )

    def claim(self, job_id: int) -> bool:
        """Mark the job as being sent: a card update enqueued from now on is a new row. A card
        update waits first for the transactions that coalesced into it (each holds the card
        shared until it commits), so the render that follows sees what they stored."""
        row = fetch_one(self._conn, "SELECT kind, card_id FROM outbox WHERE id = ?", (job_id,))
        if row is not None and row[0] == "update_card":
            hold(self._conn, _card_key(row[1]))
        cur = self._conn.execute("UPDATE outbox SET claimed = 1 WHERE id = ? AND claimed = 0", (job_id,))
        return cur.rowcount == 1

    def finish(self, job_id: int) -> None:
        self._conn.execute("DELETE FROM outbox WHERE id = ?", (job_id,))

    def retry_later(self, job: OutboxJob, not_before: float) -> None:
        self._requeue(job, job.attempts + 1, not_before)

    def release(self, job: OutboxJob) -> None:
        """Back to the queue as it was (its conversation is paused)."""
        self._requeue(job, job.attempts, job.not_before)

    def _requeue(self, job: OutboxJob, attempts: int, not_before: float) -> None:
        # If a newer update of the same card was queued meanwhile, that one wins.
        if job.kind == "update_card" and self._has_pending_update(job.card_id):
            self.finish(job.id)
            return
        self._conn.execute(
            "UPDATE outbox SET claimed = 0, attempts = ?, not_before = ? WHERE id = ?",
            (attempts, not_before, job.id),
        )

    def _has_pending_update(self, card_id: int | None) -> bool:
        row = fetch_one(
            self._conn, "SELECT 1 FROM outbox WHERE card_id = ? AND kind = 'update_card' AND claimed = 0", (card_id,)
        )
        return row is not None

    def release_claims(self, conversation_ids: list[str]) -> None:
        """These conversations' jobs that were in flight when their lane stopped or was taken
        over go back to the queue (an update of a card with a newer one queued is dropped)."""
        marks = placeholders(conversation_ids)
        self._conn.execute(
            f"""DELETE FROM outbox WHERE claimed = 1 AND kind = 'update_card' AND conversation_id IN ({marks})
                AND card_id IN (SELECT card_id FROM outbox WHERE kind = 'update_card' AND claimed = 0)""",
            conversation_ids,
        )
        self._conn.execute(f"UPDATE outbox SET claimed = 0 WHERE claimed = 1 AND conversation_id IN ({marks})",
                           conversation_ids)

    def pending_count(self) -> int:
        (count,) = fetch_one(self._conn, "SELECT COUNT(*) FROM outbox")
        return count

    def stats(self, now: datetime) -> OutboxStats:
        # Mirrors the pipeline's rule: nothing goes to a conversation that refused the bot, and only
        # opening someone's 1:1 chat goes ahead from one on hold (archived team, deleted channel).
        rows = self._conn.execute(
            """SELECT c.active = 1 AND (c.suspended = '' OR o.kind = 'open_personal_chat') AS ready,
                      COUNT(*), MIN(o.created_at)
               FROM outbox o JOIN conversations c ON c.id = o.conversation_id GROUP BY ready"""
        ).fetchall()
        counts = {bool(ready): (count, oldest) for ready, count, oldest in rows}
        ready, oldest = counts.get(True, (0, None))
        age = (now - datetime.fromisoformat(oldest)).total_seconds() if oldest else 0.0
        return OutboxStats(ready=ready, held=counts.get(False, (0, None))[0], oldest_ready_age=max(0.0, age))


def _card_key(card_id: int | None) -> str:
    return f"card update {card_id}"
