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
from ..i18n import N_, _, name_or_someone, ngettext
from ..router import Router
from ..store import UnitOfWork
from ..store.models import Card
from ..turn import Turn, with_suggestions
from .approvals import EXAMPLE as APPROVAL_EXAMPLE
from .places import place
from .polls import EXAMPLE as POLL_EXAMPLE

router = Router()

# Quick reply -> the command it sends. Current Teams clients show only the first three
# suggested actions: the most useful go first.
MENU = {N_("New poll"): "new poll", N_("My open polls"): "my open polls", N_("Pending approvals"): "pending approvals",
        N_("New approval"): "new approval", N_("Help"): "help"}
router.quick_replies(MENU)
# Commands are English in every language; their examples and what they do are translated.
COMMANDS = (
    (POLL_EXAMPLE, N_("a poll with a button per option")),
    ("poll", N_("a form for single or multiple choice")),
    (APPROVAL_EXAMPLE, N_("an approval request to the people you @mention")),
    ("approval", N_("a form with approvers, a policy and a due date")),
    ("my open polls", N_("your open polls, in every chat")),
    ("pending approvals", N_("requests waiting for you, and yours still open")),
)
# Issue 11's flags, right after `poll` and before the question: the flags stay as they are,
# what they do is translated.
POLL_FLAGS = (
    ("--multi", N_("any number of choices")),
    ("--max=N", N_("up to N choices (--max=1 is one choice, the default)")),
    ("--anonymous", N_("nobody, you included, can see who voted for what")),
    ("--hidden", N_("results hidden until the poll closes (you see them in your own view)")),
    ("--closes=2h", N_("closes after 30m, 2h or 3d (a minute at least), or at a date and time like "
                       "--closes=2026-12-01T17:00 in your time zone as Teams reports it (UTC if it doesn't); "
                       "within a year")),
    ("--add-options", N_("anyone may add options (you always may)")),
)
FLAGS_INTRO = N_("Poll options go right after poll, before the question:")
FLAGS_EXAMPLE = N_("Example: poll --anonymous --closes=2h Lunch on Friday? | Pizza | Sushi")
LISTED = 10


def _commands() -> list[tuple[str, str]]:
    """(command, what it does) in the current language; a command word stays as it is."""
    return [(_(command) if command in (POLL_EXAMPLE, APPROVAL_EXAMPLE) else command, _(what))
            for command, what in COMMANDS]


def _try_these() -> str:
    return "\n".join(f"• {command} — {what}" for command, what in _commands())


def _flags_help() -> str:
    flags = [f"• {flag} — {_(what)}" for flag, what in POLL_FLAGS]
    return "\n".join([_(FLAGS_INTRO), *flags, _(FLAGS_EXAMPLE)])


def is_personal(turn: Turn) -> bool:
    return turn.conversation.conversation_type == "personal"


@router.fallback
async def anything_else(turn: Turn, _text: str) -> None:
    await turn.store.run(_answer, turn, _("I didn't catch that. Pick one below, or type help to see everything I "
                                          "can do."))


@router.command("help")
async def help_command(turn: Turn, _args: str) -> None:
    await turn.store.run(_answer, turn, "\n".join([_("I run live polls and approvals. Try:"), _try_these(),
                                                   _flags_help()]))


def _answer(uow: UnitOfWork, turn: Turn, text: str) -> None:
    if is_personal(turn):
        _send_with_menu(uow, turn.conversation.id, text)
    else:
        post_help_card(uow, turn.conversation.id)


def _send_with_menu(uow: UnitOfWork, chat_id: str, text: str) -> None:
    """A text in a 1:1 chat with the quick-reply menu under it."""
    uow.outbox.enqueue(chat_id, "send_message", body=with_suggestions(text, [_(title) for title in MENU]))


def post_help_card(uow: UnitOfWork, conversation_id: str) -> None:
    card_id = uow.cards.create(conversation_id, "help", i18n.current())
    uow.outbox.enqueue(conversation_id, "send_card", card_id=card_id)


def welcome(uow: UnitOfWork, turn: Turn) -> None:
    """The one message of a new installation, in the conversation the user picked."""
    if is_personal(turn):
        # Installation events carry no name for the user, so the welcome uses none.
        _send_with_menu(uow, turn.conversation.id, _(
            "Hi, I'm Poll Bot: live polls and approvals, right here in Teams. Tap below to start, or try:")
            + "\n" + _try_these())
    else:
        post_help_card(uow, turn.conversation.id)


# Lists across every conversation ---------------------------------------------------

@router.command("my open polls")
async def my_open_polls(turn: Turn, _args: str) -> None:
    await turn.store.run(_list_polls, turn)


def _list_polls(uow: UnitOfWork, turn: Turn) -> None:
    listed = uow.polls.open_for_user(turn.user.id, LISTED)
    if not listed:
        _reply_with_menu(uow, turn, _("You have no open polls. Tap New poll to start one."))
        return
    lines = [_("Your open polls:")]
    for poll in listed:
        who = _("you asked") if poll.mine else _("you voted")
        voted = ngettext("%(num)s person voted", "%(num)s people voted", poll.voters)
        lines.append(f"• {poll.question} — {voted} · {place(uow.conversations.named(poll.conversation_id))} ({who})")
    _reply_with_menu(uow, turn, "\n".join(lines))


@router.command("pending approvals")
async def pending_approvals(turn: Turn, _args: str) -> None:
    await turn.store.run(_list_approvals, turn)


def _list_approvals(uow: UnitOfWork, turn: Turn) -> None:
    waiting = uow.approvals.awaiting(turn.user.id)[:LISTED]
    mine = uow.approvals.requested_pending(turn.user.id)[:LISTED]
    if not waiting and not mine:
        _reply_with_menu(uow, turn, _("Nothing is waiting for your decision, and you have no open requests."))
        return
    lines = []
    if waiting:
        lines.append(_("Waiting for your decision:"))
        for a in waiting:
            request = _("#%(id)s %(title)s (from %(name)s)", id=a.id, title=a.title,
                        name=name_or_someone(a.requester.name))
            lines.append(f"• {request} · {_place_of(uow, a)}")
    if mine:
        lines.append(_("Your requests still open:"))
        lines += [f"• #{a.id} {a.title} — {_decided(a)} · {_place_of(uow, a)}" for a in mine]
    _reply_with_menu(uow, turn, "\n".join(lines))


def _decided(approval: Approval) -> str:
    done = sum(1 for a in approval.approvers if a.decision == "approved")
    return ngettext("%(num)s of %(count)s approved", "%(num)s of %(count)s approved", done,
                    count=i18n.number(len(approval.approvers)))


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
        turn.reply(uow, _("%(name)s, I sent that to our 1:1 chat.", name=name_or_someone(turn.user.name)))
    else:
        turn.reply(uow, _("That list covers all your chats, so I only show it in our 1:1 chat. "
                          "Open a chat with me and ask there."))


def render_help_card(uow: UnitOfWork, card: Card, viewer: Viewer | None = None) -> dict[str, Any] | None:
    return render_card("help", commands=[{"command": c, "what": what} for c, what in _commands()],
                       flags=[{"command": flag, "what": _(what)} for flag, what in POLL_FLAGS],
                       flags_intro=_(FLAGS_INTRO), flags_example=_(FLAGS_EXAMPLE))


CARD_RENDERERS = {"help": render_help_card}
