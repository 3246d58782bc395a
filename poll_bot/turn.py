"""What a feature handler sees of an inbound turn: plain data plus the store."""
from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import AsyncIterator

from .store import Store, UnitOfWork
from .store.models import Conversation


@dataclass(frozen=True)
class User:
    id: str
    name: str


def text_message(text: str) -> dict:
    return {"type": "message", "text": text, "textFormat": "plain"}


def thread_key(conversation_id: str) -> str:
    """A channel reply chain (`...;messageid=N`) belongs to its channel's thread."""
    return conversation_id.split(";", 1)[0]


@dataclass(frozen=True)
class Turn:
    activity_id: str
    conversation: Conversation
    user: User
    reply_to_id: str | None
    store: Store

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[UnitOfWork]:
        async with self.store.transaction() as uow:
            yield uow

    async def first_delivery(self, uow: UnitOfWork) -> bool:
        """False when Teams redelivers an activity this bot already handled."""
        return not self.activity_id or await uow.activities.first_time(self.activity_id)

    async def reply(self, uow: UnitOfWork, text: str) -> None:
        await uow.outbox.enqueue(self.conversation.id, "send_message", body=text_message(text))

    async def notify(self, text: str) -> None:
        """A short notice in its own transaction, for turns that change nothing else."""
        async with self.transaction() as uow:
            await self.reply(uow, text)

    def same_thread(self, conversation_id: str) -> bool:
        return thread_key(conversation_id) == thread_key(self.conversation.id)

    @property
    def is_personal(self) -> bool:
        return self.conversation.conversation_type == "personal"
