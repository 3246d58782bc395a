"""What a feature handler sees of an inbound turn: plain data plus the store."""
from __future__ import annotations

import html
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from .signing import ExportLinks
from .store import Store, UnitOfWork
from .store.models import Conversation

T = TypeVar("T")


@dataclass(frozen=True)
class User:
    id: str
    name: str


# Teams renders markdown and HTML in bot text whatever its textFormat says. As character
# references these show as themselves and never start a link, emphasis, tag or list.
_MARKUP = re.compile(r"[&<>\"'*_~`\[\]()#|\\!+\-=:/{}]")


def literal(text: str) -> str:
    """Text for an XML message that Teams shows exactly as written. One <p> block holds it all:
    markdown is not applied inside an HTML block, and lines break with <br>. (Agents Playground
    showed markdown applied to decoded references next to inline tags, and no markup at all
    with the block.)"""
    escaped = _MARKUP.sub(lambda m: f"&#{ord(m.group())};", text)
    return "<p>" + "<br>".join(escaped.split("\n")) + "</p>"


def shown(text: str) -> str:
    """What people read of a message's `literal` text."""
    return html.unescape(text.removeprefix("<p>").removesuffix("</p>").replace("<br>", "\n"))


def text_message(text: str) -> dict:
    """A text message shown literally (user text inside it never becomes markup or a link)."""
    return {"type": "message", "text": literal(text), "textFormat": "xml"}


def with_suggestions(text: str, titles: list[str]) -> dict[str, Any]:
    """A text message with imBack quick replies (never on a message with attachments: Teams
    would not show them). At most six; value equals title, as some clients send the title."""
    actions = [{"type": "imBack", "title": t, "value": t} for t in titles[:6]]
    return {**text_message(text), "suggestedActions": {"actions": actions}}


def thread_key(conversation_id: str) -> str:
    """A channel reply chain (`...;messageid=N`) belongs to its channel's thread."""
    return conversation_id.split(";", 1)[0]


@dataclass(frozen=True)
class Member:
    id: str
    name: str
    aad_object_id: str = ""


@dataclass(frozen=True)
class TeamEvent:
    """A team or channel event's subject (channelData.team and channelData.channel)."""
    team_id: str
    team_name: str
    channel_id: str
    channel_name: str


@dataclass(frozen=True)
class MessageEvent:
    """A user's message was edited, deleted or undeleted (text: the edited text)."""
    message_id: str
    text: str = ""


@dataclass(frozen=True)
class Reactions:
    message_id: str  # the bot's message reacted to (the event's replyToId)
    added: tuple[str, ...]
    removed: tuple[str, ...]


NOTICE = "notice"  # the outbox follow-up that sends a private message once the 1:1 chat is open


def send_notice(uow: UnitOfWork, chat_id: str, then: dict[str, Any]) -> None:
    card_id = then.get("card_id")
    uow.outbox.enqueue(chat_id, "send_message", card_id=card_id if card_id and uow.cards.get(card_id) else None,
                       body=then["message"])


def message_privately(uow: UnitOfWork, from_conversation_id: str, user_id: str, message: dict[str, Any],
                      about: int | None = None, chat: str | None = None) -> None:
    """Send this message to one person in their 1:1 chat with the bot (opened first, from the
    conversation they were met in, if the bot has none yet). `about`: the card it concerns."""
    then = {"kind": NOTICE, "message": message, "card_id": about}
    chat = chat or uow.people.personal_chat(user_id)
    if chat:
        send_notice(uow, chat, then)
    else:
        uow.outbox.enqueue(from_conversation_id, "open_personal_chat", body={"user_id": user_id, "then": then})


@dataclass(frozen=True)
class Turn:
    activity_id: str  # the message's id; '' for events, whose handlers are idempotent instead
    conversation: Conversation
    user: User
    store: Store
    double_press_window: float = 1.5
    press: str = ""  # the pressed button's payload, for card actions
    mentions: tuple[User, ...] = ()  # people @mentioned in the message, the bot excluded
    timezone: str = "UTC"  # the sender's IANA time zone, from Teams' clientInfo
    links: ExportLinks | None = None  # signs the links to a poll's results
    invoked: bool = False  # the press came as an adaptiveCard/action invoke (Universal Actions)
    card_message_id: str = ""  # the message holding the pressed card (the activity's replyToId)
    refusals: list[str] = field(default_factory=list)  # why a press changed nothing, for the presser only
    pressed: Any = None  # the parsed payload of the pressed button
    # For an invoke: collects the press in its own transaction, to be answered just before it commits.
    answer_press: Callable[[UnitOfWork, "Turn"], None] | None = None
    answer: dict[str, Any] = field(default_factory=dict)  # {"body": the invoke's answer}, once made

    async def run_once(self, work: Callable[..., T], *args: Any) -> T | None:
        """Run `work(uow, turn, *args)` as one transaction, unless Teams redelivered this
        activity or the user pressed the same button a moment ago (a double click)."""
        return await self.store.run(self._once, work, args)

    def _once(self, uow: UnitOfWork, work: Callable[..., T], args: tuple) -> T | None:
        # One of a user's turns at a time: a second press reads what the first one stored.
        uow.lock("user:" + self.user.id)
        result = work(uow, self, *args) if self._first(uow) else None
        if self.answer_press is not None:  # a redelivery is answered again
            self.answer_press(uow, self)
        return result

    def _first(self, uow: UnitOfWork) -> bool:
        """Neither a redelivered activity nor the same button pressed again a moment ago."""
        return uow.activities.first_delivery_and_press(self.activity_id, self.user.id, self.press, time.time(),
                                                       self.double_press_window, self.conversation.id)

    def reply(self, uow: UnitOfWork, text: str) -> None:
        """An answer to a typed command, in the conversation it was typed in."""
        uow.outbox.enqueue(self.conversation.id, "send_message", body=text_message(text))

    def refuse(self, uow: UnitOfWork, text: str) -> None:
        """Why a press changed nothing, shown only to the presser: in the invoke's answer, or in
        their 1:1 chat (opened first if need be). Never posted into a shared conversation."""
        self.refusals.append(text)
        if not self.invoked:
            self.tell_privately(uow, text_message(text))

    def tell_privately(self, uow: UnitOfWork, message: dict[str, Any], about: int | None = None) -> None:
        """Send this message to the sender alone: here if this is their 1:1 chat with the bot, else
        there (opened first if need be). `about`: the card it concerns, so erasing that card's
        conversation removes the message too."""
        here = self.conversation.id if self.conversation.conversation_type == "personal" else None
        message_privately(uow, self.conversation.id, self.user.id, message, about, chat=here)

    def same_thread(self, conversation_id: str) -> bool:
        return thread_key(conversation_id) == thread_key(self.conversation.id)
