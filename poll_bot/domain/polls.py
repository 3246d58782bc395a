"""Poll rules, free of Teams and storage: limits, vote changes, tallies."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..i18n import _, number
from . import InputError, times

MAX_QUESTION = 300
MAX_OPTION = 100
MIN_OPTIONS = 2
MAX_OPTIONS = 10


class PollInputError(InputError):
    """The user's poll definition breaks a rule; the message says what to fix."""


@dataclass(frozen=True)
class PollSettings:
    """How a poll works, chosen when it is created (flags or the form)."""
    multiple_choice: bool = False
    max_choices: int = 0  # with multiple choice: at most this many options each (0: any number)
    anonymous: bool = False  # nobody, the creator included, can learn who voted for what
    hidden: bool = False  # tallies only once it closes (the creator sees them in their own view)
    closes_at: datetime | None = None
    anyone_adds: bool = False  # anyone may add options (the creator always may)


@dataclass(frozen=True)
class PollDraft:
    question: str
    options: tuple[str, ...]
    settings: PollSettings = PollSettings()


# Flags come right after `poll`, before the question, each one word (issue 11's syntax).
FLAGS = {"multi": "--multi", "max": "--max=2", "anonymous": "--anonymous", "hidden": "--hidden",
         "closes": "--closes=2h", "add-options": "--add-options"}
_VALUED = ("max", "closes")
# Phone keyboards turn a typed `--` into an em or en dash: before a flag's name, one means `--`.
_LEADING_FLAG = re.compile(r"\s*(--|[—–])(\S*)")
_DURATION = re.compile(r"^(\d{1,6})([mhd])$")
_DATE_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})$")
_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}
SHORTEST = timedelta(minutes=1)
LONGEST = timedelta(days=365)


def split_flags(args: str) -> tuple[list[str], str]:
    """The leading `--flag` words, and the rest (`Question | Option | ...`). A word starting with
    `—` or `–` instead of `--` counts as a flag only if a flag's name follows."""
    flags = []
    while match := _LEADING_FLAG.match(args):
        dashes, word = match.groups()
        if dashes != "--" and word.partition("=")[0].casefold() not in FLAGS:
            break
        flags.append("--" + word)
        args = args[match.end():]
    return flags, args


def draft_from_command(args: str, now: datetime, zone_name: str = "UTC") -> PollDraft:
    """`[--flags] Question | Option | Option ...` as typed after the `poll` command; a date-time in
    --closes is in `zone_name`, the creator's time zone."""
    flags, rest = split_flags(args)
    question, *options = rest.split("|")
    problems: list[str] = []
    settings = _settings_from_flags(flags, now, zone_name, problems)
    return validate_draft(question, options, settings, problems)


def edited_command(args: str, max_choices: int = 0) -> PollDraft:
    """The question and options of an edited `poll ...` message; its flags are left out, since a
    poll keeps the settings it was posted with (`max_choices`: its limit, which must still fit)."""
    _flags, rest = split_flags(args)
    question, *options = rest.split("|")
    return _keeps_choice_limit(validate_draft(question, options), max_choices)


def _settings_from_flags(flags: list[str], now: datetime, zone_name: str, problems: list[str]) -> PollSettings:
    given: dict[str, str] = {}
    for flag in flags:
        name, has_value, value = flag[2:].partition("=")
        name = name.casefold()
        if name not in FLAGS:
            problems.append(_("I don't know %(flag)s. The flags are --multi, --max=N, --anonymous, --hidden, "
                              "--closes=2h (or a date and time), --add-options.", flag=flag))
        elif name in given:
            problems.append(_("Give %(flag)s once.", flag=f"--{name}"))
        elif name in _VALUED and not value:
            problems.append(_("%(flag)s needs a value, like %(example)s.", flag=f"--{name}", example=FLAGS[name]))
        elif name not in _VALUED and has_value:
            problems.append(_("%(flag)s takes no value: write just %(flag)s.", flag=f"--{name}"))
        else:
            given[name] = value
    if "multi" in given and "max" in given:
        problems.append(_("Use --multi (any number of choices) or --max=N (up to N), not both."))
    max_choices = _max_choices(given["max"], problems) if "max" in given else 0
    closes_at = _closing(given["closes"], now, zone_name, problems) if "closes" in given else None
    return PollSettings(multiple_choice="multi" in given or max_choices > 1,
                        max_choices=max_choices if max_choices > 1 else 0,
                        anonymous="anonymous" in given, hidden="hidden" in given, closes_at=closes_at,
                        anyone_adds="add-options" in given)


