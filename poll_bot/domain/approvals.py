"""Approval rules, free of Teams and storage: who may act, and what a decision leads to."""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..i18n import N_, _, name_or_someone, ngettext, number
from . import InputError

POLICIES = {
    "first": N_("The first response decides"),
    "all": N_("Everyone must approve"),
    "quorum": "",  # "2 of 3 must approve": see policy_text
    "sequence": N_("In sequence, one after another"),
}
# A status in a sentence: "This request is already approved", "Status: pending".
STATUS_WORDS = {"pending": N_("pending"), "approved": N_("approved"), "rejected": N_("rejected"),
                "cancelled": N_("cancelled"), "expired": N_("expired")}
MAX_TITLE = 200
MAX_DETAILS = 2000
MAX_APPROVERS = 20
MAX_REASON = 1000


class ApprovalInputError(InputError):
    """The request breaks a rule; the message says what to fix."""


@dataclass(frozen=True)
class Person:
    id: str
    name: str


@dataclass(frozen=True)
class Approver:
    position: int
    id: str
    name: str
    decision: str | None = None  # "approved" / "rejected"
    comment: str = ""
    decided_at: str | None = None


@dataclass(frozen=True)
class Approval:
    id: int
    conversation_id: str
    requester: Person
    title: str
    details: str
    policy: str
    quorum: int
    status: str  # pending, approved, rejected, cancelled, expired
    approvers: tuple[Approver, ...]
    due_at: str | None = None
    created_at: str = ""
    closed_reason: str = ""  # '' or 'channel_deleted' (closed by the bot, reopened on restore)

    @property
    def pending(self) -> bool:
        return self.status == "pending"

    def approver(self, user_id: str) -> Approver | None:
        return next((a for a in self.approvers if a.id == user_id), None)

    def policy_text(self) -> str:
        if self.policy == "quorum":
            return ngettext("%(num)s of %(count)s must approve", "%(num)s of %(count)s must approve", self.quorum,
                            count=number(len(self.approvers)))
        return _(POLICIES[self.policy])

    def status_word(self) -> str:
        return _(STATUS_WORDS[self.status])


@dataclass(frozen=True)
class Draft:
    title: str
    details: str
    approvers: tuple[Person, ...]
    policy: str
    quorum: int


def validate(title: str, details: str, approvers: list[Person], policy: str, quorum: int,
             requester_id: str) -> Draft:
    title, details = title.strip(), details.strip()
    unique = list({a.id: a for a in approvers}.values())
    problems = []
    if not title:
        problems.append(_("Give the request a title."))
    elif len(title) > MAX_TITLE:
        problems.append(_("Shorten the title to %(max)s characters (it has %(count)s).", max=number(MAX_TITLE),
                          count=number(len(title))))
    if len(details) > MAX_DETAILS:
        problems.append(_("Shorten the details to %(max)s characters (they have %(count)s).",
                          max=number(MAX_DETAILS), count=number(len(details))))
    if any(a.id == requester_id for a in unique):
        problems.append(_("You can't approve your own request: pick other approvers."))
    if not 1 <= len(unique) <= MAX_APPROVERS:
        problems.append(_("Pick 1 to %(max)s approvers (you picked %(count)s).", max=number(MAX_APPROVERS),
                          count=number(len(unique))))
    if policy not in POLICIES:
        problems.append(_("Pick how approvers decide."))
    elif policy == "quorum" and not 1 <= quorum <= len(unique):
        problems.append(_("The number who must approve has to be between 1 and %(count)s.",
                          count=number(len(unique))) if len(unique) > 1
                        else _("The number who must approve has to be 1 with one approver."))
    if problems:
        raise ApprovalInputError(" ".join(problems))
    return Draft(title, details, tuple(unique), policy, quorum if policy == "quorum" else len(unique))


def current_turn(approval: Approval) -> tuple[Approver, ...]:
    """The approvers who may decide now: the next one in a sequence, otherwise everyone undecided."""
    if not approval.pending:
        return ()
    undecided = tuple(a for a in approval.approvers if a.decision is None)
    return undecided[:1] if approval.policy == "sequence" else undecided


def decision_problem(approval: Approval, user_id: str, verdict: str, reason: str) -> str | None:
    """Why this user may not record this verdict now, or None."""
    if not approval.pending:
        return _already(approval)
    if user_id == approval.requester.id:
        return _("You can't decide on your own request.")
    approver = approval.approver(user_id)
    if approver is None:
        return _("Only the listed approvers can decide on this request.")
    if approver.decision is not None:
        return (_("You already approved this request.") if approver.decision == "approved"
                else _("You already rejected this request."))
    if approver not in current_turn(approval):
        return _("It's %(name)s's turn first; you'll be asked when it's yours.",
                 name=name_or_someone(current_turn(approval)[0].name))
    if verdict == "rejected" and not reason.strip():
        return _("Give a reason when you reject.")
    if len(reason) > MAX_REASON:
        return _("Shorten the comment to %(max)s characters.", max=number(MAX_REASON))
    return None


def _already(approval: Approval) -> str:
    return _("This request is already %(outcome)s, so nothing was changed.", outcome=approval.status_word())


def decide(approval: Approval, user_id: str, verdict: str, comment: str, at: str) -> Approval:
    """The request after this approver's verdict, with its new status."""
    approvers = tuple(
        replace(a, decision=verdict, comment=comment.strip(), decided_at=at) if a.id == user_id else a
        for a in approval.approvers
    )
    decided = replace(approval, approvers=approvers)
    return replace(decided, status=outcome(decided))


def outcome(approval: Approval) -> str:
    verdicts = [a.decision for a in approval.approvers]
    if "rejected" in verdicts:
        return "rejected"  # any reject ends it, under every policy
    approved = verdicts.count("approved")
    needed = {"first": 1, "all": len(verdicts), "sequence": len(verdicts), "quorum": approval.quorum}
    return "approved" if approved >= needed[approval.policy] else "pending"


def reassign_problem(approval: Approval, user_id: str, new: Person) -> str | None:
    if not approval.pending:
        return _already(approval)
    approver = approval.approver(user_id)
    if approver is None or approver.decision is not None or approver not in current_turn(approval):
        return _("Only an approver whose turn it is can hand it to someone else.")
    if new.id == approval.requester.id:
        return _("The requester can't approve their own request.")
    if approval.approver(new.id) is not None:
        return _("%(name)s is already an approver of this request.", name=name_or_someone(new.name))
    return None


def may_cancel(approval: Approval, user_id: str) -> str | None:
    if user_id != approval.requester.id:
        return _("Only the requester can cancel this request.")
    if not approval.pending:
        return _already(approval)
    return None
