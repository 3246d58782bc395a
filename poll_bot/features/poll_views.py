"""Pure functions from stored poll state to template context."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from .. import payloads
from ..cards import clip
from ..domain import polls as rules
from ..i18n import _, name_or_someone, ngettext, number, percent
from ..store.models import Poll, PollResults
from .approval_views import when


# Result bars are text: image bars ran past the card's padding in Teams' renderer. Twenty
# segments (5% each) fit a phone-width card on one line.
BAR_SEGMENTS = 20
BAR_SEGMENT = "▬"
# "Who voted" names this many people per option and counts the rest: a 10-option poll with
# thousands of voters stays far under Teams' 80 KB.
WHO_VOTED_PER_OPTION = 15
NAME_CHARS = 60


@dataclass(frozen=True)
class OptionView:
    label: str
    count_text: str
    percent: int
    leading: bool
    winner: bool
    mine: bool  # the viewer chose it ("✓ Your vote"); never on the shared card
    marker: str  # ○ ◉ ☐ ☑ while open (◉ ☑: the viewer's choice), 🏆 or ○ once closed
    bar_filled: str  # the share of voters, drawn in the accent colour
    bar_rest: str
    vote_payload: dict[str, Any]
    voters_text: str  # who chose it, for "Who voted": the first names, then how many more


@dataclass(frozen=True)
class PollViewer:
    """What one person's view of a poll adds to the shared card."""
    choices: frozenset[int] = frozenset()
    is_creator: bool = False
    notice: str = ""  # why their last press changed nothing
    to_remind: int = 0  # the creator's: members who haven't voted and weren't reminded yet


@dataclass(frozen=True)
class PollView:
    notice: str
    personal: bool
    creator_controls: bool  # Close/Reopen and Delete: only in the creator's own view
    refresh_payload: dict[str, Any]
    refresh_user_ids: tuple[str, ...]
    who_voted: bool  # a collapsed "Who voted": never on an anonymous poll
    show_tallies: bool  # counts, percentages and bars (a hidden poll's: once closed, or to its creator)
    remind_title: str  # the creator's "Remind the N people who haven't voted", while there are any
    remind_payload: dict[str, Any]
    question: str
    creator_name: str
    kind_line: str
    is_open: bool
    options: tuple[OptionView, ...]
    summary_line: str
    closing_line: str  # when it closes, in each reader's own time zone ('' without a closing time)
    status_line: str
    can_add_option: bool  # "Add an option": its creator, or anyone on a poll that allows it
    add_option_payload: dict[str, Any]
    manage_title: str
    manage_payload: dict[str, Any]
    delete_payload: dict[str, Any]
    export_payload: dict[str, Any]
    edit_payload: dict[str, Any]
    options_text: str  # the options one per line, as the "Edit poll" card shows them
    edit_hint: str
    max_question: int = rules.MAX_QUESTION
    max_option: int = rules.MAX_OPTION


def _votes(n: int) -> str:
    return ngettext("%(num)s vote", "%(num)s votes", n)


class Participation(NamedTuple):
    """How many of the conversation's members voted, once the bot has read its roster."""
    voted: int = 0
    members: int = 0  # 0: the roster is not read (or the poll is in a 1:1 chat)


def _voted(n: int, roster: Participation) -> str:
    """"12 people voted", or with the roster read "12 of 40 members voted" (people who voted and
    have left since count in the tallies, not among the members)."""
    if roster.members:
        return ngettext("%(voters)s of %(num)s member voted", "%(voters)s of %(num)s members voted",
                        roster.members, voters=number(roster.voted))
    return ngettext("%(num)s person voted", "%(num)s people voted", n)


