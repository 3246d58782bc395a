"""Feature modules. Each owns a Router; a button press is handled in the
module whose router registers its verb (e.g. `poll.vote` in polls.py)."""
from __future__ import annotations

from ..router import Router
from . import help, polls

CARD_RENDERERS = {**polls.CARD_RENDERERS}


def build_router() -> Router:
    root = Router()
    for feature in (help, polls):
        root.include(feature.router)
    return root
