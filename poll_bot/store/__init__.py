"""The store: one unit of work (`Store.transaction()`) exposing small repositories.

Everything above this package sees only `Store` and the frozen records in
`models`, so another backend (PostgreSQL) can provide the same surface.
"""
from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import AsyncIterator, Callable

from .activities import ActivityLog
from .cards import CardStore
from .conversations import ConversationStore
from .db import Database
from .models import Conversation
from .outbox import OutboxStore
from .polls import PollStore


@dataclass(frozen=True)
class UnitOfWork:
    conversations: ConversationStore
    polls: PollStore
    cards: CardStore
    outbox: OutboxStore
    activities: ActivityLog


class Store:
    def __init__(self, db: Database):
        self._db = db
        # Conversations as last written, so an unchanged one costs no write per turn.
        self._known: dict[str, Conversation] = {}
        self._on_enqueue: Callable[[set[str]], None] = lambda conversation_ids: None

    def on_enqueue(self, callback: Callable[[set[str]], None]) -> None:
        """Called after a commit that queued outbound work, with the conversations it is for."""
        self._on_enqueue = callback

    @classmethod
    async def open(cls, path: str) -> "Store":
        return cls(await Database.open(path))

    async def close(self) -> None:
        await self._db.close()

    async def record_conversation(self, conversation: Conversation) -> None:
        """Store the conversation and its latest serviceUrl; a user writing re-activates it."""
        if self._known.get(conversation.id) == conversation:
            return
        async with self.transaction() as uow:
            await uow.conversations.upsert(conversation)
        self._known[conversation.id] = conversation

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[UnitOfWork]:
        async with self._db.transaction() as conn:
            uow = UnitOfWork(
                conversations=ConversationStore(conn, self._known),
                polls=PollStore(conn),
                cards=CardStore(conn),
                outbox=OutboxStore(conn),
                activities=ActivityLog(conn),
            )
            yield uow
        if uow.outbox.touched:
            self._on_enqueue(uow.outbox.touched)