def poll_view(poll: Poll, results: PollResults, refresh_user_ids: tuple[str, ...] = (),
              viewer: PollViewer | None = None, voters: dict[int, list[str]] | None = None,
              roster: Participation = Participation()) -> PollView:
    """The shared card (viewer None), or one person's view of it: the same layout, plus their
    choices marked and, for the creator, the controls."""
    result = rules.tally(poll.options, results.counts, results.voters)
    leaders = [o for o in result.options if o.leading]
    mine = viewer.choices if viewer else frozenset()
    is_creator = viewer is not None and viewer.is_creator
    show_tallies = not (poll.hidden and poll.is_open) or is_creator
    options = tuple(
        OptionView(
            label=o.label,
            count_text=f"{_votes(o.votes)} · {percent(o.percent)}" if result.voters else _votes(0),
            percent=o.percent,
            leading=o.leading,
            winner=o.leading and not poll.is_open,
            mine=o.position in mine,
            marker=_marker(poll, o, o.position in mine),
            bar_filled=BAR_SEGMENT * round(o.percent * BAR_SEGMENTS / 100),
            bar_rest=BAR_SEGMENT * (BAR_SEGMENTS - round(o.percent * BAR_SEGMENTS / 100)),
            vote_payload=payloads.make("poll.vote", poll=poll.id, option=o.position),
            voters_text=_names((voters or {}).get(o.position, []), o.votes),
        )
        for o in result.options
    )
    return PollView(
        notice=viewer.notice if viewer else "",
        personal=viewer is not None,
        creator_controls=is_creator,
        refresh_payload=payloads.make("poll.refresh", poll=poll.id),
        refresh_user_ids=refresh_user_ids,
        who_voted=show_tallies and not poll.anonymous and any(option.voters_text for option in options),
        show_tallies=show_tallies,
        question=poll.question,
        creator_name=name_or_someone(poll.creator_name),
        kind_line=_kind_line(poll),
        is_open=poll.is_open,
        options=options,
        summary_line=(_summary(poll, result, leaders, roster) if show_tallies
                      else _hidden_summary(result, roster=roster)),
        remind_payload=payloads.make("poll.remind", poll=poll.id),
        remind_title=(ngettext("🔔 Remind the person who hasn't voted",
                               "🔔 Remind the %(num)s people who haven't voted", viewer.to_remind)
                      if viewer and viewer.to_remind and poll.is_open else ""),
        closing_line=_closing_line(poll),
        status_line=_status(poll),
        can_add_option=(poll.is_open and len(poll.options) < rules.MAX_OPTIONS
                        and (poll.anyone_adds or is_creator)),
        add_option_payload=payloads.make("poll.add_option", poll=poll.id),
        manage_title=_("Close poll") if poll.is_open else _("Reopen poll"),
        manage_payload=payloads.make("poll.close" if poll.is_open else "poll.reopen", poll=poll.id),
        delete_payload=payloads.make("poll.delete", poll=poll.id),
        export_payload=payloads.make("poll.export", poll=poll.id),
        edit_payload=payloads.make("poll.edit", poll=poll.id),
        options_text="\n".join(o.label for o in poll.options),
        edit_hint=(_("People have voted: add options at the end (up to %(max)s).", max=rules.MAX_OPTIONS)
                   if result.voters else _("Change the question or the options (%(min)s to %(max)s, one per line).",
                                           min=rules.MIN_OPTIONS, max=rules.MAX_OPTIONS)),
    )


def _names(names: list[str], votes: int) -> str:
    if not names:
        return ""
    shown = ", ".join(clip(name_or_someone(name), NAME_CHARS) for name in names)
    more = votes - len(names)
    return ngettext("%(names)s and %(num)s more", "%(names)s and %(num)s more", more, names=shown) if more else shown


def _marker(poll: Poll, option: rules.OptionResult, mine: bool) -> str:
    if not poll.is_open:
        return "🏆" if option.leading else "○"
    if poll.multiple_choice:
        return "☑" if mine else "☐"
    return "◉" if mine else "○"


def _kind_line(poll: Poll) -> str:
    if not poll.is_open:
        kind = _("POLL · CLOSED")
    elif poll.max_choices:
        kind = _("POLL · CHOOSE UP TO %(max)s", max=poll.max_choices)
    elif poll.multiple_choice:
        kind = _("POLL · CHOOSE ANY")
    else:
        kind = _("POLL · CHOOSE ONE")
    hidden = poll.hidden and poll.is_open
    badges = [badge for badge, shown in ((_("ANONYMOUS"), poll.anonymous), (_("RESULTS HIDDEN"), hidden)) if shown]
    return " · ".join(("📊 " + kind, *badges))


def _closing_line(poll: Poll) -> str:
    """When an open poll closes, as each reader's client shows dates ('' without a closing time)."""
    return "⏰ " + _("Closes %(when)s", when=when(poll.closes_at)) if poll.is_open and poll.closes_at else ""


