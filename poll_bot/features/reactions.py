"""Reactions on the bot's messages (seed 004): recorded against the poll or
request on the card reacted to. A reaction is never a vote."""
from __future__ import annotations

from ..router import Router
from ..store import UnitOfWork
from ..turn import Reactions, Turn

router = Router()


@router.event("reactions")
async def reacted(turn: Turn, reactions: Reactions) -> None:
    if reactions.message_id:
        await turn.store.run(_record, turn, reactions)


def _record(uow: UnitOfWork, turn: Turn, reactions: Reactions) -> None:
    # The event carries no content: what was reacted to is known only from what the bot stored when it sent it.
    conversation_id = turn.conversation.id
    card = uow.cards.by_activity(conversation_id, reactions.message_id)
    sent = None if card else uow.messages.sent(conversation_id, reactions.message_id)
    card_id = card.id if card else sent.card_id if sent else None
    for reaction in reactions.added:
        uow.messages.add_reaction(conversation_id, reactions.message_id, turn.user.id, reaction, card_id)
    for reaction in reactions.removed:
        uow.messages.remove_reaction(conversation_id, reactions.message_id, turn.user.id, reaction)
