"""Adaptive Cards rendered from the Jinja templates in templates/."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from .. import i18n
from ..resources import resource_dir

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
MAX_CARD_BYTES = 80 * 1024


# orjson, not json: a vote answered with its card spends a third of its time in these three.
def json_literal(value: Any) -> str:
    """The only way user text enters a template: as a complete JSON literal."""
    return orjson.dumps(value).decode()


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(resource_dir("templates")),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # templates change only with a new release: no stat() per render
        extensions=["jinja2.ext.i18n"],
    )
    env.filters["json"] = json_literal
    # The same callables as the Python code (keywords formatted in, %% for a percent sign).
    env.install_gettext_callables(i18n._, i18n.ngettext, newstyle=False)
    return env


def compile_templates() -> None:
    """Compile every template at startup: compiled in the first render instead, the poll card took
    67 ms of the transaction that the first votes waited on."""
    environment = _environment()
    for name in environment.list_templates(extensions=["j2"]):
        environment.get_template(name)


@dataclass(frozen=True)
class Viewer:
    """Whom a personal view of a card is for (Universal Actions), and what to tell them at its top."""
    user_id: str
    notice: str = ""


# Teams refreshes a card automatically for at most 60 people (`refresh.userIds`).
MAX_REFRESH_USERS = 60


def render_card(template: str, **context: Any) -> dict[str, Any]:
    """Render templates/<template>.json.j2 into a card dict."""
    text = _environment().get_template(f"{template}.json.j2").render(**context)
    return orjson.loads(text)


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, cut with an ellipsis (the store keeps the whole text)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def card_attachment(card: dict[str, Any]) -> dict[str, Any]:
    return {"contentType": ADAPTIVE_CARD, "content": card}


def card_message(card: dict[str, Any]) -> dict[str, Any]:
    """A message that is this card alone (a card shares a message with nothing, so it can be updated)."""
    return {"type": "message", "attachments": [card_attachment(card)]}


def card_size(card: dict[str, Any]) -> int:
    """Bytes of the card as sent; Teams counts UTF-16, which this bounds for BMP text."""
    return len(orjson.dumps(card).decode().encode("utf-16-le"))
