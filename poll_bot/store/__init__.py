"""The store: small repositories over one database connection (SQLite or PostgreSQL).

Everything above this package sees `Store.run(work, *args)` and the frozen
records in `models`. `work(uow, *args)` is a plain function that runs as one
transaction; it reads and writes through the repositories on `uow`, and its
return value comes back to the caller.
"""
from __future__ import annotations

import functools
import os
import secrets
import socket
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

from ..signing import Pseudonyms
from .activities import ActivityLog
from .approvals import ApprovalStore
from .budget import BudgetStore
from .cards import CardStore
from .conversations import ConversationStore
from .db import Database, fetch_one, open_database
from .lanes import LaneStore
from .messages import MessageStore
from .models import Conversation
from .outbox import OutboxStore
from .people import PeopleStore
from .polls import PollStore

T = TypeVar("T")
OUTBOX_CHANNEL = "poll_bot_outbox"  # where instances announce new outbound work to each other
# What a transaction did that the bot counts: {("vote", "added"): 1, ("decision", "approved"): 1}.
Changes = Counter[tuple[str, str]]


@dataclass(frozen=True)
class UnitOfWork:
    conversations: ConversationStore
    polls: PollStore
    cards: CardStore
    outbox: OutboxStore
    activities: ActivityLog
    approvals: ApprovalStore
    people: PeopleStore
    messages: MessageStore
    lanes: LaneStore
    budget: BudgetStore
    # lock(key): later units of work that lock the same key wait until this one ends.
    # A no-op on SQLite, where transactions never interleave.
    lock: Callable[[str], None]
    # try_lock(key): the same, but False at once if another unit of work holds the key.
    try_lock: Callable[[str], bool]
    # before_commit(key, item, finish): just before the transaction commits, finish(uow, items) runs
    # once for each key with the items collected under it (on SQLite, by every unit committed
    # together): work that many units need, done once for all of them.
    before_commit: Callable[[object, Any, Callable[["UnitOfWork", list], None]], None]


class Store:
    def __init__(self, db: Database, secret: bytes):
        self._db = db
        self._pseudonyms = Pseudonyms(secret)
        # This process, for the lanes it holds and the work it announces: host, pid and a random part.
        self.instance = f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(4)}"
        # Conversations as last written, so an unchanged one costs no write per turn.
        self._known: dict[str, Conversation] = {}
        self._on_enqueue: Callable[[set[str]], None] = lambda conversation_ids: None
        self._on_commit: Callable[[Changes], None] = lambda changes: None

    @classmethod
    async def open(cls, path: str, url: str, secret: bytes) -> "Store":
        """The PostgreSQL database at `url` if one is given, else the SQLite file at `path`.
        `secret` (POLL_BOT_SECRET) keys the hashes kept instead of people's ids where those must
        not be kept (anonymous votes, recent presses)."""
        return cls(await open_database(path, url), secret)

    @property
    def name(self) -> str:
        return self._db.name

    @property
    def errors(self) -> tuple[type[Exception], ...]:
        """What the database raises when it fails (not a bug in a unit of work)."""
        return self._db.errors

    @property
    def shared(self) -> bool:
        """Other instances may use the database at the same time (PostgreSQL; not SQLite)."""
        return self._db.shared

    async def close(self) -> None:
        await self._db.close()

    async def schema_version(self) -> int:
        """The newest migration applied (they are applied when the store opens)."""
        (version,) = await self._db.run(fetch_one, "SELECT COALESCE(MAX(version), 0) FROM schema_version")
        return version

    def on_enqueue(self, callback: Callable[[set[str]], None]) -> None:
        """Called after a commit that queued outbound work, with the conversations it is for."""
        self._on_enqueue = callback

    async def listen(self, callback: Callable[[set[str]], None]) -> None:
        """Until cancelled: call `callback` when another instance has queued outbound work,
        with the conversation it is for (PostgreSQL's LISTEN; nothing on SQLite)."""
        def heard(message: str) -> None:
            sender, _, conversation_id = message.partition(" ")
            if sender != self.instance:
                callback({conversation_id})
        await self._db.listen(OUTBOX_CHANNEL, heard)

    def on_commit(self, callback: Callable[[Changes], None]) -> None:
        """Called after a commit that recorded votes or decisions, with how many of each."""
        self._on_commit = callback

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """Run `work(uow, *args)` as one transaction; all of it commits or none of it."""
        touched: set[str] = set()
        changes: Changes = Counter()

        def unit(conn) -> T:
            touched.clear()  # a unit of work PostgreSQL aborted runs again from the start
            changes.clear()
            result = work(self._unit_of_work(conn, touched, changes), *args)
            if touched:
                self._db.announce(conn, OUTBOX_CHANNEL, [f"{self.instance} {c}" for c in sorted(touched)])
            return result

        result = await self._db.run(unit)
        if changes:
            self._on_commit(changes)
        if touched:
            self._on_enqueue(touched)
        return result

    def _unit_of_work(self, conn, touched: set[str], changes: Changes) -> UnitOfWork:
        lock = functools.partial(self._db.lock, conn)
        return UnitOfWork(
            conversations=ConversationStore(conn, self._known),
            polls=PollStore(conn, changes, self._pseudonyms),
            cards=CardStore(conn),
            outbox=OutboxStore(conn, touched),
            activities=ActivityLog(conn, self._pseudonyms),
            approvals=ApprovalStore(conn, changes),
            people=PeopleStore(conn),
            messages=MessageStore(conn),
            lanes=LaneStore(conn),
            budget=BudgetStore(conn, lock),
            lock=lock,
            try_lock=functools.partial(self._db.try_lock, conn),
            before_commit=lambda key, item, finish: self._db.before_commit(
                conn, key, item, lambda conn, items: finish(self._unit_of_work(conn, touched, changes), items)),
        )

    async def record_conversation(self, conversation: Conversation, user_initiated: bool, sender_id: str) -> bool:
        """Store the conversation and its latest serviceUrl (and a 1:1 chat as the sender's).
        Only a user's own action (a message, a button press, installing the app) resumes
        posting to a paused conversation. False, with nothing stored, when the activity names
        another tenant than the one the conversation belongs to."""
        if self._known.get(conversation.id) == conversation:
            return True  # known, unchanged and active

        def record(uow: UnitOfWork) -> bool:
            stored = uow.conversations.get(conversation.id)
            if stored and stored.tenant_id and conversation.tenant_id not in ("", stored.tenant_id):
                return False
            uow.conversations.upsert(conversation, user_initiated)
            if user_initiated and sender_id and conversation.conversation_type == "personal":
                uow.people.remember_personal_chat(sender_id, conversation.id)
            return True

        recorded = await self.run(record)
        if recorded and user_initiated:
            self._known[conversation.id] = conversation
        return recorded
