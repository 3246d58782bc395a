"""Feature modules. Each owns a Router; a button press is handled in the
module whose router registers its verb (e.g. `poll.vote` in polls.py)."""
from __future__ import annotations

from ..router import Router
from . import approvals, help, polls

CARD_RENDERERS = {**polls.CARD_RENDERERS, **approvals.CARD_RENDERERS}
FOLLOWUPS = {**approvals.FOLLOWUPS}


def build_router() -> Router:
    root = Router()
    for feature in (help, polls, approvals):
        root.include(feature.router)
    return root
