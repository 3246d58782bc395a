from __future__ import annotations

import sqlite3

from .db import fetch_one, utc_now
from .models import Poll, PollOption, PollResults


class PollStore:
    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn

    def create(self, conversation_id: str, creator_id: str, creator_name: str,
               question: str, options: list[str], multiple_choice: bool) -> int:
        cur = self._conn.execute(
            """INSERT INTO polls (conversation_id, creator_id, creator_name, question,
                                  multiple_choice, status, created_at)
               VALUES (?, ?, ?, ?, ?, 'open', ?)""",
            (conversation_id, creator_id, creator_name, question, int(multiple_choice), utc_now()),
        )
        poll_id = cur.lastrowid
        self._conn.executemany(
            "INSERT INTO poll_options (poll_id, position, label) VALUES (?, ?, ?)",
            [(poll_id, position, label) for position, label in enumerate(options)],
        )
        return poll_id

    def get(self, poll_id: int) -> Poll | None:
        rows = self._conn.execute(
            """SELECT p.*, o.position, o.label FROM polls p JOIN poll_options o ON o.poll_id = p.id
               WHERE p.id = ? ORDER BY o.position""",
            (poll_id,),
        ).fetchall()
        if not rows:
            return None
        row = rows[0]
        return Poll(
            id=row["id"], conversation_id=row["conversation_id"], creator_id=row["creator_id"],
            creator_name=row["creator_name"], question=row["question"],
            multiple_choice=bool(row["multiple_choice"]), status=row["status"],
            options=tuple(PollOption(r["position"], r["label"]) for r in rows),
        )

    def results(self, poll_id: int) -> PollResults:
        rows = self._conn.execute(
            "SELECT position, COUNT(*) FROM votes WHERE poll_id = ? GROUP BY position", (poll_id,)
        ).fetchall()
        (voters,) = fetch_one(self._conn, "SELECT COUNT(DISTINCT user_id) FROM votes WHERE poll_id = ?", (poll_id,))
        return PollResults({position: count for position, count in rows}, voters)

    def user_choices(self, poll_id: int, user_id: str) -> frozenset[int]:
        rows = self._conn.execute(
            "SELECT position FROM votes WHERE poll_id = ? AND user_id = ?", (poll_id, user_id)
        ).fetchall()
        return frozenset(r["position"] for r in rows)

    def add_vote(self, poll_id: int, position: int, user_id: str, user_name: str) -> None:
        self._conn.execute(
            """INSERT OR IGNORE INTO votes (poll_id, position, user_id, user_name, voted_at)
               VALUES (?, ?, ?, ?, ?)""",
            (poll_id, position, user_id, user_name, utc_now()),
        )

    def remove_vote(self, poll_id: int, position: int, user_id: str) -> None:
        self._conn.execute(
            "DELETE FROM votes WHERE poll_id = ? AND position = ? AND user_id = ?", (poll_id, position, user_id)
        )

    def set_status(self, poll_id: int, status: str) -> None:
        closed_at = utc_now() if status == "closed" else None
        self._conn.execute("UPDATE polls SET status = ?, closed_at = ? WHERE id = ?", (status, closed_at, poll_id))
