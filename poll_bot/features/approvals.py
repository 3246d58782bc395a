"""Approvals: the `approval` command and form, decisions on the card or typed in
a 1:1 chat, reassignment, cancellation, expiry and reminders.

Every approver whose turn it is gets a copy of the request in their 1:1 chat
(opened through the connector when needed). All copies are cards of kind
"approval" for the same request, so every change queues an update of each.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from .. import i18n
from ..cards import Viewer, render_card
from ..i18n import N_, _, name_or_someone
from ..domain import approvals as rules
from ..domain import times
from ..domain.approvals import Approval, ApprovalInputError, Person
from ..payloads import ApprovalDecision, ApprovalFormSubmit, ApprovalReassign, ApprovalRef
from ..router import Router
from ..store import UnitOfWork
from ..store.db import utc_now
from ..store.models import Card
from ..turn import Turn, text_message, with_suggestions
from .approval_views import ApprovalViewer, approval_form_view, approval_view, summary_text
from .forms import open_form, submit_form
from .places import place

router = Router()

BOT = Person("", "Poll Bot")  # the actor of events nobody caused (expiry, reminders)
EXAMPLE = N_("approval New laptops | Three 14-inch laptops for the new hires @Alex @Patti")
# The quick replies under a request: each sends its command with the request's number.
REPLY_WORDS = {"approve": N_("Approve"), "reject": N_("Reject"), "details": N_("Details")}
router.quick_replies({title: command for command, title in REPLY_WORDS.items()})


def form_hint() -> str:
    # Mentions cannot be typed everywhere (Agents Playground mentions only the bot): the form always works.
    return _("Type approval on its own for a form where you pick the approvers from a list, or @mention them: "
             "%(example)s", example=_(EXAMPLE))
_TARGET = re.compile(r"^#(\d{1,19})\s*(.*)$", re.DOTALL)  # request ids are SQLite integers


# Creating a request --------------------------------------------------------

@router.command("approval")
@router.command("new approval")
async def approval_command(turn: Turn, args: str) -> None:
    await turn.run_once(_approval_command, args)


def _approval_command(uow: UnitOfWork, turn: Turn, args: str) -> None:
    if not args:
        uow.outbox.enqueue(turn.conversation.id, "fetch_members")  # the form lists them: read them first
        open_form(uow, turn, "approval_form")
        return
    title, _bar, details = args.partition("|")
    approvers = [Person(m.id, m.name) for m in turn.mentions]
    try:
        draft = rules.validate(_unmention(title, approvers), _unmention(details, approvers), approvers, "all", 0,
                               turn.user.id)
    except ApprovalInputError as error:
        turn.reply(uow, _("I couldn't create that request. %(problem)s", problem=error) + "\n" + form_hint())
        return
    _create(uow, turn, draft, due_at=None)


def _unmention(text: str, people: list[Person]) -> str:
    """The typed text without the @mentioned names (the edge turned each mention into its name)."""
    for person in people:
        text = text.replace(person.name, "", 1)
    return " ".join(text.split())


@router.action("approval.create", ApprovalFormSubmit)
async def create_from_form(turn: Turn, submitted: ApprovalFormSubmit) -> None:
    await turn.run_once(_submit_form, submitted)


def _submit_form(uow: UnitOfWork, turn: Turn, s: ApprovalFormSubmit) -> None:
    def post() -> dict[str, Any]:
        candidates = {p.id: p for p in _candidates(uow, turn.conversation.id, turn.user.id)}
        unknown = [i for i in s.approvers.split(",") if i and i not in candidates]
        if unknown:
            raise ApprovalInputError(_("Pick approvers from the list."))
        chosen = [candidates[i] for i in s.approvers.split(",") if i]
        due_at = due_from(s.due_date, s.due_time, turn.timezone, datetime.now(timezone.utc))
        draft = rules.validate(s.title, s.details, chosen, s.policy, _number(s.quorum), turn.user.id)
        _create(uow, turn, draft, due_at)
        return {"title": draft.title}

    submit_form(uow, turn, s, "approval_form", "approval", post)


def _number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ApprovalInputError(_("The number who must approve has to be a whole number.")) from None


def due_from(day: str, time_of_day: str, zone: str, now: datetime) -> str | None:
    """A due date typed in the user's time zone, as stored UTC; None when not given."""
    if not day:
        return None
    try:
        # A day without a time is due at its very end, in the requester's time zone.
        local = times.local_time(day, time_of_day or "23:59:59", times.zone(zone))
    except ValueError:
        raise ApprovalInputError(_("Give the due date as a date and a time.")) from None
    if local <= now:
        raise ApprovalInputError(_("The due date has to be in the future."))
    return times.stored(local)


