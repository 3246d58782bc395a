"""Checks shared by the creation forms (poll and approval)."""
from __future__ import annotations

from ..store.models import Card
from ..turn import Turn


def form_problem(turn: Turn, card: Card | None, kind: str, command: str) -> str | None:
    """Why this press on a creation form must change nothing, or None."""
    if card is None or card.kind != kind or not turn.same_thread(card.conversation_id):
        return f"That form isn't one I recognise, so nothing was sent. Type `{command}` for a new form."
    if card.state.get("status") == "posted":
        return f"That form was already used. Type `{command}` for a new form."
    if card.owner_id != turn.user.id:
        return f"That form belongs to someone else. Type `{command}` to get your own."
    return None