def _max_choices(value: str, problems: list[str]) -> int:
    if value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_OPTIONS:
        return int(value)
    problems.append(_("--max needs a whole number from 1 to %(max)s, like --max=2 (not %(value)s).",
                      max=MAX_OPTIONS, value=repr(value)))
    return 0


def _closing(value: str, now: datetime, zone_name: str, problems: list[str]) -> datetime | None:
    """--closes=30m, 2h, 3d, or 2026-12-01T17:00 in the creator's time zone."""
    duration, date_time = _DURATION.match(value.lower()), _DATE_TIME.match(value.upper())
    if duration:
        closes_at = now + int(duration.group(1)) * _UNITS[duration.group(2)]
    elif date_time:
        try:
            closes_at = times.local_time(*date_time.groups(), times.zone(zone_name))
        except times.SkippedTime:
            problems.append(_skipped(f"--closes={value}", zone_name))
            return None
        except ValueError:
            problems.append(_("%(flag)s is no real date and time.", flag=f"--closes={value}"))
            return None
    else:
        problems.append(_("--closes needs a duration like 30m, 2h or 3d, or a date and time like "
                          "--closes=2026-12-01T17:00 (not %(value)s).", value=repr(value)))
        return None
    problem = _closing_problem(closes_at, now, f"--closes={value}", zone_name if date_time else "")
    if problem:
        problems.append(problem)
        return None
    return closes_at


def _closing_problem(closes_at: datetime, now: datetime, what: str, zone_name: str) -> str | None:
    """What is wrong with this closing time; `what` names it as the user gave it, and `zone_name`
    is the zone a typed date-time was read in ('' for a duration)."""
    where = _(" (read in %(zone)s)", zone=times.zone_label(zone_name)) if zone_name else ""
    if closes_at < now:
        return _("%(what)s is in the past%(where)s: give a closing time at least a minute from now.",
                 what=what, where=where)
    if closes_at - now < SHORTEST:
        return _("%(what)s is less than a minute away%(where)s: give a closing time at least a minute from now.",
                 what=what, where=where)
    if closes_at - now > LONGEST:
        return _("%(what)s is more than a year away: give a closing time within a year.", what=what)
    return None


def _skipped(what: str, zone_name: str) -> str:
    return _("%(what)s does not exist in %(zone)s: the clocks jump past it when daylight saving time starts. "
             "Give another time.", what=what, zone=times.zone_label(zone_name))


CHOICE_MODES = ("single", "multiple")
TOGGLE = {"true": True, "false": False, "": False}  # Input.Toggle's valueOn / valueOff (absent: off)


def draft_from_form(question: str, options: str, choice_mode: str = "single", max_choices: str = "",
                    anonymous: str = "", hidden: str = "", add_options: str = "", closes_date: str = "",
                    closes_time: str = "", *, now: datetime, zone_name: str = "UTC") -> PollDraft:
    """The creation form's inputs, by their ids (all text, as Teams sends them: `options` one per
    line, the toggles "true" or "false"); a closing time is in `zone_name`, the creator's zone."""
    problems: list[str] = []
    if choice_mode not in CHOICE_MODES:
        problems.append(_("Pick single or multiple choice."))
    if any(value not in TOGGLE for value in (anonymous, hidden, add_options)):
        problems.append(_("Switch the options on or off."))
    limit = _form_max(choice_mode, max_choices.strip(), problems)
    closes_at = _form_closing(closes_date, closes_time, now, zone_name, problems)
    settings = PollSettings(multiple_choice=choice_mode == "multiple" and limit != 1,
                            max_choices=limit if limit > 1 else 0,
                            anonymous=TOGGLE.get(anonymous, False), hidden=TOGGLE.get(hidden, False),
                            closes_at=closes_at, anyone_adds=TOGGLE.get(add_options, False))
    return validate_draft(question, options.splitlines(), settings, problems)


