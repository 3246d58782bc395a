"""Pure functions from stored approval state to template context."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .. import payloads
from ..cards import MAX_REFRESH_USERS, clip
from ..i18n import N_, _, date_time, name_or_someone, ngettext
from ..domain import approvals as rules
from ..domain import times
from ..domain.approvals import Approval, Person
from ..store.approvals import ApprovalEvent

# Colours that stay readable in light and dark themes: no green or amber text for words that
# matter (both turn pale on a dark background); the emoji carries the meaning.
STATUS = {
    "pending": ("⏳", N_("APPROVAL · PENDING"), "Accent", ""),
    "approved": ("✅", N_("APPROVAL · APPROVED"), "Default", N_("Approved.")),
    "rejected": ("❌", N_("APPROVAL · REJECTED"), "Attention", N_("Rejected.")),
    "cancelled": ("🚫", N_("APPROVAL · CANCELLED"), "Default", N_("Cancelled by the requester.")),
    "expired": ("⌛", N_("APPROVAL · EXPIRED"), "Default", N_("Expired: no decision by the due date.")),
}
# What an approver who never decided shows: while the request waits for others before them (in
# sequence), and once it is over. (Each N_() stands alone: pybabel does not find one written
# inside a _() call, and a text it does not find is in no catalog.)
UNDECIDED_WHEN = {"pending": N_("Waiting"), "cancelled": N_("🚫 Cancelled"), "expired": N_("⌛ Expired"),
                  "approved": N_("Not needed"), "rejected": N_("Not needed")}
# The audit's events as sentences; `detail` is a name (the "closed" and "reopened" ones say why).
EVENTS = {
    "created": N_("%(actor)s asked for approval"),
    "reassigned": N_("%(actor)s handed their turn to %(detail)s"),
    "cancelled": N_("%(actor)s cancelled the request"),
    "expired": N_("%(actor)s marked the request expired (due date passed)"),
    "reminded": N_("%(actor)s reminded %(detail)s"),
    "closed": N_("%(actor)s closed the request: its channel was deleted."),
    "reopened": N_("%(actor)s reopened the request: its channel was restored."),
    "approver_left": N_("%(actor)s told the requester that %(detail)s left the conversation"),
}


# What one card shows, so the largest request stays under Teams' 80 KB (the store keeps everything).
CARD_COMMENT_CHARS = 280
CARD_HISTORY_EVENTS = 15
CARD_HISTORY_CHARS = 160


def when(iso: str | None) -> str:
    """A stored UTC time as Adaptive Cards' date and time functions: each reader's client shows it
    in their own time zone and locale. They work in TextBlocks only."""
    if not iso:
        return ""
    stamp = datetime.fromisoformat(iso).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{{{{DATE({stamp}, SHORT)}}}} {{{{TIME({stamp})}}}}"


def when_in(iso: str, zone: str) -> str:
    """'Nov 21, 11:02 AM CET': a stored UTC time for a text message, in the reader's IANA time zone."""
    return date_time(datetime.fromisoformat(iso).astimezone(times.zone(zone)))


@dataclass(frozen=True)
class ApproverRow:
    name: str
    state: str
    color: str
    comment: str
    current: bool


@dataclass(frozen=True)
class ApprovalViewer:
    """Whose view of a request this is, and why their last press changed nothing."""
    user_id: str
    notice: str = ""


@dataclass(frozen=True)
class ApprovalView:
    notice: str
    refresh_payload: dict[str, Any]
    refresh_user_ids: tuple[str, ...]
    actions: tuple[str, ...]  # the buttons this viewer gets: approve, reject, reassign, cancel
    number: str  # "#4": what typed commands and quick replies call the request
    title: str
    details: str
    requester: str
    status_line: str
    status_color: str
    policy_line: str
    due_line: str
    approvers: tuple[ApproverRow, ...]
    outcome_line: str
    pending: bool
    history: tuple[HistoryLine, ...]
    reassign_choices: tuple[Person, ...]
    approve_payload: dict[str, Any]
    reject_payload: dict[str, Any]
    reassign_payload: dict[str, Any]
    cancel_payload: dict[str, Any]
    max_comment: int = rules.MAX_REASON


def approval_view(approval: Approval, history: list[ApprovalEvent], members: list[Person],
                  viewer: ApprovalViewer | None = None) -> ApprovalView:
    """The shared card (viewer None: Approve and Reject while pending), or one person's view of it:
    an approver on turn also gets Reassign, the requester Cancel, anyone else no buttons."""
    emoji, status, color, outcome = STATUS[approval.status]
    outcome = _(outcome) if outcome else ""
    if approval.closed_reason == "channel_deleted":
        outcome = _("Closed because its channel was deleted. It reopens if the channel is restored.")
    current = {a.id for a in rules.current_turn(approval)}
    taken = {a.id for a in approval.approvers} | {approval.requester.id}
    reassign_choices = tuple(_named(m) for m in members if m.id not in taken)
    return ApprovalView(
        notice=viewer.notice if viewer else "",
        refresh_payload=payloads.make("approval.refresh", approval=approval.id),
        refresh_user_ids=tuple([approval.requester.id, *sorted(current)][:MAX_REFRESH_USERS]),
        actions=_actions(approval, current, viewer, bool(reassign_choices)),
        number=f"#{approval.id}",
        title=approval.title,
        details=approval.details,
        requester=name_or_someone(approval.requester.name),
        status_line=f"{emoji} {_(status)}",
        status_color=color,
        policy_line=approval.policy_text(),
        due_line=_("Due %(when)s", when=when(approval.due_at)) if approval.due_at else "",
        approvers=tuple(_row(a, a.id in current, approval.status) for a in approval.approvers),
        outcome_line=outcome,
        pending=approval.pending,
        history=_history(history),
        reassign_choices=reassign_choices,
        approve_payload=payloads.make("approval.approve", approval=approval.id),
        reject_payload=payloads.make("approval.reject", approval=approval.id),
        reassign_payload=payloads.make("approval.reassign", approval=approval.id),
        cancel_payload=payloads.make("approval.cancel", approval=approval.id),
    )


