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
        self._on_enqueue: Callable[[set[str]], None] = lambda conversation_ids: None

    def on_enqueue(self, callback: Callable[[set[str]], None]) -> None:
        """Called after a commit that queued outbound work, with the conversations it is for."""
        self._on_enqueue = callback

    @classmethod
    async def open(cls, path: str) -> "Store":
        return cls(await Database.open(path))

    async def close(self) -> None:
        await self._db.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[UnitOfWork]:
        async with self._db.transaction() as conn:
            uow = UnitOfWork(
                conversations=ConversationStore(conn),
                polls=PollStore(conn),
                cards=CardStore(conn),
                outbox=OutboxStore(conn),
                activities=ActivityLog(conn),
            )
            yield uow
        if uow.outbox.touched:
            self._on_enqueue(uow.outbox.touched)
