"""A pseudo-language whose catalog marks every text it translates, to find the texts that bypass it.

Installed as language "eo" (`marked_language`), every `_()`, `ngettext()` and template `_()` gives
its message back with each run of words between placeholders wrapped in ⟦…⟧: what is formatted
into it (people's text, numbers, commands, other texts) stays outside the marks. So an English
fragment glued to a translated sentence, or formatted into one, shows up outside every mark; and
so does a message the catalogs do not have.
"""
from __future__ import annotations

import gettext
import re
from contextlib import contextmanager
from typing import Any, Iterator

from babel.messages.pofile import read_po

from poll_bot import i18n
from poll_bot.features.prompts import POLL_FLAGS

LANGUAGE = "eo"  # a language the bot does not ship, so the stand-in takes no real catalog's place
_PLACEHOLDER = re.compile(r"(%\(\w+\)[sd])")


def mark(message: str) -> str:
    """⟦Only ⟧%(name)s⟦, who created this poll, can close it.⟧"""
    return "".join(part if _PLACEHOLDER.fullmatch(part) else f"⟦{part}⟧"
                   for part in _PLACEHOLDER.split(message) if part)


def shipped_messages() -> frozenset[str]:
    """The msgids every shipped catalog has (a plural by its singular)."""
    found = []
    for po in sorted(i18n.LOCALE_DIR.glob(f"*/LC_MESSAGES/{i18n.DOMAIN}.po")):
        with open(po, "rb") as file:
            found.append({m.id if isinstance(m.id, str) else m.id[0] for m in read_po(file) if m.id})
    return frozenset.intersection(*map(frozenset, found))


class Marked(gettext.NullTranslations):
    """A stand-in catalog that marks every text it translates, if the shipped catalogs have it: a
    text made up at run time (`_(f"...")`, `_(variable)` of a text never marked with N_) is in no
    catalog, so no language would translate it, and it stays unmarked here too."""

    def __init__(self, known: frozenset[str] | None = None):
        super().__init__()
        self._known = shipped_messages() if known is None else known

    def gettext(self, message):
        return mark(message) if message in self._known else message

    def ngettext(self, singular, plural, n):
        chosen = singular if n == 1 else plural
        return mark(chosen) if singular in self._known else chosen


@contextmanager
def marked_language(monkeypatch) -> Iterator[str]:
    """Speak the marking pseudo-language for the tag this yields, until the block ends."""
    monkeypatch.setitem(i18n.CATALOGS, LANGUAGE, Marked())  # taken out again when the test ends
    i18n.language.cache_clear()
    try:
        yield LANGUAGE
    finally:
        i18n.language.cache_clear()


VISIBLE = ("text", "title", "label", "placeholder", "errorMessage", "fallbackText")
# Words of the bot's own English: outside a catalog text, only people's text (the fixtures have none
# of these words), the commands (English in every language) and the bot's name may show.
ENGLISH = re.compile(r"\b(the|your|you|poll|polls|vote|votes|voted|voters|approve|approved|approval|reject|rejected|"
                     r"request|requests|cancel|close|closed|delete|deleted|edit|who|tap|option|options|results|"
                     r"question|details|title|reason|comment|pick|give|send|post|posted|history|due|choose|won|"
                     r"people|nobody|yes|only|this|its|and|of|by|to|for|"
                     # and of its text replies (none is a word of the fixtures' people's text either)
                     r"someone|done|sorry|nothing|waiting|reminder|tie|anonymous|hidden|closes|chat|team|channel|"
                     r"form|button|changed|already|again|please|with|was|not|is|it|or|can|what|how|when|any)\b",
                     re.IGNORECASE)
# Commands and the poll flags stay English in every language.
UNTRANSLATED = {"poll", "approval", "my open polls", "pending approvals", "👋 POLL BOT",
                *(flag for flag, _what in POLL_FLAGS)}


def _visible(node: Any) -> Iterator[str]:
    """Every text a card shows: its texts, titles, labels and placeholders, and a FactSet's values
    (an input's value is what its person typed; a button's data and the refresh are not shown)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in VISIBLE and isinstance(value, str):
                yield value
            elif key == "facts" and isinstance(value, list):
                for fact in value:
                    yield from (fact[part] for part in ("title", "value") if isinstance(fact.get(part), str))
            elif key not in ("data", "refresh"):
                yield from _visible(value)
    elif isinstance(node, list):
        for item in node:
            yield from _visible(item)


_MARKED = re.compile(r"⟦[^⟦⟧]*⟧")
# What may stay English outside the catalog's texts, as a reply can hold it: a poll flag as typed
# (`--max=2`, and a person's own `--geheim`), and a command formatted into a translated sentence
# ("Type `poll` for a new form", the help's "• my open polls — …").
_FLAG = re.compile(r"(?<![\w-])--[\w=:.-]*")
_COMMANDS = re.compile(r"(?<![\w-])(my open polls|pending approvals|poll|approval)(?![\w-])", re.IGNORECASE)
BOT_NAME = "Poll Bot"  # the product's name, the actor of what nobody did (a reminder, an expiry)


def outside_catalog(text: str) -> str:
    """What of this text did not come from the catalog: its marked runs, the flags and commands and
    the bot's name left out."""
    while _MARKED.search(text):
        text = _MARKED.sub(" ", text)
    return _COMMANDS.sub(" ", _FLAG.sub(" ", text.replace(BOT_NAME, " ")))


def english_outside_catalog(text: str) -> list[str]:
    """The English words of this text that bypassed the catalog."""
    return ENGLISH.findall(outside_catalog(text))
