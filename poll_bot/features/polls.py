"""Polls: the `poll` command, the creation form, votes, close and reopen."""
from __future__ import annotations

import logging
from typing import Any

from ..cards import render_card
from ..domain import polls as rules
from ..payloads import PollFormSubmit, PollRef, PollVote
from ..router import Router
from ..store import UnitOfWork
from ..store.models import Card, Poll
from ..turn import Turn
from .poll_views import poll_form_view, poll_view

log = logging.getLogger(__name__)
router = Router()

EXAMPLE = "poll Lunch on Friday? | Pizza | Sushi | Tacos"


@router.command("poll")
async def poll_command(turn: Turn, args: str) -> None:
    async with turn.transaction() as uow:
        if not await turn.first_delivery(uow):
            return
        if not args:
            card_id = await uow.cards.create(turn.conversation.id, "poll_form", owner_id=turn.user.id)
            await uow.outbox.enqueue(turn.conversation.id, "send_card", card_id=card_id)
            return
        try:
            draft = rules.draft_from_command(args)
        except rules.PollInputError as error:
            await turn.reply(uow, f"I couldn't create that poll. {error}\nExample: {EXAMPLE}")
            return
        await _post_poll(uow, turn, draft)


@router.action("poll.create", PollFormSubmit)
async def submit_form(turn: Turn, submitted: PollFormSubmit) -> None:
    async with turn.transaction() as uow:
        if not await turn.first_delivery(uow):
            return
        card = await uow.cards.get(submitted.card)
        problem = _form_problem(turn, card)
        if problem:
            await turn.reply(uow, problem)
            return
        values = {"question": submitted.question, "options": submitted.options,
                  "choice_mode": submitted.choice_mode}
        try:
            draft = rules.draft_from_form(submitted.question, submitted.options, submitted.choice_mode)
        except rules.PollInputError as error:
            await uow.cards.set_state(card.id, {**values, "status": "open", "error": str(error)})
        else:
            poll_id = await _post_poll(uow, turn, draft)
            await uow.cards.set_state(card.id, {"status": "posted", "question": draft.question, "poll_id": poll_id})
        await uow.outbox.enqueue(card.conversation_id, "update_card", card_id=card.id)


def _form_problem(turn: Turn, card: Card | None) -> str | None:
    if card is None or card.kind != "poll_form" or not turn.same_thread(card.conversation_id):
        return "That form isn't one I recognise, so nothing was posted. Type `poll` for a new form."
    if card.state.get("status") == "posted":
        return "That form was already used to post a poll. Type `poll` for a new form."
    if card.owner_id != turn.user.id:
        return "That form belongs to someone else. Type `poll` to get your own."
    return None


async def _post_poll(uow: UnitOfWork, turn: Turn, draft: rules.PollDraft) -> int:
    poll_id = await uow.polls.create(
        turn.conversation.id, turn.user.id, turn.user.name, draft.question, list(draft.options),
        draft.multiple_choice,
    )
    card_id = await uow.cards.create(turn.conversation.id, "poll", subject_id=poll_id)
    await uow.outbox.enqueue(turn.conversation.id, "send_card", card_id=card_id)
    return poll_id


@router.action("poll.vote", PollVote)
async def vote(turn: Turn, pressed: PollVote) -> None:
    async with turn.transaction() as uow:
        if not await turn.first_delivery(uow):
            return
        poll = await uow.polls.get(pressed.poll)
        problem = _vote_problem(turn, poll, pressed.option)
        if problem:
            await turn.reply(uow, problem)
            return
        current = await uow.polls.user_choices(poll.id, turn.user.id)
        chosen = rules.next_choices(poll.multiple_choice, current, pressed.option)
        for position in current - chosen:
            await uow.polls.remove_vote(poll.id, position, turn.user.id)
        for position in chosen - current:
            await uow.polls.add_vote(poll.id, position, turn.user.id, turn.user.name)
        await _refresh_poll_cards(uow, turn, poll.id)


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
    await _set_status(turn, ref.poll, "closed")


@router.action("poll.reopen", PollRef)
async def reopen(turn: Turn, ref: PollRef) -> None:
    await _set_status(turn, ref.poll, "open")


async def _set_status(turn: Turn, poll_id: int, status: str) -> None:
    async with turn.transaction() as uow:
        if not await turn.first_delivery(uow):
            return
        poll = await uow.polls.get(poll_id)
        if poll is None or not turn.same_thread(poll.conversation_id):
            await turn.reply(uow, "That poll isn't in this conversation, so nothing was changed.")
            return
        if not rules.may_manage(poll.creator_id, turn.user.id):
            verb = "close" if status == "closed" else "reopen"
            await turn.reply(uow, f"Only {poll.creator_name}, who created this poll, can {verb} it.")
            return
        if poll.status != status:
            await uow.polls.set_status(poll.id, status)
        await _refresh_poll_cards(uow, turn, poll.id)


async def _refresh_poll_cards(uow: UnitOfWork, turn: Turn, poll_id: int) -> None:
    for card in await uow.cards.for_subject("poll", poll_id):
        if turn.reply_to_id and card.activity_id and turn.reply_to_id != card.activity_id:
            log.info("replyToId %s differs from stored card id %s; updating the stored one",
                     turn.reply_to_id, card.activity_id)
        await uow.outbox.enqueue(card.conversation_id, "update_card", card_id=card.id)


async def render_poll_card(uow: UnitOfWork, card: Card) -> dict[str, Any] | None:
    poll = await uow.polls.get(card.subject_id)
    if poll is None:
        return None
    return render_card("poll", poll=poll_view(poll, await uow.polls.results(poll.id)))


async def render_poll_form(uow: UnitOfWork, card: Card) -> dict[str, Any] | None:
    return render_card("poll_form", form=poll_form_view(card.id, card.state))


CARD_RENDERERS = {"poll": render_poll_card, "poll_form": render_poll_form}