def _candidates(uow: UnitOfWork, conversation_id: str, requester_id: str) -> list[Person]:
    """Who can be picked as an approver: the conversation's members, or in a 1:1 chat the
    people the requester shares conversations with."""
    conversation = uow.conversations.get(conversation_id)
    personal = conversation is not None and conversation.conversation_type == "personal"
    members = uow.people.colleagues(requester_id) if personal else uow.people.members(conversation_id)
    return [m for m in members if m.id != requester_id]


def _create(uow: UnitOfWork, turn: Turn, draft: rules.Draft, due_at: str | None) -> int:
    requester = Person(turn.user.id, turn.user.name)
    approval_id = uow.approvals.create(turn.conversation.id, requester, draft, due_at)
    uow.approvals.log(approval_id, requester, "created")
    card_id = uow.cards.create(turn.conversation.id, "approval", i18n.current(), subject_id=approval_id)
    uow.outbox.enqueue(turn.conversation.id, "fetch_members")  # for the Reassign picker
    uow.outbox.enqueue(turn.conversation.id, "send_card", card_id=card_id)
    approval = uow.approvals.get(approval_id)
    for approver in rules.current_turn(approval):
        _ask(uow, approval, approver.id)
    return approval_id


# Acting on a request ---------------------------------------------------------

@router.action("approval.approve", ApprovalDecision)
async def approve(turn: Turn, pressed: ApprovalDecision) -> None:
    await turn.run_once(_decide_from_card, pressed.approval, "approved", pressed.comment)


@router.action("approval.reject", ApprovalDecision)
async def reject(turn: Turn, pressed: ApprovalDecision) -> None:
    await turn.run_once(_decide_from_card, pressed.approval, "rejected", pressed.reason)


def _decide_from_card(uow: UnitOfWork, turn: Turn, approval_id: int, verdict: str, text: str) -> None:
    approval = _load_here(uow, turn, approval_id)
    if approval:
        _decide(uow, turn, approval, verdict, text)


def _decide(uow: UnitOfWork, turn: Turn, approval: Approval, verdict: str, text: str) -> bool:
    """Record the verdict, or tell the user why not; True if it was recorded."""
    problem = rules.decision_problem(approval, turn.user.id, verdict, text)
    if problem:
        turn.refuse(uow, problem)
        return False
    after = rules.decide(approval, turn.user.id, verdict, text, utc_now())
    uow.approvals.save_decisions(after)
    uow.approvals.log(approval.id, Person(turn.user.id, turn.user.name), "decided",
                      verdict + (f": {text.strip()}" if text.strip() else ""))
    _after_change(uow, approval, after)
    return True


@router.action("approval.reassign", ApprovalReassign)
async def reassign(turn: Turn, pressed: ApprovalReassign) -> None:
    await turn.run_once(_reassign, pressed.approval, pressed.reassign_to)


