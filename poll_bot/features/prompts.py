"""Help, the welcome, and the quick replies of the 1:1 chat.

In the personal chat, anything that isn't a command gets a short answer with
suggested actions (imBack): tapping one sends its title as a message, which
comes back here as a command. Outside the personal chat, help is a card.
"""
from __future__ import annotations

from typing import Any

from .. import i18n
from ..cards import Viewer, render_card
from ..domain.approvals import Approval
from ..router import Router
from ..store import UnitOfWork
from ..store.models import Card, Conversation
from ..turn import Turn, with_suggestions
from .approvals import EXAMPLE as APPROVAL_EXAMPLE
from .polls import EXAMPLE as POLL_EXAMPLE

router = Router()

# Current Teams clients show only the first three suggested actions: the most useful go first.
MENU = ["New poll", "My open polls", "Pending approvals", "New approval", "Help"]
COMMANDS = (
    (POLL_EXAMPLE, "a poll with a button per option"),
    ("poll", "a form for single or multiple choice"),
    (APPROVAL_EXAMPLE, "an approval request to the people you @mention"),
    ("approval", "a form with approvers, a policy and a due date"),
    ("my open polls", "your open polls, in every chat"),
    ("pending approvals", "requests waiting for you, and yours still open"),
)
TRY = "\n".join(f"• {c} — {what}" for c, what in COMMANDS)
HELP = "I run live polls and approvals. Try:\n" + TRY
WELCOME = "Hi, I'm Poll Bot: live polls and approvals, right here in Teams. Tap below to start, or try:\n" + TRY
NOT_UNDERSTOOD = "I didn't catch that. Pick one below, or type help to see everything I can do."
LISTED = 10


def is_personal(turn: Turn) -> bool:
    return turn.conversation.conversation_type == "personal"


@router.fallback
async def anything_else(turn: Turn, _text: str) -> None:
    await turn.store.run(_answer, turn, NOT_UNDERSTOOD)


@router.command("help")
async def help_command(turn: Turn, _args: str) -> None:
    await turn.store.run(_answer, turn, HELP)


def _answer(uow: UnitOfWork, turn: Turn, text: str) -> None:
    if is_personal(turn):
        _send_with_menu(uow, turn.conversation.id, text)
    else:
        post_help_card(uow, turn.conversation.id)


def _send_with_menu(uow: UnitOfWork, chat_id: str, text: str) -> None:
    """A text in a 1:1 chat with the quick-reply menu under it."""
    uow.outbox.enqueue(chat_id, "send_message", body=with_suggestions(text, MENU))


def post_help_card(uow: UnitOfWork, conversation_id: str) -> None:
    card_id = uow.cards.create(conversation_id, "help", i18n.current())
    uow.outbox.enqueue(conversation_id, "send_card", card_id=card_id)


def welcome(uow: UnitOfWork, turn: Turn) -> None:
    """The one message of a new installation, in the conversation the user picked."""
    if is_personal(turn):
        # Installation events carry no name for the user, so the welcome uses none.
        _send_with_menu(uow, turn.conversation.id, WELCOME)
    else:
        post_help_card(uow, turn.conversation.id)


# Lists across every conversation ---------------------------------------------------

@router.command("my open polls")
async def my_open_polls(turn: Turn, _args: str) -> None:
    await turn.store.run(_list_polls, turn)


def _list_polls(uow: UnitOfWork, turn: Turn) -> None:
    listed = uow.polls.open_for_user(turn.user.id, LISTED)
    if not listed:
        _reply_with_menu(uow, turn, "You have no open polls. Tap New poll to start one.")
        return
    lines = ["Your open polls:"]
    for poll in listed:
        who = "you asked" if poll.mine else "you voted"
        voted = "1 person voted" if poll.voters == 1 else f"{poll.voters} people voted"
        lines.append(f"• {poll.question} — {voted} · {place(uow.conversations.named(poll.conversation_id))} ({who})")
    _reply_with_menu(uow, turn, "\n".join(lines))


@router.command("pending approvals")
async def pending_approvals(turn: Turn, _args: str) -> None:
    await turn.store.run(_list_approvals, turn)


def _list_approvals(uow: UnitOfWork, turn: Turn) -> None:
    waiting = uow.approvals.awaiting(turn.user.id)[:LISTED]
    mine = uow.approvals.requested_pending(turn.user.id)[:LISTED]
    if not waiting and not mine:
        _reply_with_menu(uow, turn, "Nothing is waiting for your decision, and you have no open requests.")
        return
    lines = []
    if waiting:
        lines.append("Waiting for your decision:")
        lines += [f"• #{a.id} {a.title} (from {a.requester.name}) · {_place_of(uow, a)}" for a in waiting]
    if mine:
        lines.append("Your requests still open:")
        lines += [f"• #{a.id} {a.title} — {_decided(a)} · {_place_of(uow, a)}" for a in mine]
    _reply_with_menu(uow, turn, "\n".join(lines))


def _decided(approval: Approval) -> str:
    done = sum(1 for a in approval.approvers if a.decision == "approved")
    return f"{done} of {len(approval.approvers)} approved"


def _place_of(uow: UnitOfWork, approval: Approval) -> str:
    return place(uow.conversations.named(approval.conversation_id))


def _reply_with_menu(uow: UnitOfWork, turn: Turn, text: str) -> None:
    """The lists name other chats, so they are only ever shown in the user's 1:1 chat."""
    if is_personal(turn):
        _send_with_menu(uow, turn.conversation.id, text)
        return
    chat = uow.people.personal_chat(turn.user.id)
    if chat:
        _send_with_menu(uow, chat, text)
        turn.reply(uow, f"{turn.user.name}, I sent that to our 1:1 chat.")
    else:
        turn.reply(uow, "That list covers all your chats, so I only show it in our 1:1 chat. "
                        "Open a chat with me and ask there.")


def place(conversation: Conversation | None) -> str:
    """A conversation as people know it: "Team › Channel", a group chat's name, or our 1:1 chat."""
    if conversation is None:
        return "a chat I'm no longer in"
    if conversation.conversation_type == "personal":
        return "our 1:1 chat"
    if conversation.conversation_type == "channel":
        general = conversation.channel_id == conversation.team_id
        channel = conversation.channel_name or ("General" if general else "a channel")
        return f"{conversation.team_name or 'a team'} › {channel}"
    return conversation.name or "a group chat"


def render_help_card(uow: UnitOfWork, card: Card, viewer: Viewer | None = None) -> dict[str, Any] | None:
    return render_card("help", commands=[{"command": c, "what": what} for c, what in COMMANDS])


CARD_RENDERERS = {"help": render_help_card}
