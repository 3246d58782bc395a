"""Feature modules. Each owns a Router; a button press is handled in the
module whose router registers its verb (e.g. `poll.vote` in polls.py), and a
Teams event in the module that registers its name (lifecycle.py, reactions.py)."""
from __future__ import annotations

from ..router import Router
from ..turn import NOTICE, send_notice
from . import approvals, lifecycle, personal, polls, prompts, reactions

CARD_RENDERERS = {**polls.CARD_RENDERERS, **approvals.CARD_RENDERERS, **prompts.CARD_RENDERERS}
# Several people's views of a card at once, for answering the presses that commit together.
VIEWS_RENDERERS = {kind: polls.VIEWS_RENDERERS.get(kind) or personal.one_by_one(render)
                   for kind, render in CARD_RENDERERS.items()}
FOLLOWUPS = {**approvals.FOLLOWUPS, **polls.FOLLOWUPS, NOTICE: send_notice}


def build_router() -> Router:
    root = Router()
    for feature in (prompts, polls, approvals, lifecycle, reactions):
        root.include(feature.router)
    return root