def _reassign(uow: UnitOfWork, turn: Turn, approval_id: int, to_id: str) -> None:
    approval = _load_here(uow, turn, approval_id)
    if approval is None:
        return
    candidates = _candidates(uow, approval.conversation_id, approval.requester.id)
    new = next((p for p in candidates if p.id == to_id), None)
    problem = _("Pick someone from the list.") if new is None else rules.reassign_problem(approval, turn.user.id, new)
    if problem:
        turn.refuse(uow, problem)
        return
    uow.approvals.reassign(approval.id, turn.user.id, new)
    uow.approvals.log(approval.id, Person(turn.user.id, turn.user.name), "reassigned", new.name)
    _after_change(uow, approval, uow.approvals.get(approval.id))


@router.action("approval.refresh", ApprovalRef)
async def refresh(turn: Turn, ref: ApprovalRef) -> None:
    """Teams asks for this person's view of the card (Universal Actions refresh): nothing changes."""
    await turn.store.run(_load_here, turn, ref.approval)


@router.action("approval.cancel", ApprovalRef)
async def cancel(turn: Turn, pressed: ApprovalRef) -> None:
    await turn.run_once(_cancel, pressed.approval)


def _cancel(uow: UnitOfWork, turn: Turn, approval_id: int) -> None:
    approval = _load_here(uow, turn, approval_id)
    if approval is None:
        return
    problem = rules.may_cancel(approval, turn.user.id)
    if problem:
        turn.refuse(uow, problem)
        return
    uow.approvals.set_status(approval.id, "cancelled")
    uow.approvals.log(approval.id, approval.requester, "cancelled")
    _after_change(uow, approval, uow.approvals.get(approval.id))


def _load_here(uow: UnitOfWork, turn: Turn, approval_id: int) -> Approval | None:
    """The request, if this conversation shows it (its own card or a 1:1 copy); else a notice.
    Locked until the transaction ends: the caller changes it."""
    approval = uow.approvals.get(approval_id, for_update=True)
    if approval is None:
        turn.refuse(uow, _("This request no longer exists, so nothing was changed."))
        return None
    shown_here = (
        turn.same_thread(approval.conversation_id)
        or uow.cards.in_conversation("approval", approval_id, turn.conversation.id) is not None
    )
    if not shown_here:
        turn.refuse(uow, _("That request isn't in this conversation, so nothing was changed."))
        return None
    return approval


def _after_change(uow: UnitOfWork, before: Approval, after: Approval) -> None:
    """Bring every copy up to date, ask whoever's turn it now is, and tell the requester the outcome."""
    for card in uow.cards.for_subject("approval", after.id):
        uow.outbox.enqueue(card.conversation_id, "update_card", card_id=card.id)
    asked_before = {a.id for a in rules.current_turn(before)}
    for approver in rules.current_turn(after):
        if approver.id not in asked_before:
            _ask(uow, after, approver.id)
    if before.pending and not after.pending:
        _tell_requester(uow, after)


# 1:1 copies, quick replies and the requester's notification ------------------

def _ask(uow: UnitOfWork, approval: Approval, user_id: str) -> None:
    chat = uow.people.personal_chat(user_id)
    if chat:
        send_copy(uow, chat, {"approval": approval.id, "user_id": user_id})
    else:
        uow.outbox.enqueue(approval.conversation_id, "open_personal_chat", body={
            "user_id": user_id, "then": {"kind": "approval_copy", "approval": approval.id, "user_id": user_id}})


def send_copy(uow: UnitOfWork, chat_id: str, then: dict[str, Any]) -> None:
    """The request card in the approver's 1:1 chat, then a short text carrying quick replies
    (Teams shows suggested actions only on a message without attachments)."""
    approval = uow.approvals.get(then["approval"])
    if approval is None or not approval.pending:
        return
    if uow.cards.in_conversation("approval", approval.id, chat_id) is not None:
        return
    with i18n.using(language_for(uow, chat_id, approval)):
        card_id = uow.cards.create(chat_id, "approval", i18n.current(), subject_id=approval.id)
        uow.approvals.add_copy(card_id, approval.id, then["user_id"])
        uow.outbox.enqueue(chat_id, "send_card", card_id=card_id)
        prompt = _("%(name)s asks for your approval: %(title)s", name=name_or_someone(approval.requester.name),
                   title=approval.title)
        uow.outbox.enqueue(chat_id, "send_message", card_id=card_id, body=with_suggestions(prompt, replies_for(approval)))


