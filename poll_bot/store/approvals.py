from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass

from ..domain.approvals import Approval, Approver, Draft, Person, current_turn
from .db import fetch_one, placeholders, row_lock, utc_now


@dataclass(frozen=True)
class ApprovalCopy:
    card_id: int
    approval_id: int
    user_id: str


@dataclass(frozen=True)
class ApprovalEvent:
    at: str
    actor: str
    event: str
    detail: str


class ApprovalStore:
    def __init__(self, conn: sqlite3.Connection, changes: Counter):
        self._conn = conn
        self._changes = changes  # decisions recorded, reported after commit

    def create(self, conversation_id: str, requester: Person, draft: Draft, due_at: str | None) -> int:
        cur = self._conn.execute(
            """INSERT INTO approvals (conversation_id, requester_id, requester_name, title, details, policy,
                                      quorum, status, due_at, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) RETURNING id""",
            (conversation_id, requester.id, requester.name, draft.title, draft.details, draft.policy,
             draft.quorum, due_at, utc_now()),
        )
        (approval_id,) = cur.fetchone()
        self._conn.executemany(
            "INSERT INTO approval_approvers (approval_id, position, user_id, name) VALUES (?, ?, ?, ?)",
            [(approval_id, i, a.id, a.name) for i, a in enumerate(draft.approvers)],
        )
        return approval_id

    def get(self, approval_id: int, for_update: bool = False) -> Approval | None:
        """for_update: lock the request until the transaction ends, for a unit of work that
        changes it from what it reads (a concurrent decision waits, then reads the result)."""
        lock = row_lock(self._conn, "FOR UPDATE") if for_update else ""
        row = fetch_one(self._conn, "SELECT * FROM approvals WHERE id = ?" + lock, (approval_id,))
        if row is None:
            return None
        approvers = self._conn.execute(
            "SELECT * FROM approval_approvers WHERE approval_id = ? ORDER BY position", (approval_id,)
        ).fetchall()
        return Approval(
            id=row["id"], conversation_id=row["conversation_id"],
            requester=Person(row["requester_id"], row["requester_name"]), title=row["title"],
            details=row["details"], policy=row["policy"], quorum=row["quorum"], status=row["status"],
            approvers=tuple(Approver(a["position"], a["user_id"], a["name"], a["decision"], a["comment"],
                                     a["decided_at"]) for a in approvers),
            due_at=row["due_at"], created_at=row["created_at"], closed_reason=row["closed_reason"],
        )

    def save_decisions(self, approval: Approval) -> None:
        """Store the approvers' verdicts and the request's status as `approval` has them."""
        undecided = {r[0] for r in self._conn.execute(
            "SELECT position FROM approval_approvers WHERE approval_id = ? AND decision IS NULL", (approval.id,))}
        self._changes.update(("decision", a.decision) for a in approval.approvers
                             if a.decision and a.position in undecided)
        self._conn.executemany(
            """UPDATE approval_approvers SET decision = ?, comment = ?, decided_at = ?
               WHERE approval_id = ? AND position = ?""",
            [(a.decision, a.comment, a.decided_at, approval.id, a.position) for a in approval.approvers],
        )
        self.set_status(approval.id, approval.status)

    def set_status(self, approval_id: int, status: str, reason: str = "") -> None:
        closed_at = None if status == "pending" else utc_now()
        self._conn.execute("UPDATE approvals SET status = ?, closed_at = ?, closed_reason = ? WHERE id = ?",
                           (status, closed_at, reason, approval_id))

    def reassign(self, approval_id: int, from_user: str, to: Person) -> None:
        self._conn.execute(
            "UPDATE approval_approvers SET user_id = ?, name = ? WHERE approval_id = ? AND user_id = ?",
            (to.id, to.name, approval_id, from_user),
        )

    def log(self, approval_id: int, actor: Person, event: str, detail: str = "") -> None:
        self._conn.execute(
            "INSERT INTO approval_events (approval_id, at, actor_id, actor_name, event, detail) VALUES (?, ?, ?, ?, ?, ?)",
            (approval_id, utc_now(), actor.id, actor.name, event, detail),
        )

    def history(self, approval_id: int) -> list[ApprovalEvent]:
        rows = self._conn.execute(
            "SELECT at, actor_name, event, detail FROM approval_events WHERE approval_id = ? ORDER BY id",
            (approval_id,),
        ).fetchall()
        return [ApprovalEvent(r["at"], r["actor_name"], r["event"], r["detail"]) for r in rows]

    def awaiting(self, user_id: str) -> list[Approval]:
        """Pending requests where it is this user's turn, newest first."""
        rows = self._conn.execute(
            """SELECT a.id FROM approvals a JOIN approval_approvers p ON p.approval_id = a.id
               WHERE a.status = 'pending' AND p.user_id = ? AND p.decision IS NULL ORDER BY a.id DESC""",
            (user_id,),
        ).fetchall()
        found = [self.get(r["id"]) for r in rows]
        return [a for a in found if any(t.id == user_id for t in current_turn(a))]

    def add_copy(self, card_id: int, approval_id: int, user_id: str) -> None:
        self._conn.execute("INSERT INTO approval_copies (card_id, approval_id, user_id) VALUES (?, ?, ?)",
                           (card_id, approval_id, user_id))

    def mark_read(self, conversation_id: str, last_read_id: str) -> None:
        """Teams message ids (digits) grow with time, so every copy up to the last one read has
        been read. Compared as (length, text): a cast overflows PostgreSQL's integers."""
        self._conn.execute(
            """UPDATE approval_copies SET read = 1 WHERE read = 0 AND card_id IN (
                   SELECT id FROM cards WHERE conversation_id = ? AND activity_id IS NOT NULL
                   AND (LENGTH(activity_id) < LENGTH(?) OR (LENGTH(activity_id) = LENGTH(?) AND activity_id <= ?)))""",
            (conversation_id, last_read_id, last_read_id, last_read_id),
        )

    def unread_copies(self, sent_before: str) -> list[ApprovalCopy]:
        rows = self._conn.execute(
            """SELECT c.card_id, c.approval_id, c.user_id FROM approval_copies c
               JOIN cards k ON k.id = c.card_id JOIN approvals a ON a.id = c.approval_id
               WHERE c.read = 0 AND c.reminded = 0 AND a.status = 'pending'
               AND k.activity_id IS NOT NULL AND k.created_at <= ? ORDER BY c.card_id""",
            (sent_before,),
        ).fetchall()
        return [ApprovalCopy(r["card_id"], r["approval_id"], r["user_id"]) for r in rows]

    def mark_reminded(self, card_id: int) -> bool:
        """False if the copy's approver was reminded already."""
        cur = self._conn.execute("UPDATE approval_copies SET reminded = 1 WHERE card_id = ? AND reminded = 0",
                                 (card_id,))
        return cur.rowcount == 1

    def expire(self, approval_id: int) -> bool:
        """Expire the request if it is still pending; False if it is not."""
        cur = self._conn.execute(
            """UPDATE approvals SET status = 'expired', closed_at = ?, closed_reason = ''
               WHERE id = ? AND status = 'pending'""", (utc_now(), approval_id))
        return cur.rowcount == 1

    def overdue(self, now: str) -> list[int]:
        """Locked, to be expired: one decided meanwhile is not pending any more, and not listed."""
        rows = self._conn.execute(
            "SELECT id FROM approvals WHERE status = 'pending' AND due_at IS NOT NULL AND due_at <= ? ORDER BY id"
            + row_lock(self._conn, "FOR UPDATE"),
            (now,),
        ).fetchall()
        return [r["id"] for r in rows]

    def requested_pending(self, user_id: str) -> list[Approval]:
        rows = self._conn.execute(
            "SELECT id FROM approvals WHERE requester_id = ? AND status = 'pending' ORDER BY id DESC", (user_id,)
        ).fetchall()
        return [self.get(r["id"]) for r in rows]

    def finished_before(self, before: str, limit: int) -> list[int]:
        rows = self._conn.execute(
            "SELECT id FROM approvals WHERE status != 'pending' AND closed_at < ? ORDER BY id LIMIT ?", (before, limit))
        return [r[0] for r in rows]

    def delete_many(self, approval_ids: list[int]) -> None:
        """Delete these requests; their approvers, audit and copies go with them (the audit
        may be deleted only together with its request)."""
        self._conn.execute(f"DELETE FROM approvals WHERE id IN ({placeholders(approval_ids)})", approval_ids)

    def in_conversations(self, conversation_ids: list[str], status: str, reason: str = "") -> list[int]:
        """Locked, to be changed: one whose status changed meanwhile is not listed."""
        marks = placeholders(conversation_ids)
        rows = self._conn.execute(
            f"""SELECT id FROM approvals WHERE status = ? AND closed_reason = ? AND conversation_id IN ({marks})
                ORDER BY id""" + row_lock(self._conn, "FOR UPDATE"),
            (status, reason, *conversation_ids),
        ).fetchall()
        return [r["id"] for r in rows]
