"""Poll rules, free of Teams and storage: limits, vote changes, tallies."""
from __future__ import annotations

from dataclasses import dataclass

from ..i18n import _, number
from . import InputError

MAX_QUESTION = 300
MAX_OPTION = 100
MIN_OPTIONS = 2
MAX_OPTIONS = 10


class PollInputError(InputError):
    """The user's poll definition breaks a rule; the message says what to fix."""


@dataclass(frozen=True)
class PollDraft:
    question: str
    options: tuple[str, ...]
    multiple_choice: bool = False


def draft_from_command(args: str) -> PollDraft:
    """`Question | Option | Option ...` as typed after the `poll` command."""
    question, *options = args.split("|")
    return validate_draft(question, options, multiple_choice=False)


def draft_from_form(question: str, options_text: str, choice_mode: str) -> PollDraft:
    if choice_mode not in ("single", "multiple"):
        raise PollInputError(_("Pick single or multiple choice."))
    return validate_draft(question, options_text.splitlines(), multiple_choice=choice_mode == "multiple")


def validate_draft(question: str, options: list[str], multiple_choice: bool) -> PollDraft:
    question = question.strip()
    labels = [o.strip() for o in options if o.strip()]
    problems = []
    if not question:
        problems.append(_("Write a question."))
    elif len(question) > MAX_QUESTION:
        problems.append(_("Shorten the question to %(max)s characters (it has %(count)s).", max=MAX_QUESTION,
                          count=number(len(question))))
    if not MIN_OPTIONS <= len(labels) <= MAX_OPTIONS:
        problems.append(_("Give %(min)s to %(max)s options (you gave %(count)s).", min=MIN_OPTIONS, max=MAX_OPTIONS,
                          count=number(len(labels))))
    for label in labels:
        if len(label) > MAX_OPTION:
            problems.append(_("Shorten option \"%(option)s…\" to %(max)s characters (it has %(count)s).",
                              option=label[:20], max=MAX_OPTION, count=number(len(label))))
    duplicates = sorted({label for label in labels if [x.casefold() for x in labels].count(label.casefold()) > 1})
    if duplicates:
        problems.append(_("Each option must be different: %(options)s repeats.",
                          options=", ".join(f'"{d}"' for d in duplicates)))
    if problems:
        raise PollInputError(" ".join(problems))
    return PollDraft(question, tuple(labels), multiple_choice)


def edited(question: str, labels: tuple[str, ...], voted: bool, multiple_choice: bool,
           new_question: str, new_options: str) -> PollDraft:
    """The poll after its creator's edit on the card. Before anyone votes, anything may change;
    after, only options may be added at the end (a vote must keep meaning what it meant)."""
    draft = validate_draft(new_question, new_options.splitlines(), multiple_choice)
    if voted and (draft.question != question or draft.options[:len(labels)] != labels):
        raise PollInputError(_("People have already voted, so only new options can be added at the end: "
                               "keep the question and the options there are as they are."))
    return draft


def next_choices(multiple_choice: bool, current: frozenset[int], pressed: int) -> frozenset[int]:
    """The user's choices after pressing an option.

    Single choice: pressing another option moves the vote, pressing the
    current one retracts it. Multiple choice: each press toggles.
    """
    if pressed in current:
        return current - {pressed}
    return current | {pressed} if multiple_choice else frozenset({pressed})


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
