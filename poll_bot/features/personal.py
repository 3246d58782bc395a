"""Personal views (Universal Actions): what the person who pressed an Action.Execute button sees.

The press runs the same handler as its Action.Submit fallback. The invoke is then answered with
the presser's own view of the card, rendered from the committed state: their vote marked, the
controls only they may use, and the reason at the top if the press changed nothing. A refusal is
never posted into the conversation.
"""
from __future__ import annotations

from typing import Any, Callable

from ..cards import ADAPTIVE_CARD, Viewer, render_card
from ..i18n import _
from ..payloads import subject_of
from ..store import UnitOfWork
from ..store.models import Card
from ..turn import Turn
from .polls import TOMBSTONES

Renderer = Callable[[UnitOfWork, Card, Viewer | None], dict[str, Any] | None]
MESSAGE = "application/vnd.microsoft.activity.message"
ERROR = "application/vnd.microsoft.error"


def bad_request(message: str) -> dict[str, Any]:
    return {"statusCode": 400, "type": ERROR, "value": {"code": "BadRequest", "message": message}}


def answer(uow: UnitOfWork, turn: Turn, pressed: Any, renderers: dict[str, Renderer]) -> dict[str, Any]:
    """The invoke's answer: the card as the presser now sees it, or a one-line message."""
    notice = " ".join(turn.refusals)
    card = _pressed_card(uow, turn, pressed)
    kind = card.kind if card else subject_of(pressed).kind
    content = renderers[card.kind](uow, card, Viewer(turn.user.id, notice)) if card else None
    if content is None and not notice and kind in TOMBSTONES:
        content = render_card("deleted", subject=TOMBSTONES[kind])  # the press deleted it
    if content is None:
        return {"statusCode": 200, "type": MESSAGE, "value": notice or _("Done.")}
    return {"statusCode": 200, "type": ADAPTIVE_CARD, "value": content}


def _pressed_card(uow: UnitOfWork, turn: Turn, pressed: Any) -> Card | None:
    """The card whose button was pressed: by the message it is in (replyToId), else the card in
    this conversation that shows what the button is about."""
    conversation_id = turn.conversation.id
    if turn.card_message_id:
        card = uow.cards.by_activity(conversation_id, turn.card_message_id)
        if card is not None:
            return card
    subject = subject_of(pressed)
    if subject.kind == "form":
        card = uow.cards.get(subject.id)
        return card if card is not None and card.conversation_id == conversation_id else None
    return uow.cards.in_conversation(subject.kind, subject.id, conversation_id)