def language_for(uow: UnitOfWork, chat_id: str, approval: Approval) -> str:
    """What is sent to someone's 1:1 chat about a request is in their language (that chat's), or
    while the bot doesn't know it yet, in the request's (its requester's)."""
    chat = uow.conversations.get(chat_id)
    if chat is not None and chat.locale:
        return chat.locale
    home = uow.cards.in_conversation("approval", approval.id, approval.conversation_id)
    return home.locale if home else i18n.current()


def replies_for(approval: Approval) -> list[str]:
    """Quick replies under one request act on that request, even when others are waiting too."""
    return [f"{_(word)} #{approval.id}" for word in REPLY_WORDS.values()]


def _tell_requester(uow: UnitOfWork, approval: Approval, kind: str = "approval_outcome", **extra: str) -> None:
    """A notification in the requester's 1:1 chat (opened first if the bot has none yet)."""
    then = {"kind": kind, "approval": approval.id, **extra}
    chat = uow.people.personal_chat(approval.requester.id)
    if chat:
        FOLLOWUPS[kind](uow, chat, then)
    else:
        uow.outbox.enqueue(approval.conversation_id, "open_personal_chat", body={
            "user_id": approval.requester.id, "then": then})


# The requester's notification when their request ends: (text, summary).
OUTCOMES = {
    "approved": (N_("Your request “%(title)s” was approved."), N_("Request approved: %(title)s")),
    "rejected": (N_("Your request “%(title)s” was rejected."), N_("Request rejected: %(title)s")),
    "cancelled": (N_("Your request “%(title)s” was cancelled."), N_("Request cancelled: %(title)s")),
    "expired": (N_("Your request “%(title)s” expired."), N_("Request expired: %(title)s")),
}


def tell_outcome(uow: UnitOfWork, chat_id: str, then: dict[str, Any]) -> None:
    approval = uow.approvals.get(then["approval"])
    if approval is None:
        return
    with i18n.using(language_for(uow, chat_id, approval)):
        rejected = [a for a in approval.approvers if a.decision == "rejected"]
        text, summary = OUTCOMES[approval.status]
        text = _(text, title=approval.title)
        if approval.closed_reason == "channel_deleted":
            text = _("Your request “%(title)s” was closed because its channel was deleted.", title=approval.title)
        elif rejected:
            text += " " + _("%(name)s rejected it: %(reason)s", name=name_or_someone(rejected[0].name),
                            reason=rejected[0].comment)
        _alert(uow, chat_id, approval, text, _(summary, title=approval.title))


def tell_approver_left(uow: UnitOfWork, chat_id: str, then: dict[str, Any]) -> None:
    approval = uow.approvals.get(then["approval"])
    if approval is None or not approval.pending:
        return
    with i18n.using(language_for(uow, chat_id, approval)):
        where = place(uow.conversations.named(then.get("conversation", "")))
        text = _("%(name)s left %(place)s but still has to decide on your request “%(title)s”. Reassign their "
                 "turn from the request card, or cancel the request.", name=name_or_someone(then["name"]), place=where,
                 title=approval.title)
        _alert(uow, chat_id, approval, text, _("An approver left: %(title)s", title=approval.title))


def _alert(uow: UnitOfWork, chat_id: str, approval: Approval, text: str, summary: str) -> None:
    uow.outbox.enqueue(chat_id, "send_message", card_id=_home_card_id(uow, approval), body={
        **text_message(text), "summary": summary, "channelData": {"notification": {"alert": True}}})


def _home_card_id(uow: UnitOfWork, approval: Approval) -> int | None:
    """The request's card in its own conversation: texts about it elsewhere are tied to it, so
    erasing that conversation removes them too."""
    home = uow.cards.in_conversation("approval", approval.id, approval.conversation_id)
    return home.id if home else None


