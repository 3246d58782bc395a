"""Polls: the `poll` command, the creation form, votes, close and reopen.

Each handler runs one transaction script (a plain function of the unit of
work) through `turn.run_once`, which also drops redelivered activities.
"""
from __future__ import annotations

from typing import Any

from ..cards import render_card
from ..domain import polls as rules
from ..payloads import PollFormSubmit, PollRef, PollVote
from ..router import Router
from ..store import UnitOfWork
from ..store.models import Card, Poll
from ..turn import Turn
from .forms import open_form, submit_form
from .poll_views import poll_form_view, poll_view

router = Router()

EXAMPLE = "poll Lunch on Friday? | Pizza | Sushi | Tacos"


@router.command("poll")
async def poll_command(turn: Turn, args: str) -> None:
    await turn.run_once(_poll_command, args)


def _poll_command(uow: UnitOfWork, turn: Turn, args: str) -> None:
    if not args:
        open_form(uow, turn, "poll_form")
        return
    try:
        draft = rules.draft_from_command(args)
    except rules.PollInputError as error:
        turn.reply(uow, f"I couldn't create that poll. {error}\nExample: {EXAMPLE}")
        return
    _post_poll(uow, turn, draft)


@router.action("poll.create", PollFormSubmit)
async def create_from_form(turn: Turn, submitted: PollFormSubmit) -> None:
    await turn.run_once(_submit_form, submitted)


def _submit_form(uow: UnitOfWork, turn: Turn, submitted: PollFormSubmit) -> None:
    def post() -> dict[str, Any]:
        draft = rules.draft_from_form(submitted.question, submitted.options, submitted.choice_mode)
        return {"question": draft.question, "poll_id": _post_poll(uow, turn, draft)}

    submit_form(uow, turn, submitted, "poll_form", "poll", post)


def _post_poll(uow: UnitOfWork, turn: Turn, draft: rules.PollDraft) -> int:
    poll_id = uow.polls.create(
        turn.conversation.id, turn.user.id, turn.user.name, draft.question, list(draft.options),
        draft.multiple_choice,
    )
    card_id = uow.cards.create(turn.conversation.id, "poll", subject_id=poll_id)
    uow.outbox.enqueue(turn.conversation.id, "send_card", card_id=card_id)
    return poll_id


@router.action("poll.vote", PollVote)
async def vote(turn: Turn, pressed: PollVote) -> None:
    await turn.run_once(_vote, pressed)


def _vote(uow: UnitOfWork, turn: Turn, pressed: PollVote) -> None:
    poll = uow.polls.get(pressed.poll)
    problem = _vote_problem(turn, poll, pressed.option)
    if problem:
        turn.reply(uow, problem)
        return
    current = uow.polls.user_choices(poll.id, turn.user.id)
    chosen = rules.next_choices(poll.multiple_choice, current, pressed.option)
    for position in current - chosen:
        uow.polls.remove_vote(poll.id, position, turn.user.id)
    for position in chosen - current:
        uow.polls.add_vote(poll.id, position, turn.user.id, turn.user.name)
    _refresh_poll_cards(uow, poll.id)


def _vote_problem(turn: Turn, poll: Poll | None, option: int) -> str | None:
    if poll is None or not turn.same_thread(poll.conversation_id):
        return "That poll isn't in this conversation, so nothing was changed."
    if not poll.is_open:
        return "This poll is closed, so your vote was not recorded."
    if not poll.has_option(option):
        return "That option isn't on this poll, so nothing was changed."
    return None


@router.action("poll.close", PollRef)
async def close(turn: Turn, ref: PollRef) -> None:
    await turn.run_once(_set_status, ref.poll, "closed")


@router.action("poll.reopen", PollRef)
async def reopen(turn: Turn, ref: PollRef) -> None:
    await turn.run_once(_set_status, ref.poll, "open")


def _set_status(uow: UnitOfWork, turn: Turn, poll_id: int, status: str) -> None:
    poll = uow.polls.get(poll_id)
    if poll is None or not turn.same_thread(poll.conversation_id):
        turn.reply(uow, "That poll isn't in this conversation, so nothing was changed.")
        return
    if not rules.may_manage(poll.creator_id, turn.user.id):
        verb = "close" if status == "closed" else "reopen"
        turn.reply(uow, f"Only {poll.creator_name}, who created this poll, can {verb} it.")
        return
    if poll.status != status:
        uow.polls.set_status(poll.id, status)
    _refresh_poll_cards(uow, poll.id)


def _refresh_poll_cards(uow: UnitOfWork, poll_id: int) -> None:
    """Queue an update of every card showing this poll; the pipeline renders it when it sends."""
    for card in uow.cards.for_subject("poll", poll_id):
        uow.outbox.enqueue(card.conversation_id, "update_card", card_id=card.id)


def render_poll_card(uow: UnitOfWork, card: Card) -> dict[str, Any] | None:
    poll = uow.polls.get(card.subject_id)
    if poll is None:
        return None
    return render_card("poll", poll=poll_view(poll, uow.polls.results(poll.id)))


def render_poll_form(uow: UnitOfWork, card: Card) -> dict[str, Any] | None:
    return render_card("poll_form", form=poll_form_view(card.id, card.state))


CARD_RENDERERS = {"poll": render_poll_card, "poll_form": render_poll_form}
