"""Personal views (Universal Actions): what the person who pressed an Action.Execute button sees.

The press runs the same handler as its Action.Submit fallback. The invoke is then answered with
the presser's own view of the card: their vote marked, the controls only they may use, and the
reason at the top if the press changed nothing. A refusal is never posted into the conversation.

Presses that commit together are answered together: one read of the state they leave serves all
of them, and people who see the same thing (the same choices, in the same language) share one
rendered and encoded card. A vote stampede would otherwise render a card per vote.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable

import orjson

from .. import i18n
from ..cards import ADAPTIVE_CARD, Viewer, render_card
from ..i18n import _
from ..payloads import subject_of
from ..store import Store, UnitOfWork
from ..store.models import Card
from ..turn import Turn
from .polls import TOMBSTONES

Renderer = Callable[[UnitOfWork, Card, Viewer | None], dict[str, Any] | None]
# Several people's views of one card at once: a renderer that reads what they share once.
ViewsRenderer = Callable[[UnitOfWork, Card, list[Viewer]], list[dict[str, Any] | None]]
log = logging.getLogger(__name__)
MESSAGE = "application/vnd.microsoft.activity.message"
ERROR = "application/vnd.microsoft.error"


def bad_request(message: str) -> dict[str, Any]:
    return {"statusCode": 400, "type": ERROR, "value": {"code": "BadRequest", "message": message}}


def one_by_one(render: Renderer) -> ViewsRenderer:
    return lambda uow, card, viewers: [render(uow, card, viewer) for viewer in viewers]


@dataclass(frozen=True)
class _Press:
    turn: Turn
    language: str


class Answers:
    """Answers the presses of one transaction together, just before it commits (on SQLite, every
    press committed together), from the state it leaves: each answer shows its own press."""

    def __init__(self, renderers: dict[str, ViewsRenderer]):
        self._renderers = renderers

    def collect(self, uow: UnitOfWork, turn: Turn) -> None:
        """At the end of the press's unit of work (Turn.answer_press)."""
        uow.before_commit(self, _Press(turn, i18n.current()), self._answer)

    def _answer(self, uow: UnitOfWork, presses: list[_Press]) -> None:
        try:
            answers = answer_all(uow, [(p.turn, p.turn.pressed, p.language) for p in presses], self._renderers)
        except Exception:  # a bug: the presses still commit, and their invokes are answered alone
            log.exception("could not answer %d presses together", len(presses))
            return
        for press, answer in zip(presses, answers):
            press.turn.answer["body"] = answer

    async def answer(self, store: Store, turn: Turn, pressed: Any) -> bytes:
        """The press's answer; made now if its handler made none (it only read, as a refresh does)."""
        if "body" not in turn.answer:
            language = i18n.current()
            turn.answer["body"] = (await store.run(
                lambda uow: answer_all(uow, [(turn, pressed, language)], self._renderers)))[0]
        return turn.answer["body"]


def answer_all(uow: UnitOfWork, presses: list[tuple[Turn, Any, str]],
               renderers: dict[str, ViewsRenderer]) -> list[bytes]:
    """Each press's answer, encoded; the views of one card in one language are rendered together."""
    found: dict[tuple, Card | None] = {}  # most presses of a batch are on the same card
    cards = []
    for turn, pressed, _language in presses:
        where = (turn.conversation.id, turn.card_message_id, subject_of(pressed))
        if where not in found:
            found[where] = _pressed_card(uow, turn, pressed)
        cards.append(found[where])
    groups: dict[tuple[int, str], list[int]] = {}
    for i, card in enumerate(cards):
        if card is not None:
            groups.setdefault((card.id, presses[i][2]), []).append(i)
    contents: list[dict[str, Any] | None] = [None] * len(presses)
    for (_card_id, language), members in groups.items():
        card = cards[members[0]]
        viewers = [Viewer(presses[i][0].user.id, " ".join(presses[i][0].refusals)) for i in members]
        with i18n.using(language):
            for i, content in zip(members, renderers[card.kind](uow, card, viewers)):
                contents[i] = content
    encoded: dict[int, bytes] = {}  # people who see the same card get the same bytes
    answers = []
    for (turn, pressed, language), card, content in zip(presses, cards, contents):
        if content is None:
            with i18n.using(language):
                answers.append(_encode(_without_card(turn, pressed, card)))
        else:
            if id(content) not in encoded:
                encoded[id(content)] = _encode({"statusCode": 200, "type": ADAPTIVE_CARD, "value": content})
            answers.append(encoded[id(content)])
    return answers


def _without_card(turn: Turn, pressed: Any, card: Card | None) -> dict[str, Any]:
    notice = " ".join(turn.refusals)
    kind = card.kind if card else subject_of(pressed).kind
    if not notice and kind in TOMBSTONES:  # the press deleted it
        return {"statusCode": 200, "type": ADAPTIVE_CARD, "value": render_card("deleted", subject=TOMBSTONES[kind])}
    return {"statusCode": 200, "type": MESSAGE, "value": notice or _("Done.")}


def _encode(answer: dict[str, Any]) -> bytes:
    return orjson.dumps(answer)


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
