"""Approval policies and permissions as plain Python."""
from __future__ import annotations

import pytest

from poll_bot.domain import approvals as rules
from poll_bot.domain.approvals import Approval, Approver, Person

REQUESTER = Person("29:req", "Riley Requester")
A, B, C = (Person(f"29:{n}", n.upper()) for n in "abc")


def request(policy="all", quorum=0, approvers=(A, B, C)) -> Approval:
    return Approval(
        id=1, conversation_id="c", requester=REQUESTER, title="Buy laptops", details="", policy=policy,
        quorum=quorum or len(approvers), status="pending",
        approvers=tuple(Approver(i, p.id, p.name) for i, p in enumerate(approvers)),
    )


def run(approval: Approval, *steps: tuple[Person, str]) -> Approval:
    for person, verdict in steps:
        assert rules.decision_problem(approval, person.id, verdict, "because") is None, (person, verdict)
        approval = rules.decide(approval, person.id, verdict, "because", "2026-11-21T10:00:00Z")
    return approval


@pytest.mark.parametrize("policy,quorum,steps,expected", [
    ("first", 0, [(A, "approved")], "approved"),
    ("first", 0, [(B, "rejected")], "rejected"),
    ("all", 0, [(A, "approved"), (B, "approved")], "pending"),
    ("all", 0, [(A, "approved"), (B, "approved"), (C, "approved")], "approved"),
    ("all", 0, [(A, "approved"), (C, "rejected")], "rejected"),
    ("quorum", 2, [(A, "approved")], "pending"),
    ("quorum", 2, [(A, "approved"), (C, "approved")], "approved"),
    ("quorum", 2, [(A, "approved"), (B, "rejected")], "rejected"),
    ("sequence", 0, [(A, "approved"), (B, "approved")], "pending"),
    ("sequence", 0, [(A, "approved"), (B, "approved"), (C, "approved")], "approved"),
    ("sequence", 0, [(A, "approved"), (B, "rejected")], "rejected"),
])
def test_policies(policy, quorum, steps, expected):
    assert run(request(policy, quorum), *steps).status == expected


def test_sequence_asks_one_approver_at_a_time():
    approval = request("sequence")
    assert [a.id for a in rules.current_turn(approval)] == [A.id]
    assert "It's A's turn first" in rules.decision_problem(approval, B.id, "approved", "")
    approval = run(approval, (A, "approved"))
    assert [a.id for a in rules.current_turn(approval)] == [B.id]


def test_who_may_decide():
    approval = request()
    assert rules.decision_problem(approval, REQUESTER.id, "approved", "") == "You can't decide on your own request."
    assert "Only the listed approvers" in rules.decision_problem(approval, "29:stranger", "approved", "")
    assert rules.decision_problem(approval, A.id, "rejected", "  ") == "Give a reason when you reject."
    assert rules.decision_problem(approval, A.id, "approved", "") is None
    approval = run(approval, (A, "approved"))
    assert rules.decision_problem(approval, A.id, "approved", "") == "You already approved this request."


def test_nothing_changes_once_decided_cancelled_or_expired():
    for status in ("approved", "rejected", "cancelled", "expired"):
        approval = Approval(**{**request().__dict__, "status": status})
        assert "already" in rules.decision_problem(approval, A.id, "approved", "")
        assert "already" in rules.may_cancel(approval, REQUESTER.id)
        assert rules.current_turn(approval) == ()


def test_only_the_requester_cancels():
    assert rules.may_cancel(request(), A.id) == "Only the requester can cancel this request."
    assert rules.may_cancel(request(), REQUESTER.id) is None


def test_reassignment():
    approval = request("sequence")
    d = Person("29:d", "D")
    assert rules.reassign_problem(approval, A.id, d) is None
    assert "whose turn it is" in rules.reassign_problem(approval, B.id, d)
    assert "already an approver" in rules.reassign_problem(approval, A.id, B)
    assert "can't approve their own" in rules.reassign_problem(approval, A.id, REQUESTER)


@pytest.mark.parametrize("kwargs,problem", [
    ({"title": " "}, "Give the request a title."),
    ({"title": "x" * 201}, "Shorten the title to 200 characters"),
    ({"approvers": []}, "Pick 1 to 20 approvers (you picked 0)."),
    ({"approvers": [REQUESTER, A]}, "You can't approve your own request"),
    ({"policy": "vibes"}, "Pick how approvers decide."),
    ({"policy": "quorum", "quorum": 3}, "between 1 and 2"),
    ({"approvers": [A], "policy": "quorum", "quorum": 2}, "has to be 1 with one approver."),
])
def test_validation_says_what_to_fix(kwargs, problem):
    args = {"title": "Buy laptops", "details": "", "approvers": [A, B], "policy": "all", "quorum": 0,
            "requester_id": REQUESTER.id, **kwargs}
    with pytest.raises(rules.ApprovalInputError) as error:
        rules.validate(**args)
    assert problem in str(error.value)


def test_validation_drops_duplicate_approvers_and_fixes_the_quorum():
    draft = rules.validate("T", "", [A, A, B], "all", 0, REQUESTER.id)
    assert draft.approvers == (A, B) and draft.quorum == 2
