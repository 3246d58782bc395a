"""The poll rules as plain Python, no Teams involved."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from poll_bot.domain import polls as rules
from poll_bot.store.models import PollOption

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)


def test_command_splits_question_and_options_and_drops_blank_ones():
    draft = rules.draft_from_command(" Lunch?  | Pizza |  | Sushi ", NOW)
    assert draft == rules.PollDraft("Lunch?", ("Pizza", "Sushi"), rules.PollSettings())


@pytest.mark.parametrize("args,problem", [
    ("Q | a", "Give 2 to 10 options (you gave 1)."),
    ("Q | " + " | ".join("abcdefghijk"), "Give 2 to 10 options (you gave 11)."),
    ("x" * 301 + " | a | b", "Shorten the question to 300 characters (it has 301)."),
    ("Q | a | A", 'Each option must be different: "A", "a" repeats.'),
    (" | a | b", "Write a question."),
])
def test_limits_say_what_to_fix(args, problem):
    with pytest.raises(rules.PollInputError, match=None) as error:
        rules.draft_from_command(args, NOW)
    assert problem in str(error.value)


ONE_LINE = "Write each option on one line, without tabs or other control characters."


@pytest.mark.parametrize("label", ["Piz\nza", "Piz\rza", "Piz\u2029za", "Piz\tza", "Piz\x00za", "Piz\x1bza"])
def test_an_option_is_one_line_without_control_characters(label):
    with pytest.raises(rules.PollInputError, match=ONE_LINE):
        rules.draft_from_command(f"Lunch? | {label} | Sushi", NOW)


@pytest.mark.parametrize("label", ["Piz\tza", "Piz\x00za", "Piz\x1bza"])
def test_an_edited_option_is_one_line_without_control_characters(label):
    """The Edit card has the options one per line: a line break there starts the next option."""
    with pytest.raises(rules.PollInputError, match=ONE_LINE):
        rules.edited("Lunch?", ("Pizza", "Sushi"), False, "Lunch?", f"{label}\nSushi")


def test_limits_accept_the_boundaries():
    draft = rules.draft_from_command("q" * 300 + " | " + " | ".join(f"{i}" * 1 + "o" * 99 for i in range(10)), NOW)
    assert len(draft.question) == 300 and len(draft.options) == 10
    assert all(len(o) == 100 for o in draft.options)


def test_form_needs_a_known_choice_mode():
    with pytest.raises(rules.PollInputError):
        rules.draft_from_form("Q", "a\nb", "ranked", now=NOW)
    assert rules.draft_from_form("Q", "a\r\nb\n", "multiple", now=NOW).settings.multiple_choice


@pytest.mark.parametrize("multiple,current,pressed,expected", [
    (False, set(), 1, {1}),
    (False, {1}, 2, {2}),
    (False, {2}, 2, set()),
    (True, {1}, 2, {1, 2}),
    (True, {1, 2}, 1, {2}),
])
def test_next_choices(multiple, current, pressed, expected):
    assert rules.next_choices(multiple, frozenset(current), pressed) == frozenset(expected)


def test_tally_counts_voters_and_marks_leaders():
    options = [PollOption(0, "A"), PollOption(1, "B"), PollOption(2, "C")]
    # u1 chose A and B, u2 chose B, u3 chose A
    result = rules.tally(options, {0: 2, 1: 2}, voters=3)
    assert result.voters == 3 and result.total_votes == 4
    assert [(o.votes, o.percent, o.leading) for o in result.options] == [(2, 67, True), (2, 67, True), (0, 0, False)]


def test_tally_without_votes_has_no_leader():
    result = rules.tally([PollOption(0, "A")], {}, voters=0)
    assert result.options[0].leading is False and result.options[0].percent == 0
