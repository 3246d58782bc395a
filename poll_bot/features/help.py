"""Anything that isn't a command gets a short help reply."""
from __future__ import annotations

from ..router import Router
from ..turn import Turn
from .polls import EXAMPLE

router = Router()

HELP = (
    "I run live polls. Try:\n"
    f"• {EXAMPLE}\n"
    "• poll (on its own) for a form with single or multiple choice\n"
    "• help, to see this again"
)


@router.command("help")
@router.fallback
async def help_reply(turn: Turn, _text: str) -> None:
    await turn.notify(HELP)