def _named(person: Person) -> Person:
    return Person(person.id, name_or_someone(person.name))


def _actions(approval: Approval, current: set[str], viewer: ApprovalViewer | None,
             anyone_to_reassign_to: bool) -> tuple[str, ...]:
    if not approval.pending:
        return ()
    if viewer is None:
        return ("approve", "reject")
    if viewer.user_id in current:
        return ("approve", "reject") + (("reassign",) if anyone_to_reassign_to else ())
    if viewer.user_id == approval.requester.id:
        return ("cancel",)
    return ()


def _row(approver: rules.Approver, current: bool, status: str) -> ApproverRow:
    if approver.decision == "approved":
        state, color = _("✅ Approved · %(when)s", when=when(approver.decided_at)), "Default"
    elif approver.decision == "rejected":
        state, color = _("❌ Rejected · %(when)s", when=when(approver.decided_at)), "Attention"
    elif current:
        state, color = _("⏳ Their turn"), "Accent"
    else:
        state, color = _(UNDECIDED_WHEN[status]), "Default"
    return ApproverRow(name_or_someone(approver.name), state, color, clip(approver.comment, CARD_COMMENT_CHARS),
                       current)


@dataclass(frozen=True)
class HistoryLine:
    at: str  # date functions (a TextBlock); what happened is people's text (a RichTextBlock, no markdown)
    text: str


def _history(events: list[ApprovalEvent]) -> tuple[HistoryLine, ...]:
    lines = [HistoryLine(when(e.at), clip(event_text(e), CARD_HISTORY_CHARS)) for e in events[-CARD_HISTORY_EVENTS:]]
    hidden = len(events) - len(lines)
    earlier = ngettext("… %(num)s earlier event", "… %(num)s earlier events", hidden)
    return tuple(([HistoryLine("", earlier)] if hidden else []) + lines)


def event_text(event: ApprovalEvent) -> str:
    """One line of the audit. A decision's detail is its verdict, then the comment after ': '."""
    actor = name_or_someone(event.actor)
    if event.event != "decided":
        return _(EVENTS[event.event], actor=actor, detail=name_or_someone(event.detail))
    verdict, _colon, comment = event.detail.partition(": ")
    if verdict == "approved":
        return (_("%(actor)s approved: %(comment)s", actor=actor, comment=comment) if comment
                else _("%(actor)s approved", actor=actor))
    return _("%(actor)s rejected: %(comment)s", actor=actor, comment=comment)


def summary_text(approval: Approval, zone: str) -> str:
    """The request as plain text, for the 1:1 quick replies; times in the reader's zone."""
    lines = [_("#%(id)s %(title)s (requested by %(name)s)", id=approval.id, title=approval.title,
               name=name_or_someone(approval.requester.name))]
    if approval.details:
        lines.append(approval.details)
    lines.append(_("%(policy)s. Status: %(status)s.", policy=approval.policy_text(), status=approval.status_word()))
    if approval.due_at:
        lines.append(_("Due %(when)s.", when=when_in(approval.due_at, zone)))
    return "\n".join(lines)


@dataclass(frozen=True)
class ApprovalFormView:
    notice: str
    posted: bool
    title: str
    details: str
    people: tuple[Person, ...]
    approvers: str
    policy: str
    quorum: str
    quorum_choices: tuple[str, ...]
    due_date: str
    due_time: str
    error: str
    submit_payload: dict[str, Any]
    max_title: int = rules.MAX_TITLE
    max_details: int = rules.MAX_DETAILS


def approval_form_view(card_id: int, state: dict[str, Any], people: list[Person],
                       notice: str = "") -> ApprovalFormView:
    return ApprovalFormView(
        notice=notice,
        posted=state.get("status") == "posted",
        title=state.get("title", ""),
        details=state.get("details", ""),
        people=tuple(_named(person) for person in people[:100]),
        approvers=state.get("approvers", ""),
        policy=state.get("policy", "all"),
        quorum=state.get("quorum", "1"),
        quorum_choices=tuple(str(n) for n in range(1, max(1, min(len(people), rules.MAX_APPROVERS)) + 1)),
        due_date=state.get("due_date", ""),
        due_time=state.get("due_time", ""),
        error=state.get("error", ""),
        submit_payload=payloads.make("approval.create", card=card_id),
    )
