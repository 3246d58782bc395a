"""The poll options as plain Python: the `poll --flag ...` syntax of issue 11, the creation form's
choices, choosing up to N options, adding an option, and time zones. No Teams involved."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, strategies as st

from poll_bot.domain import polls as rules
from poll_bot.domain import times

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
BERLIN = "Europe/Berlin"  # UTC+1 in November
LUNCH = "Lunch on Friday? | Pizza | Sushi | Tacos"


def settings(flags: str, zone: str = "UTC") -> rules.PollSettings:
    return rules.draft_from_command(f"{flags} {LUNCH}", NOW, zone).settings


def problem(args: str, zone: str = "UTC") -> str:
    with pytest.raises(rules.PollInputError) as error:
        rules.draft_from_command(args, NOW, zone)
    return str(error.value)


def test_the_issue_example_sets_every_option():
    draft = rules.draft_from_command(f"--anonymous --hidden --closes=2h --max=2 --add-options {LUNCH}", NOW)
    assert draft.question == "Lunch on Friday?" and draft.options == ("Pizza", "Sushi", "Tacos")
    assert draft.settings == rules.PollSettings(multiple_choice=True, max_choices=2, anonymous=True, hidden=True,
                                                closes_at=NOW + timedelta(hours=2), anyone_adds=True)


@pytest.mark.parametrize("flags,expected", [
    ("", rules.PollSettings()),
    ("--multi", rules.PollSettings(multiple_choice=True)),
    ("--max=1", rules.PollSettings()),
    ("--max=3", rules.PollSettings(multiple_choice=True, max_choices=3)),
    ("--anonymous", rules.PollSettings(anonymous=True)),
    ("--hidden", rules.PollSettings(hidden=True)),
    ("--add-options", rules.PollSettings(anyone_adds=True)),
    ("--closes=30m", rules.PollSettings(closes_at=NOW + timedelta(minutes=30))),
    ("--closes=1m", rules.PollSettings(closes_at=NOW + timedelta(minutes=1))),
    ("--closes=3d", rules.PollSettings(closes_at=NOW + timedelta(days=3))),
    ("--closes=365d", rules.PollSettings(closes_at=NOW + timedelta(days=365))),
    ("--HIDDEN --Multi", rules.PollSettings(multiple_choice=True, hidden=True)),
])
def test_each_flag(flags, expected):
    assert settings(flags) == expected


def test_a_date_and_time_is_read_in_the_creators_time_zone():
    closes_at = settings("--closes=2026-11-21T17:30", BERLIN).closes_at
    assert closes_at == datetime(2026, 11, 21, 17, 30, tzinfo=ZoneInfo(BERLIN))
    assert closes_at.astimezone(timezone.utc).hour == 16
    assert settings("--closes=2026-11-21T18:30", "+05:30").closes_at.astimezone(timezone.utc).hour == 13
    assert settings("--closes=2026-11-21T17:30").closes_at == datetime(2026, 11, 21, 17, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize("args,says", [
    ("--secret Q? | a | b", "I don't know --secret. The flags are --multi, --max=N, --anonymous, --hidden, "
                            "--closes=2h (or a date and time), --add-options."),
    ("--max=0 Q? | a | b", "--max needs a whole number from 1 to 10, like --max=2 (not '0')."),
    ("--max=two Q? | a | b", "--max needs a whole number from 1 to 10, like --max=2 (not 'two')."),
    ("--max=11 Q? | a | b", "--max needs a whole number from 1 to 10"),
    ("--max Q? | a | b", "--max needs a value, like --max=2."),
    ("--max=3 Q? | a | b", "Up to 3 choices is more than the 2 options: allow at most 2."),
    ("--multi --max=2 Q? | a | b", "Use --multi (any number of choices) or --max=N (up to N), not both."),
    ("--hidden=yes Q? | a | b", "--hidden takes no value: write just --hidden."),
    ("--hidden --hidden Q? | a | b", "Give --hidden once."),
    ("--closes Q? | a | b", "--closes needs a value, like --closes=2h."),
    ("--closes=2w Q? | a | b", "--closes needs a duration like 30m, 2h or 3d, or a date and time like "
                               "--closes=2026-12-01T17:00 (not '2w')."),
    ("--closes=0m Q? | a | b", "--closes=0m is less than a minute away: give a closing time at least a minute"),
    ("--closes=366d Q? | a | b", "--closes=366d is more than a year away: give a closing time within a year."),
    ("--closes=2026-02-30T10:00 Q? | a | b", "--closes=2026-02-30T10:00 is no real date and time."),
    ("--closes=2026-11-21T12:30 Q? | a | b", "--closes=2026-11-21T12:30 is in the past (read in Europe/Berlin): "
                                             "give a closing time at least a minute from now."),
    ("--anonymous | a | b", "Write a question."),
])
def test_bad_flags_say_what_to_fix(args, says):
    assert says in problem(args, BERLIN)


def test_every_problem_is_named_at_once():
    said = problem("--max=0 --closes=soon Q? | a")
    assert "--max needs" in said and "--closes needs" in said and "Give 2 to 10 options (you gave 1)." in said


def test_a_time_zone_teams_did_not_send_is_utc_and_the_reply_says_so():
    assert "(read in UTC)" in problem("--closes=2026-11-21T11:00 Q? | a | b", "Mars/Olympus_Mons")
    assert "(read in UTC+05:30)" in problem("--closes=2026-11-21T11:00 Q? | a | b", "+05:30")


@pytest.mark.parametrize("dash", ["—", "–"])
def test_a_dash_a_phone_made_of_two_hyphens_before_a_flags_name_is_that_flag(dash):
    draft = rules.draft_from_command(f"{dash}anonymous {dash}MAX=2 Secret? | a | b | c", NOW)
    assert draft.question == "Secret?"
    assert draft.settings == rules.PollSettings(multiple_choice=True, max_choices=2, anonymous=True)
    assert "--max needs a whole number" in problem(f"{dash}max=0 Q? | a | b")


def test_a_dash_before_any_other_word_is_part_of_the_question():
    for question in ("—secret Q?", "– anonymous Q?", "—", "Q? —anonymous"):
        draft = rules.draft_from_command(f"{question} | a | b", NOW)
        assert (draft.question, draft.settings) == (question, rules.PollSettings())


def test_a_time_the_clocks_skip_is_refused_and_one_they_repeat_is_its_first_occurrence():
    assert problem("--closes=2027-03-28T02:30 Q? | a | b", BERLIN) == (
        "--closes=2027-03-28T02:30 does not exist in Europe/Berlin: the clocks jump past it when daylight "
        "saving time starts. Give another time.")
    assert settings("--closes=2027-03-28T03:00", BERLIN).closes_at == datetime(2027, 3, 28, 1, 0, tzinfo=timezone.utc)
    assert settings("--closes=2027-10-31T02:30", BERLIN).closes_at.astimezone(timezone.utc) == \
        datetime(2027, 10, 31, 0, 30, tzinfo=timezone.utc), "summer time's 02:30, the first"
    assert settings("--closes=2027-03-28T02:30", "+01:00").closes_at == \
        datetime(2027, 3, 28, 1, 30, tzinfo=timezone.utc), "a fixed offset skips nothing"


def test_local_time_knows_the_gaps_of_a_real_zone():
    berlin = ZoneInfo(BERLIN)
    for skipped in ("02:00", "02:30", "02:59"):
        with pytest.raises(times.SkippedTime):
            times.local_time("2027-03-28", skipped, berlin)
    assert times.local_time("2027-03-28", "01:59", berlin).utcoffset() == timedelta(hours=1)
    assert times.local_time("2027-03-28", "03:00", berlin).utcoffset() == timedelta(hours=2)


def test_flags_only_come_before_the_question():
    draft = rules.draft_from_command("Is --hidden a flag? | yes | --no", NOW)
    assert draft.question == "Is --hidden a flag?" and draft.options == ("yes", "--no")
    assert draft.settings == rules.PollSettings()


def test_an_edited_command_keeps_question_and_options_and_leaves_the_flags_out():
    draft = rules.edited_command("--closes=2020-01-01T00:00 --bogus Lunch? | A | B")
    assert (draft.question, draft.options, draft.settings) == ("Lunch?", ("A", "B"), rules.PollSettings())


FLAG_WORDS = ["--multi", "--anonymous", "--hidden", "--closes=2h", "--add-options"]


@given(st.permutations(FLAG_WORDS), st.sampled_from([" ", "  ", "\t", "\n"]))
def test_flags_mean_the_same_in_any_order_and_spacing(flags, space):
    draft = rules.draft_from_command(space.join(flags) + space + LUNCH, NOW)
    assert draft.settings == settings(" ".join(FLAG_WORDS)) and draft.question == "Lunch on Friday?"


@given(st.integers(min_value=0, max_value=999_999), st.sampled_from("mhd"))
def test_a_duration_closes_that_long_from_now_between_a_minute_and_a_year(amount, unit):
    length = amount * {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}[unit]
    args = f"--closes={amount}{unit} {LUNCH}"
    if timedelta(minutes=1) <= length <= timedelta(days=365):
        assert rules.draft_from_command(args, NOW).settings.closes_at == NOW + length
    else:
        with pytest.raises(rules.PollInputError):
            rules.draft_from_command(args, NOW)


@given(st.text(max_size=200), st.sampled_from(["UTC", BERLIN, "+14:00", "-12:00", "no/such zone", ""]))
def test_any_text_makes_a_draft_or_says_what_to_fix(text, zone):
    try:
        draft = rules.draft_from_command(text, NOW, zone)
    except rules.PollInputError as error:
        assert str(error)
    else:
        assert 2 <= len(draft.options) <= 10 and draft.question


# The creation form ----------------------------------------------------------------

def form(zone: str = "UTC", **inputs: str) -> rules.PollDraft:
    return rules.draft_from_form(**{"question": "Lunch?", "options": "Pizza\nSushi\nTacos", **inputs},
                                 now=NOW, zone_name=zone)


def form_problem(**inputs: str) -> str:
    with pytest.raises(rules.PollInputError) as error:
        form(BERLIN, **inputs)
    return str(error.value)


def test_the_form_offers_the_same_choices_as_the_flags():
    draft = form(BERLIN, choice_mode="multiple", max_choices="2", anonymous="true", hidden="true",
                 add_options="true", closes_date="2026-11-22", closes_time="09:00")
    assert draft.settings == rules.PollSettings(multiple_choice=True, max_choices=2, anonymous=True, hidden=True,
                                                closes_at=datetime(2026, 11, 22, 8, 0, tzinfo=timezone.utc),
                                                anyone_adds=True)
    assert form(anonymous="false", hidden="false", add_options="false", max_choices="0").settings == \
        rules.PollSettings()


def test_a_closing_day_without_a_time_ends_with_that_day_where_the_creator_is():
    assert form(BERLIN, closes_date="2026-11-22").settings.closes_at == \
        datetime(2026, 11, 22, 23, 59, 59, tzinfo=ZoneInfo(BERLIN))


@pytest.mark.parametrize("inputs,says", [
    ({"closes_time": "09:00"}, "Pick a closing date for the closing time."),
    ({"closes_date": "2026-11-21", "closes_time": "12:30"}, "is in the past (read in Europe/Berlin)"),
    ({"closes_date": "21.11.2026"}, "Give the closing time as a date and a time."),
    ({"closes_date": "2026-11-22", "closes_time": "9 am"}, "Give the closing time as a date and a time."),
    ({"max_choices": "3"}, "To let people choose more than one option, pick “Any number of options”."),
    ({"max_choices": "12", "choice_mode": "multiple"}, "a whole number up to 10."),
    ({"max_choices": "4", "choice_mode": "multiple"}, "Up to 4 choices is more than the 3 options"),
    ({"closes_date": "2027-03-28", "closes_time": "02:30"}, "The closing time does not exist in Europe/Berlin"),
    ({"anonymous": "yes"}, "Switch the options on or off."),
    ({"choice_mode": "ranked"}, "Pick single or multiple choice."),
])
def test_the_form_says_what_to_fix(inputs, says):
    assert says in form_problem(**inputs)


# Voting up to N, and adding options ------------------------------------------------

def test_choosing_up_to_n_refuses_one_more_and_allows_taking_one_back():
    assert rules.next_choices(True, frozenset({0}), 1, max_choices=2) == {0, 1}
    with pytest.raises(rules.PollInputError, match="You already chose 2 options, the most this poll allows"):
        rules.next_choices(True, frozenset({0, 1}), 2, max_choices=2)
    assert rules.next_choices(True, frozenset({0, 1}), 1, max_choices=2) == {0}


@pytest.mark.parametrize("text,says", [
    ("", "Write the option to add."),
    ("   ", "Write the option to add."),
    ("  sushi ", '"Sushi" is already an option.'),
    ("PIZZA", '"Pizza" is already an option.'),
    ("x" * 101, "Shorten the option to 100 characters (it has 101)."),
    ("Ramen\nCurry", "Write the option on one line, without tabs or other control characters."),
    ("Ramen\u2028Curry", "Write the option on one line, without tabs or other control characters."),
    ("Ra\tmen", "Write the option on one line, without tabs or other control characters."),
    ("Ramen\x00", "Write the option on one line, without tabs or other control characters."),
])
def test_an_added_option_must_be_new_and_fit(text, says):
    with pytest.raises(rules.PollInputError, match=None) as error:
        rules.new_option(("Pizza", "Sushi"), text)
    assert str(error.value) == says


def test_an_added_option_is_trimmed_and_a_full_poll_takes_no_more():
    assert rules.new_option(("Pizza", "Sushi"), "  Ramen  ") == "Ramen"
    assert rules.new_option(tuple("abcdefghi"), "j") == "j"
    with pytest.raises(rules.PollInputError, match="already has 10 options"):
        rules.new_option(tuple("abcdefghij"), "k")
    assert rules.new_option(("Pizza", "Sushi"), "👩‍🍳 Chef’s choice") == "👩‍🍳 Chef’s choice", "a joiner is no control"


def test_an_edit_keeps_as_many_options_as_each_person_may_choose():
    keep_three = "Each person may choose up to 3 options in this poll, so keep at least 3 options."
    with pytest.raises(rules.PollInputError) as error:
        rules.edited("Lunch?", ("Pizza", "Sushi", "Tacos"), False, "Lunch?", "Pizza\nSushi", max_choices=3)
    assert str(error.value) == keep_three
    with pytest.raises(rules.PollInputError) as error:
        rules.edited_command("Lunch? | Pizza | Sushi", max_choices=3)
    assert str(error.value) == keep_three
    assert rules.edited("Lunch?", ("Pizza", "Sushi", "Tacos"), False, "Dinner?", "A\nB\nC", max_choices=3).options \
        == ("A", "B", "C")


def test_who_may_add_options():
    assert rules.may_add_options("29:creator", False, "29:creator")
    assert not rules.may_add_options("29:creator", False, "29:someone")
    assert rules.may_add_options("29:creator", True, "29:someone")


def test_time_zones_from_teams():
    assert times.zone(BERLIN) == ZoneInfo(BERLIN)
    assert times.zone("-03:30").utcoffset(None) == -timedelta(hours=3, minutes=30)
    for junk in ("", "Not/AZone", "+99:00", "../../etc/passwd", "UTC+1"):
        assert times.zone(junk) is timezone.utc
