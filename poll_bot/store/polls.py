from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass

from .db import fetch_one, placeholders, row_lock, utc_now
from ..domain.approvals import Person
from ..domain.polls import MAX_OPTIONS, PollDraft
from ..domain.times import stored
from ..signing import Pseudonyms
from .models import Poll, PollOption, PollResults
from .people import roster_key


@dataclass(frozen=True)
class PollListing:
    """One line of "My open polls"."""
    poll_id: int
    question: str
    conversation_id: str
    voters: int
    mine: bool  # created by the user (else the user voted in it)


class PollStore:
    def __init__(self, conn: sqlite3.Connection, changes: Counter, pseudonyms: Pseudonyms):
        self._conn = conn
        self._changes = changes  # votes added and removed, reported after commit
        self._pseudonyms = pseudonyms

    def create(self, conversation_id: str, creator_id: str, creator_name: str, draft: PollDraft,
               command_message_id: str | None = None) -> int:
        settings = draft.settings
        cur = self._conn.execute(
            """INSERT INTO polls (conversation_id, creator_id, creator_name, question, multiple_choice,
                                  max_choices, anonymous, hidden, anyone_adds, closes_at, status, created_at,
                                  command_message_id)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?) RETURNING id""",
            (conversation_id, creator_id, creator_name, draft.question, int(settings.multiple_choice),
             settings.max_choices, int(settings.anonymous), int(settings.hidden), int(settings.anyone_adds),
             stored(settings.closes_at) if settings.closes_at else None, utc_now(), command_message_id),
        )
        (poll_id,) = cur.fetchone()
        self._insert_options(poll_id, list(draft.options), first=0)
        return poll_id

    def _insert_options(self, poll_id: int, options: list[str], first: int) -> None:
        self._conn.executemany(
            "INSERT INTO poll_options (poll_id, position, label) VALUES (?, ?, ?)",
            [(poll_id, first + i, label) for i, label in enumerate(options)],
        )

    def _next_position(self, poll_id: int) -> int:
        """The position after the poll's last option (after every one it ever had, since options
        are only ever added at the end or replaced all at once)."""
        (last,) = fetch_one(self._conn, "SELECT COALESCE(MAX(position), -1) FROM poll_options WHERE poll_id = ?",
                            (poll_id,))
        return last + 1

    def get(self, poll_id: int, for_share: bool = False) -> Poll | None:
        """for_share: keep the poll as read until the transaction ends (closing, reopening or
        editing it waits), for a unit of work that relies on it."""
        return self.get_with_choices(poll_id, "", for_share)[0]

    def get_with_choices(self, poll_id: int, user_id: str,
                         for_share: bool = False) -> tuple[Poll | None, frozenset[int]]:
        """The poll and the options `user_id` chose in it (stored under their pseudonym in an
        anonymous poll, see `_voter`), read together: a vote's one read."""
        if for_share:
            self.lock(poll_id, exclusive=False)
        rows = self._conn.execute(
            # A subquery, not a join: there the voter's id is an index condition for PostgreSQL; as
            # a join condition (the CASE depends on the poll's row) it read every vote on the option.
            """SELECT p.*, o.position, o.label, c.suspended,
                      EXISTS (SELECT 1 FROM votes v WHERE v.poll_id = p.id AND v.position = o.position
                              AND v.user_id = CASE WHEN p.anonymous = 1 THEN ? ELSE ? END) AS chosen
               FROM polls p JOIN poll_options o ON o.poll_id = p.id JOIN conversations c ON c.id = p.conversation_id
               WHERE p.id = ? ORDER BY o.position""",
            (self._pseudonyms.voter(poll_id, user_id) if user_id else "", user_id, poll_id),
        ).fetchall()
        if not rows:
            return None, frozenset()
        return _poll(rows), frozenset(r["position"] for r in rows if r["chosen"])

    def lock(self, poll_id: int, exclusive: bool) -> None:
        """Hold the poll's row until the transaction ends (PostgreSQL; SQLite's transactions never
        interleave). Shared, by a vote: closing the poll or changing its options waits for it.
        Exclusive, by whoever changes its options: a vote being cast commits first, later ones wait.
        A statement of its own, so what is read next is as committed once the lock is held (a
        locking read that waits joins the poll's new row to the options it saw before waiting)."""
        lock = row_lock(self._conn, "FOR UPDATE" if exclusive else "FOR SHARE")
        if lock:
            self._conn.execute("SELECT 1 FROM polls WHERE id = ?" + lock, (poll_id,))

    def by_command_message(self, conversation_id: str, message_id: str) -> Poll | None:
        row = fetch_one(self._conn, "SELECT id FROM polls WHERE conversation_id = ? AND command_message_id = ?",
                        (conversation_id, message_id))
        return self.get(row["id"]) if row else None

    def results(self, poll_id: int, multiple_choice: bool = True) -> PollResults:
        rows = self._conn.execute(
            "SELECT position, COUNT(*) FROM votes WHERE poll_id = ? GROUP BY position", (poll_id,)
        ).fetchall()
        counts = {position: count for position, count in rows}
        if not multiple_choice:  # one vote each: as many voters as votes
            return PollResults(counts, sum(counts.values()))
        (voters,) = fetch_one(self._conn, "SELECT COUNT(DISTINCT user_id) FROM votes WHERE poll_id = ?", (poll_id,))
        return PollResults(counts, voters)

    def first_voters(self, poll_id: int, positions: list[int], per_option: int) -> dict[int, list[str]]:
        """The names of the first people to choose each option, at most `per_option` of each: one
        short index range per option, so it costs the same for 10 voters as for 10,000."""
        names: dict[int, list[str]] = {}
        for position in positions:
            rows = self._conn.execute(
                """SELECT user_name FROM votes WHERE poll_id = ? AND position = ?
                   ORDER BY voted_at, user_id LIMIT ?""",
                (poll_id, position, per_option),
            ).fetchall()
            if rows:
                names[position] = [name for (name,) in rows]
        return names

    def votes(self, poll_id: int) -> list[tuple[int, str, str]]:
        """Every vote: (option position, voter's name, when), by option and then by time."""
        rows = self._conn.execute(
            "SELECT position, user_name, voted_at FROM votes WHERE poll_id = ? ORDER BY position, voted_at",
            (poll_id,),
        ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    def recent_voters(self, poll_id: int, limit: int) -> list[str]:
        """The people who voted last, most recent first. Read newest vote first along an index,
        so it costs the same for 10 voters as for 10,000: a person has at most one row per
        option, so `limit` people lie within `limit * options` rows."""
        voters: dict[str, None] = {}
        for (user_id,) in self._conn.execute(
                "SELECT user_id FROM votes WHERE poll_id = ? ORDER BY voted_at DESC LIMIT ?",
                (poll_id, limit * MAX_OPTIONS)):
            voters[user_id] = None
            if len(voters) == limit:
                break  # SQLite reads no further rows
        return list(voters)

    def _voter(self, poll: Poll, user_id: str) -> str:
        """Who a vote is stored under: the person's id, or in an anonymous poll a keyed hash of it."""
        return self._pseudonyms.voter(poll.id, user_id) if poll.anonymous else user_id

    def _reminded(self, poll: Poll, user_id: str) -> str:
        """Who a reminder is stored under: the person's id, or in an anonymous poll a keyed hash
        unlike their vote's, so the two records cannot be joined."""
        return self._pseudonyms.reminded(poll.id, user_id) if poll.anonymous else user_id

    def user_choices(self, poll: Poll, user_id: str) -> frozenset[int]:
        rows = self._conn.execute(
            "SELECT position FROM votes WHERE poll_id = ? AND user_id = ?", (poll.id, self._voter(poll, user_id))
        ).fetchall()
        return frozenset(r["position"] for r in rows)

    def not_voted(self, poll: Poll, people: list[Person]) -> list[Person]:
        """Those of these people who have no vote in the poll."""
        voted = {r[0] for r in self._conn.execute("SELECT DISTINCT user_id FROM votes WHERE poll_id = ?", (poll.id,))}
        return [p for p in people if self._voter(poll, p.id) not in voted]

    def members_voted(self, poll: Poll) -> int:
        """How many members of the poll's chat or channel (as last read) voted in it."""
        roster = roster_key(poll.conversation_id)
        if poll.anonymous:  # votes are kept under keyed hashes: hash each member to find theirs
            members = [Person(user_id, "") for (user_id,) in self._conn.execute(
                "SELECT user_id FROM conversation_members WHERE conversation_id = ?", (roster,))]
            return len(members) - len(self.not_voted(poll, members))
        (count,) = fetch_one(
            self._conn,
            """SELECT COUNT(DISTINCT v.user_id) FROM votes v
               JOIN conversation_members m ON m.conversation_id = ? AND m.user_id = v.user_id
               WHERE v.poll_id = ?""",
            (roster, poll.id))
        return count

    def not_reminded(self, poll: Poll, people: list[Person]) -> list[Person]:
        reminded = {r[0] for r in self._conn.execute("SELECT person FROM poll_reminders WHERE poll_id = ?", (poll.id,))}
        return [p for p in people if self._reminded(poll, p.id) not in reminded]

    def remind(self, poll: Poll, user_id: str) -> bool:
        """Record that this person is reminded to vote; False if they already were (by anyone)."""
        cur = self._conn.execute(
            "INSERT INTO poll_reminders (poll_id, person, reminded_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (poll.id, self._reminded(poll, user_id), utc_now()))
        return cur.rowcount == 1

    def add_vote(self, poll: Poll, position: int, user_id: str, user_name: str) -> None:
        """In an anonymous poll neither the voter's id nor their name is stored."""
        cur = self._conn.execute(
            """INSERT INTO votes (poll_id, position, user_id, user_name, voted_at)
               VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
            (poll.id, position, self._voter(poll, user_id), "" if poll.anonymous else user_name, utc_now()),
        )
        self._changes["vote", "added"] += cur.rowcount

    def remove_vote(self, poll: Poll, position: int, user_id: str) -> None:
        cur = self._conn.execute("DELETE FROM votes WHERE poll_id = ? AND position = ? AND user_id = ?",
                                 (poll.id, position, self._voter(poll, user_id)))
        self._changes["vote", "removed"] += cur.rowcount

    def close(self, poll_id: int, reason: str = "") -> bool:
        """Close it if it is open; False if it was closed already. Only one of several closers at
        once (its creator, the timers of two instances) gets True: the UPDATE is conditional."""
        cur = self._conn.execute(
            "UPDATE polls SET status = 'closed', closed_at = ?, closed_reason = ? WHERE id = ? AND status = 'open'",
            (utc_now(), reason, poll_id))
        return cur.rowcount == 1

    def reopen(self, poll_id: int) -> bool:
        cur = self._conn.execute(
            "UPDATE polls SET status = 'open', closed_at = NULL, closed_reason = '' WHERE id = ? AND status = 'closed'",
            (poll_id,))
        return cur.rowcount == 1

    def set_deadline(self, poll_id: int, closes_at: str | None) -> None:
        self._conn.execute("UPDATE polls SET closes_at = ? WHERE id = ?", (closes_at, poll_id))

    def next_closing(self) -> str | None:
        """The soonest closing time of an open poll (a withdrawn one's waits until it is restored)."""
        (closing,) = fetch_one(self._conn, """SELECT MIN(closes_at) FROM polls
                                              WHERE status = 'open' AND closes_at IS NOT NULL AND withdrawn = 0""")
        return closing

    def due(self, now: str, limit: int) -> list[int]:
        """Open polls whose closing time has come (a withdrawn one waits until it is restored)."""
        rows = self._conn.execute(
            """SELECT id FROM polls WHERE status = 'open' AND closes_at <= ? AND withdrawn = 0
               ORDER BY closes_at, id LIMIT ?""", (now, limit))
        return [r[0] for r in rows]

    def add_options(self, poll_id: int, labels: list[str]) -> None:
        """New options after the existing ones (positions keep meaning what was voted for)."""
        self._insert_options(poll_id, labels, first=self._next_position(poll_id))

    def replace_draft(self, poll_id: int, question: str, options: list[str]) -> None:
        """A new question and options for a poll nobody has voted in yet. The new options take
        positions after the old ones: a press on a card that showed the old options names a
        position that is gone, so it can never count for a new option."""
        first = self._next_position(poll_id)
        self._conn.execute("UPDATE polls SET question = ? WHERE id = ?", (question, poll_id))
        self._conn.execute("DELETE FROM poll_options WHERE poll_id = ?", (poll_id,))
        self._insert_options(poll_id, options, first)

    def set_withdrawn(self, poll_id: int, withdrawn: bool) -> None:
        self._conn.execute("UPDATE polls SET withdrawn = ? WHERE id = ?", (int(withdrawn), poll_id))

    def delete(self, poll_id: int) -> None:
        self._conn.execute("DELETE FROM polls WHERE id = ?", (poll_id,))

    def delete_many(self, poll_ids: list[int]) -> None:
        """Delete these polls; their options, votes and quick-reply offers go with them."""
        self._conn.execute(f"DELETE FROM polls WHERE id IN ({placeholders(poll_ids)})", poll_ids)

    def closed_before(self, before: str, limit: int) -> list[int]:
        rows = self._conn.execute(
            "SELECT id FROM polls WHERE status = 'closed' AND closed_at < ? ORDER BY id LIMIT ?", (before, limit))
        return [r[0] for r in rows]

    def open_in(self, conversation_ids: list[str]) -> list[int]:
        marks = placeholders(conversation_ids)
        rows = self._conn.execute(
            f"SELECT id FROM polls WHERE status = 'open' AND conversation_id IN ({marks})", conversation_ids)
        return [r[0] for r in rows]

    def closed_for(self, reason: str, conversation_ids: list[str]) -> list[int]:
        marks = placeholders(conversation_ids)
        rows = self._conn.execute(
            f"SELECT id FROM polls WHERE status = 'closed' AND closed_reason = ? AND conversation_id IN ({marks})",
            (reason, *conversation_ids))
        return [r[0] for r in rows]

    def open_for_user(self, user_id: str, limit: int = 10) -> list[PollListing]:
        """Open polls the user created or voted in, newest first. An anonymous poll is listed only
        for its creator: nothing stored says who voted in it."""
        rows = self._conn.execute(
            """SELECT p.id, p.question, p.conversation_id, p.creator_id = ? AS mine,
                      (SELECT COUNT(DISTINCT user_id) FROM votes v WHERE v.poll_id = p.id) AS voters
               FROM polls p
               WHERE p.status = 'open' AND p.withdrawn = 0
                 AND (p.creator_id = ? OR EXISTS (SELECT 1 FROM votes v WHERE v.poll_id = p.id AND v.user_id = ?))
               ORDER BY p.id DESC LIMIT ?""",
            (user_id, user_id, user_id, limit),
        ).fetchall()
        return [PollListing(r["id"], r["question"], r["conversation_id"], r["voters"], bool(r["mine"])) for r in rows]

    def offer(self, conversation_id: str, poll_id: int) -> None:
        """Remember the poll whose options were just offered as quick replies in this 1:1 chat."""
        self._conn.execute(
            """INSERT INTO offered_polls (conversation_id, poll_id) VALUES (?, ?)
               ON CONFLICT (conversation_id) DO UPDATE SET poll_id = excluded.poll_id""",
            (conversation_id, poll_id),
        )

    def offered(self, conversation_id: str) -> Poll | None:
        row = fetch_one(self._conn, "SELECT poll_id FROM offered_polls WHERE conversation_id = ?", (conversation_id,))
        return self.get(row["poll_id"]) if row else None


def _poll(rows: list) -> Poll:
    """A poll from its rows, one per option in order."""
    row = rows[0]
    return Poll(
        id=row["id"], conversation_id=row["conversation_id"], creator_id=row["creator_id"],
        creator_name=row["creator_name"], question=row["question"],
        multiple_choice=bool(row["multiple_choice"]), status=row["status"],
        options=tuple(PollOption(r["position"], r["label"]) for r in rows),
        withdrawn=bool(row["withdrawn"]), closed_reason=row["closed_reason"],
        read_only=bool(row["suspended"]), max_choices=row["max_choices"], anonymous=bool(row["anonymous"]),
        hidden=bool(row["hidden"]), closes_at=row["closes_at"], anyone_adds=bool(row["anyone_adds"]),
    )
