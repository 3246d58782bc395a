"""Frozen records returned by the store."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Conversation:
    id: str
    conversation_type: str
    tenant_id: str
    service_url: str
    name: str = ""
    team_id: str = ""
    channel_id: str = ""
    bot_id: str = ""
    team_name: str = ""
    channel_name: str = ""
    active: bool = True
    suspended: str = ""  # '' or why posting is on hold: 'team_archived', 'channel_deleted'
    locale: str = ""  # the language of its latest activity that named one ('' before any did)

    @property
    def roster_id(self) -> str:
        """Where Teams keeps the members: the team for a channel thread, else the conversation."""
        return self.team_id or self.id.split(";", 1)[0]


@dataclass(frozen=True)
class PollOption:
    position: int
    label: str


@dataclass(frozen=True)
class Poll:
    id: int
    conversation_id: str
    creator_id: str
    creator_name: str
    question: str
    multiple_choice: bool
    status: str
    options: tuple[PollOption, ...]
    withdrawn: bool = False  # its command message was deleted: no card, no votes
    closed_reason: str = ""  # '' (closed by its creator), 'deadline' or 'channel_deleted'
    read_only: bool = False  # its conversation is on hold (archived team, deleted channel)
    max_choices: int = 0  # with multiple choice: at most this many options each (0: any number)
    anonymous: bool = False  # votes are kept under keyed hashes: nobody can learn who voted for what
    hidden: bool = False  # tallies only once closed, and to the creator
    closes_at: str | None = None  # when the timer closes it (UTC, ISO 8601)
    anyone_adds: bool = False  # anyone may add options, not only the creator

    @property
    def is_open(self) -> bool:
        return self.status == "open" and not self.withdrawn

    def has_option(self, position: int) -> bool:
        return any(o.position == position for o in self.options)

    def option_label(self, position: int) -> str:
        return next(o.label for o in self.options if o.position == position)


@dataclass(frozen=True)
class PollResults:
    """Votes per option position, and how many distinct people voted."""
    counts: dict[int, int]
    voters: int


@dataclass(frozen=True)
class Card:
    id: int
    conversation_id: str
    kind: str
    subject_id: int | None
    owner_id: str
    activity_id: str | None
    state: dict[str, Any] = field(default_factory=dict)
    locale: str = "en"  # the language it is written in (its creator's)

    @staticmethod
    def from_row(row) -> "Card":
        return Card(
            id=row["id"],
            conversation_id=row["conversation_id"],
            kind=row["kind"],
            subject_id=row["subject_id"],
            owner_id=row["owner_id"],
            activity_id=row["activity_id"],
            state=json.loads(row["state"]),
            locale=row["locale"],
        )


@dataclass(frozen=True)
class OutboxJob:
    id: int
    conversation_id: str
    kind: str
    card_id: int | None
    body: dict[str, Any]
    attempts: int
    not_before: float


@dataclass(frozen=True)
class OutboxStats:
    """The outbox as a scrape sees it; held work waits for a conversation that refused the bot or is on hold."""
    ready: int
    held: int
    oldest_ready_age: float  # seconds the oldest ready item has waited; 0 when none