def _hidden_summary(result: rules.Tally, only_you: bool = False, roster: Participation = Participation()) -> str:
    """A hidden poll's summary while it is open: how many voted, and when the results show."""
    voted = _voted(result.voters, roster) if result.voters or roster.members else _("No votes yet")
    note = _("only you see the results until the poll closes") if only_you else _("results show when the poll closes")
    return f"{voted} · {note}"


def _summary(poll: Poll, result: rules.Tally, leaders: list[rules.OptionResult],
             roster: Participation = Participation()) -> str:
    of_voters = " · " + _("percentages are of voters") if poll.multiple_choice else ""
    if poll.is_open and poll.hidden:  # tallies shown: the creator's own view
        return _hidden_summary(result, only_you=True, roster=roster)
    if poll.is_open:
        return _voted(result.voters, roster) + of_voters if result.voters or roster.members else _("No votes yet.")
    if not result.voters:
        return _("Final result: no votes were cast.")
    top = leaders[0].votes
    if len(leaders) > 1:
        names = _("%(options)s and %(last)s", options=", ".join(o.label for o in leaders[:-1]), last=leaders[-1].label)
        return _("Tie: %(options)s, with %(votes)s each", options=names, votes=_votes(top)) + of_voters
    if poll.multiple_choice:
        return ngettext("%(option)s won, chosen by %(top)s of %(num)s person",
                        "%(option)s won, chosen by %(top)s of %(num)s people", result.voters,
                        option=leaders[0].label, top=number(top)) + of_voters
    return ngettext("%(option)s won with %(top)s of %(num)s vote", "%(option)s won with %(top)s of %(num)s votes",
                    result.total_votes, option=leaders[0].label, top=number(top))


def _status(poll: Poll) -> str:
    anonymous = " " + _("Votes are anonymous: nobody, the creator included, can see who voted for what.") \
        if poll.anonymous else ""
    if poll.closed_reason == "channel_deleted":
        return _("Closed because its channel was deleted. It reopens if the channel is restored.")
    if not poll.is_open:
        closed = (_("It closed at its closing time. Its creator can reopen it.") if poll.closed_reason == "deadline"
                  else _("This poll is closed. Its creator can reopen it."))
        return closed + anonymous
    if poll.max_choices:
        how = _("Tap up to %(max)s options; tap one again to take it back. Only the creator can close the poll.",
                max=poll.max_choices)
    elif poll.multiple_choice:
        how = _("Tap options to add or remove your votes. Only the creator can close the poll.")
    else:
        how = _("Tap an option to vote; tap it again to take your vote back. Only the creator can close the poll.")
    return how + anonymous


def result_message(poll: Poll, results: PollResults) -> str:
    """What the bot says in the poll's thread when it closes."""
    result = rules.tally(poll.options, results.counts, results.voters)
    summary = _summary(poll, result, [o for o in result.options if o.leading])
    return "📊 " + _("The poll “%(question)s” is closed.", question=poll.question) + " " + summary


@dataclass(frozen=True)
class PollFormView:
    notice: str
    posted: bool
    question: str
    options: str
    choice_mode: str
    max_choices: str
    anonymous: str  # the toggles: "true" or "false"
    hidden: str
    add_options: str
    closes_date: str
    closes_time: str
    error: str
    submit_payload: dict[str, Any]
    max_question: int = rules.MAX_QUESTION
    min_options: int = rules.MIN_OPTIONS
    max_options: int = rules.MAX_OPTIONS


def poll_form_view(card_id: int, state: dict[str, Any], notice: str = "") -> PollFormView:
    """The form, empty or with what its owner typed (and the problem with it); or, once the poll is
    posted, the confirmation."""
    return PollFormView(
        notice=notice,
        posted=state.get("status") == "posted",
        question=state.get("question", ""),
        options=state.get("options", ""),
        choice_mode=state.get("choice_mode", "single"),
        max_choices=state.get("max_choices", ""),
        anonymous=state.get("anonymous", "false"),
        hidden=state.get("hidden", "false"),
        add_options=state.get("add_options", "false"),
        closes_date=state.get("closes_date", ""),
        closes_time=state.get("closes_time", ""),
        error=state.get("error", ""),
        submit_payload=payloads.make("poll.create", card=card_id),
    )