# When the request's channel or its people change ------------------------------------

def close_for_deleted_channel(uow: UnitOfWork, conversation_ids: list[str]) -> None:
    for approval_id in uow.approvals.in_conversations(conversation_ids, "pending"):
        before = uow.approvals.get(approval_id)
        uow.approvals.set_status(approval_id, "cancelled", reason="channel_deleted")
        uow.approvals.log(approval_id, BOT, "closed", "The channel was deleted.")
        _after_change(uow, before, uow.approvals.get(approval_id))


def reopen_for_restored_channel(uow: UnitOfWork, conversation_ids: list[str]) -> None:
    for approval_id in uow.approvals.in_conversations(conversation_ids, "cancelled", "channel_deleted"):
        before = uow.approvals.get(approval_id)
        uow.approvals.set_status(approval_id, "pending")
        uow.approvals.log(approval_id, BOT, "reopened", "The channel was restored.")
        _after_change(uow, before, uow.approvals.get(approval_id))


def approver_left(uow: UnitOfWork, conversation_ids: list[str], user_id: str, left: str) -> None:
    """Someone left the conversations of these requests (`left`: the conversation they left) while
    still due to decide: tell each requester."""
    for approval_id in uow.approvals.in_conversations(conversation_ids, "pending"):
        approval = uow.approvals.get(approval_id)
        approver = approval.approver(user_id)
        if approver is None or approver.decision is not None:
            continue
        uow.approvals.log(approval_id, BOT, "approver_left", approver.name)
        _tell_requester(uow, approval, "approver_left", name=approver.name, conversation=left)


@router.command("approve")
async def approve_typed(turn: Turn, args: str) -> None:
    await turn.run_once(_typed_decision, "approved", args)


@router.command("reject")
async def reject_typed(turn: Turn, args: str) -> None:
    await turn.run_once(_typed_decision, "rejected", args)


@router.command("details")
async def details_typed(turn: Turn, args: str) -> None:
    await turn.run_once(_typed_details, args)


def _typed_decision(uow: UnitOfWork, turn: Turn, verdict: str, args: str) -> None:
    approval, text = _pick(uow, turn, args, "approve" if verdict == "approved" else "reject")
    if approval is None:
        return
    if verdict == "rejected" and not text:
        turn.reply(uow, _("Add your reason, for example: reject #%(id)s over budget", id=approval.id))
        return
    if _decide(uow, turn, uow.approvals.get(approval.id, for_update=True), verdict, text):
        done = (_("You approved #%(id)s “%(title)s”.", id=approval.id, title=approval.title) if verdict == "approved"
                else _("You rejected #%(id)s “%(title)s”.", id=approval.id, title=approval.title))
        # Tied to the request's card, so erasing the request's conversation removes it too.
        uow.outbox.enqueue(turn.conversation.id, "send_message", card_id=_home_card_id(uow, approval),
                           body=text_message(done))


def _typed_details(uow: UnitOfWork, turn: Turn, args: str) -> None:
    approval, _text = _pick(uow, turn, args, "details")
    if approval is not None:
        turn.reply(uow, summary_text(approval, turn.timezone))


def _pick(uow: UnitOfWork, turn: Turn, args: str, command: str) -> tuple[Approval | None, str]:
    """The request a typed quick reply is about: `#id` if given, else the only one waiting."""
    waiting = uow.approvals.awaiting(turn.user.id)
    match = _TARGET.match(args.strip())
    if match:
        chosen = next((a for a in waiting if a.id == int(match.group(1))), None)
        if chosen is None:
            turn.reply(uow, _("Request #%(id)s isn't waiting for your decision.", id=match.group(1)))
        return chosen, match.group(2).strip()
    if not waiting:
        turn.reply(uow, _("Nothing is waiting for your decision."))
        return None, ""
    if len(waiting) > 1:
        lines = [_("#%(id)s %(title)s (from %(name)s)", id=a.id, title=a.title, name=name_or_someone(a.requester.name))
                 for a in waiting[:6]]
        uow.outbox.enqueue(turn.conversation.id, "send_message", body=with_suggestions(
            _("Which request? %(requests)s", requests="; ".join(lines)),
            [f"{_(REPLY_WORDS[command])} #{a.id}" for a in waiting[:6]]))
        return None, ""
    return waiting[0], args.strip()


