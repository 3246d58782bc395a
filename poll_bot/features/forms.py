"""Checks shared by the creation forms (poll and approval)."""
from __future__ import annotations

from dataclasses import asdict
from typing import Any, Callable

from .. import i18n
from ..domain import InputError
from ..i18n import _
from ..store import UnitOfWork
from ..store.models import Card
from ..turn import Turn


def open_form(uow: UnitOfWork, turn: Turn, kind: str) -> None:
    """Post an empty creation form of this kind, owned by the sender."""
    card_id = uow.cards.create(turn.conversation.id, kind, i18n.current(), owner_id=turn.user.id)
    uow.outbox.enqueue(turn.conversation.id, "send_card", card_id=card_id)


def form_problem(turn: Turn, card: Card | None, kind: str, command: str) -> str | None:
    """Why this press on a creation form must change nothing, or None."""
    if card is None or card.kind != kind or not turn.same_thread(card.conversation_id):
        return _("That form isn't one I recognise, so nothing was sent. Type `%(command)s` for a new form.",
                 command=command)
    if card.state.get("status") == "posted":
        return _("That form was already used. Type `%(command)s` for a new form.", command=command)
    if card.owner_id != turn.user.id:
        return _("That form belongs to someone else. Type `%(command)s` to get your own.", command=command)
    return None


def submit_form(uow: UnitOfWork, turn: Turn, submitted: Any, kind: str, command: str,
                post: Callable[[], dict[str, Any]]) -> None:
    """A press on a creation form: `post()` creates what the form describes and returns the form's
    "posted" state, or raises InputError saying what to fix; the form then shows that problem
    with everything the user typed."""
    card = uow.cards.get(submitted.card)
    problem = form_problem(turn, card, kind, command)
    if problem:
        turn.refuse(uow, problem)
        return
    try:
        state = {**post(), "status": "posted"}
    except InputError as error:
        state = {**{k: v for k, v in asdict(submitted).items() if k != "card"}, "error": str(error)}
    uow.cards.set_state(card.id, state)
    uow.outbox.enqueue(card.conversation_id, "update_card", card_id=card.id)