def _form_max(choice_mode: str, text: str, problems: list[str]) -> int:
    """The form's "at most" choice: 0 (or nothing) for no limit, else 1 to 10."""
    if not (text.isascii() and text.isdigit() and int(text) <= MAX_OPTIONS):
        if text:
            problems.append(_("The most choices per person must be a whole number up to %(max)s.", max=MAX_OPTIONS))
        return 0
    if int(text) > 1 and choice_mode != "multiple":
        problems.append(_("To let people choose more than one option, pick “Any number of options”."))
    return int(text)


def _form_closing(day: str, time_of_day: str, now: datetime, zone_name: str, problems: list[str]) -> datetime | None:
    """A closing date, with a time or at the end of that day, in the creator's time zone."""
    if not day:
        if time_of_day:
            problems.append(_("Pick a closing date for the closing time."))
        return None
    try:
        closes_at = times.local_time(day, time_of_day or "23:59:59", times.zone(zone_name))
    except times.SkippedTime:
        problems.append(_skipped(_("The closing time"), zone_name))
        return None
    except ValueError:
        problems.append(_("Give the closing time as a date and a time."))
        return None
    problem = _closing_problem(closes_at, now, _("The closing time"), zone_name)
    if problem:
        problems.append(problem)
        return None
    return closes_at


def validate_draft(question: str, options: list[str], settings: PollSettings = PollSettings(),
                   problems: list[str] | None = None) -> PollDraft:
    """The draft, or PollInputError naming every problem (those found before, then these)."""
    problems = list(problems or [])
    question = question.strip()
    labels = [o.strip() for o in options if o.strip()]
    if not question:
        problems.append(_("Write a question."))
    elif len(question) > MAX_QUESTION:
        problems.append(_("Shorten the question to %(max)s characters (it has %(count)s).", max=MAX_QUESTION,
                          count=number(len(question))))
    if not MIN_OPTIONS <= len(labels) <= MAX_OPTIONS:
        problems.append(_("Give %(min)s to %(max)s options (you gave %(count)s).", min=MIN_OPTIONS, max=MAX_OPTIONS,
                          count=number(len(labels))))
    if any(not _one_line(label) for label in labels):
        problems.append(_("Write each option on one line, without tabs or other control characters."))
    for label in labels:
        if len(label) > MAX_OPTION:
            problems.append(_("Shorten option \"%(option)s…\" to %(max)s characters (it has %(count)s).",
                              option=label[:20], max=MAX_OPTION, count=number(len(label))))
    duplicates = sorted({label for label in labels if [x.casefold() for x in labels].count(label.casefold()) > 1})
    if duplicates:
        problems.append(_("Each option must be different: %(options)s repeats.",
                          options=", ".join(f'"{d}"' for d in duplicates)))
    if settings.max_choices > len(labels) >= MIN_OPTIONS:
        problems.append(_("Up to %(max)s choices is more than the %(count)s options: allow at most %(count)s.",
                          max=settings.max_choices, count=len(labels)))
    if problems:
        raise PollInputError(" ".join(problems))
    return PollDraft(question, tuple(labels), settings)


def _one_line(label: str) -> bool:
    """No line breaks, tabs or other control characters: the "Edit poll" card lists the options
    one per line, and reads them back so."""
    return not any(unicodedata.category(char) in ("Cc", "Zl", "Zp") for char in label)