# Time: due dates and reminders -------------------------------------------------

def expire_overdue(uow: UnitOfWork, now: datetime) -> int:
    """Expire every pending request past its due date (also the ones missed while the bot was down)."""
    expired = 0
    for approval_id in uow.approvals.overdue(now.isoformat(timespec="milliseconds")):
        before = uow.approvals.get(approval_id)
        if uow.approvals.expire(approval_id):  # the audit gets one "expired", however many instances tick
            uow.approvals.log(approval_id, BOT, "expired")
            _after_change(uow, before, uow.approvals.get(approval_id))
            expired += 1
    return expired


def remind_unread(uow: UnitOfWork, sent_before: str) -> int:
    """One reminder to each approver who hasn't read their 1:1 copy since `sent_before`."""
    reminded = 0
    for copy in uow.approvals.unread_copies(sent_before):
        approval = uow.approvals.get(copy.approval_id)
        if not any(a.id == copy.user_id for a in rules.current_turn(approval)):
            continue
        if not uow.approvals.mark_reminded(copy.card_id):
            continue  # reminded meanwhile (another instance's tick)
        card = uow.cards.get(copy.card_id)
        with i18n.using(language_for(uow, card.conversation_id, approval)):
            uow.outbox.enqueue(card.conversation_id, "send_message", card_id=card.id, body=with_suggestions(
                _("Reminder: %(name)s is waiting for your decision on “%(title)s”.",
                  name=name_or_someone(approval.requester.name),
                  title=approval.title), replies_for(approval)))
        name = next(a.name for a in approval.approvers if a.id == copy.user_id)
        uow.approvals.log(approval.id, BOT, "reminded", name)
        reminded += 1
    return reminded


def tick(uow: UnitOfWork, now: datetime, reminder_after: timedelta) -> None:
    expire_overdue(uow, now)
    remind_unread(uow, (now - reminder_after).isoformat(timespec="milliseconds"))


@router.event("read_receipt")
async def read_receipt(turn: Turn, value: Any) -> None:
    """Teams says the user has read their 1:1 chat up to this message (seed 001)."""
    last_read = value.get("lastReadMessageId") if isinstance(value, dict) else None
    if isinstance(last_read, str) and last_read.isdigit():
        await turn.store.run(lambda uow: uow.approvals.mark_read(turn.conversation.id, last_read))


# Rendering ----------------------------------------------------------------------

def render_approval(uow: UnitOfWork, card: Card, viewer: Viewer | None = None) -> dict[str, Any] | None:
    """The shared card, or `viewer`'s own view of it."""
    approval = uow.approvals.get(card.subject_id)
    if approval is None:
        return None
    members = _candidates(uow, approval.conversation_id, approval.requester.id)
    personal = ApprovalViewer(viewer.user_id, viewer.notice) if viewer else None
    view = approval_view(approval, uow.approvals.history(approval.id), members, personal)
    return render_card("approval", approval=view)


def render_approval_form(uow: UnitOfWork, card: Card, viewer: Viewer | None = None) -> dict[str, Any] | None:
    people = _candidates(uow, card.conversation_id, card.owner_id)
    notice = viewer.notice if viewer else ""
    return render_card("approval_form", form=approval_form_view(card.id, card.state, people, notice))


CARD_RENDERERS = {"approval": render_approval, "approval_form": render_approval_form}
FOLLOWUPS = {"approval_copy": send_copy, "approval_outcome": tell_outcome, "approver_left": tell_approver_left}