def _keeps_choice_limit(draft: PollDraft, max_choices: int) -> PollDraft:
    """An edited draft, if it still has as many options as its poll lets each person choose."""
    if max_choices > len(draft.options):
        raise PollInputError(_("Each person may choose up to %(max)s options in this poll, so keep at least "
                               "%(max)s options.", max=max_choices))
    return draft


def edited(question: str, labels: tuple[str, ...], voted: bool, new_question: str, new_options: str,
           max_choices: int = 0) -> PollDraft:
    """The poll's question and options after its creator's edit on the card (its settings stay:
    `max_choices` is its limit, which must still fit). Before anyone votes, both may change;
    after, only options may be added at the end (a vote must keep meaning what it meant)."""
    draft = _keeps_choice_limit(validate_draft(new_question, new_options.splitlines()), max_choices)
    if voted and (draft.question != question or draft.options[:len(labels)] != labels):
        raise PollInputError(_("People have already voted, so only new options can be added at the end: "
                               "keep the question and the options there are as they are."))
    return draft


def next_choices(multiple_choice: bool, current: frozenset[int], pressed: int, max_choices: int = 0) -> frozenset[int]:
    """The user's choices after pressing an option.

    Single choice: pressing another option moves the vote, pressing the
    current one retracts it. Multiple choice: each press toggles, up to
    `max_choices` options (0: any number).
    """
    if pressed in current:
        return current - {pressed}
    if not multiple_choice:
        return frozenset({pressed})
    if max_choices and len(current) >= max_choices:
        raise PollInputError(_("You already chose %(max)s options, the most this poll allows: "
                               "tap one of yours to take it back first.", max=max_choices))
    return current | {pressed}


def new_option(labels: tuple[str, ...], text: str) -> str:
    """An option someone adds to a poll after it was posted, or PollInputError saying what to fix."""
    label = text.strip()
    if not label:
        raise PollInputError(_("Write the option to add."))
    if not _one_line(label):
        raise PollInputError(_("Write the option on one line, without tabs or other control characters."))
    if len(labels) >= MAX_OPTIONS:
        raise PollInputError(_("This poll already has %(max)s options, the most a poll can have.", max=MAX_OPTIONS))
    if len(label) > MAX_OPTION:
        raise PollInputError(_("Shorten the option to %(max)s characters (it has %(count)s).", max=MAX_OPTION,
                               count=number(len(label))))
    taken = next((existing for existing in labels if existing.strip().casefold() == label.casefold()), None)
    if taken is not None:
        raise PollInputError(_("\"%(option)s\" is already an option.", option=taken))
    return label


def may_add_options(poll_creator_id: str, anyone_adds: bool, user_id: str) -> bool:
    """The creator always may; anyone else only on a poll posted with --add-options."""
    return anyone_adds or poll_creator_id == user_id


def is_past(closes_at: str | None, now: datetime) -> bool:
    """The poll's closing time (stored UTC) has come."""
    return closes_at is not None and datetime.fromisoformat(closes_at) <= now


@dataclass(frozen=True)
class OptionResult:
    position: int
    label: str
    votes: int
    percent: int
    leading: bool


@dataclass(frozen=True)
class Tally:
    options: tuple[OptionResult, ...]
    voters: int
    total_votes: int


def tally(options, counts: dict[int, int], voters: int) -> Tally:
    """Per-option results; percentages are of voters, so under multiple choice they can sum past 100."""
    top = max(counts.values(), default=0)
    results = tuple(
        OptionResult(
            position=o.position,
            label=o.label,
            votes=counts.get(o.position, 0),
            percent=round(100 * counts.get(o.position, 0) / voters) if voters else 0,
            leading=top > 0 and counts.get(o.position, 0) == top,
        )
        for o in options
    )
    return Tally(results, voters, sum(counts.values()))


def may_manage(poll_creator_id: str, user_id: str) -> bool:
    """Only the creator closes, reopens or deletes a poll."""
    return poll_creator_id == user_id
