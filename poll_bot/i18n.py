"""The bot's languages: every text people see comes from the gettext catalogs in
poll_bot/locale/ (English is the source language; each other language is one
messages.po there), in the language of the current turn.

The edge sets the language from the activity's `locale` for the whole turn
(`using`); units of work run in a copy of the caller's context, so `_()` there
speaks the sender's language. Work done outside a turn (the outbound pipeline,
timers) says which language to use with `using` too.

    _("Only %(name)s can close it.", name=poll.creator_name)
    ngettext("%(num)s vote", "%(num)s votes", n)   # num: n, formatted for the language

Every message is %-formatted with its keywords, as Jinja's newstyle gettext does:
write a literal percent sign as %%.
"""
from __future__ import annotations

import gettext
import io
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.dates import format_skeleton, format_time
from babel.numbers import format_decimal, format_percent
from babel.support import Translations

ENGLISH = "en"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
MAX_TAG = 35  # a locale longer than any BCP 47 tag Teams sends is cut before parsing


def _load(language: str) -> gettext.NullTranslations:
    """The catalog as written in the repository (.po, the source of truth), compiled in memory:
    the same for an editable install and a wheel, with no build step. Fuzzy entries are left out."""
    with open(LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po", "rb") as po:
        catalog = read_po(po, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def _catalogs() -> dict[str, gettext.NullTranslations]:
    found = {ENGLISH: gettext.NullTranslations()}
    for po in sorted(LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        language = po.parent.parent.name
        found[language] = _load(language)
    return found


CATALOGS = _catalogs()  # language -> translations, loaded once


@dataclass(frozen=True)
class Language:
    tag: str  # BCP 47, as Teams writes it: "de-DE", "en-US", "en"
    locale: Locale  # for numbers
    translations: gettext.NullTranslations


@lru_cache(maxsize=64)
def language(tag: str | None) -> Language:
    """The language for a Teams locale ("de-DE", "en-us"): its own if the bot speaks it (numbers
    in the locale's own format), else English."""
    try:
        locale = Locale.parse((tag or "")[:MAX_TAG].replace("_", "-"), sep="-")
    except (ValueError, TypeError, UnknownLocaleError):
        locale = None
    if locale is None or locale.language not in CATALOGS:
        locale = Locale(ENGLISH)
    canonical = "-".join(part for part in (locale.language, locale.script, locale.territory) if part)
    return Language(canonical, locale, CATALOGS[locale.language])


def load_number_formats() -> None:
    """Read Babel's number formats for every language at startup: read in the first render
    instead, they took 26 ms of the transaction that the first votes waited on."""
    for tag in (*CATALOGS, "en-US"):
        with using(tag):
            number(1000)
            percent(50)


def first_spoken(accept_language: str) -> str:
    """The first language of an HTTP Accept-Language header ("de-DE,de;q=0.9,en;q=0.8") that the bot
    speaks, else English. (Browsers list them by preference.)"""
    for part in accept_language.split(","):
        tag = part.partition(";")[0].strip()
        if tag.partition("-")[0].lower() in CATALOGS:
            return language(tag).tag
    return ENGLISH


_current: ContextVar[Language] = ContextVar("language", default=language(ENGLISH))


def current() -> str:
    """The tag of the language texts are written in now (stored with what is written for later)."""
    return _current.get().tag


@contextmanager
def using(tag: str | None) -> Iterator[Language]:
    """Write in this language (a Teams locale; English if the bot doesn't speak it) until the block ends."""
    token = _current.set(language(tag))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def N_(message: str) -> str:
    """Marks a text for the catalog where it is defined; `_()` translates it where it is shown."""
    return message


def _(message: str, **variables: Any) -> str:
    return _current.get().translations.gettext(message) % variables


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    chosen = _current.get().translations.ngettext(singular, plural, num)
    return chosen % {"num": number(num), **variables}


def name_or_someone(name: str) -> str:
    """A person's name as shown. Teams sometimes sends none: the bot stores "" and shows "Someone" in
    the reader's language."""
    return name or _("Someone")


def number(value: int) -> str:
    """1234 as people write it in the current language: "1,234", "1.234"."""
    return _format_number(value, _current.get().locale)


def percent(value: int) -> str:
    """42 (a whole percentage) as "42%" or "42 %"."""
    return _format_percent(value, _current.get().locale)


def date_time(moment: datetime) -> str:
    """A time in a text message, in its own time zone: "Nov 21, 11:02 AM CET", "21. Nov., 11:02 CET".
    (Cards leave dates to Adaptive Cards' DATE() and TIME(), in each reader's zone and locale.)"""
    locale = _current.get().locale
    return f"{format_skeleton('MMMd', moment, locale=locale)}, {format_time(moment, 'short', locale=locale)} " \
           f"{moment.strftime('%Z')}"


# Cards show the same small numbers again and again, and Babel takes microseconds for each.
@lru_cache(maxsize=4096)
def _format_number(value: int, locale: Locale) -> str:
    return format_decimal(value, locale=locale)


@lru_cache(maxsize=1024)
def _format_percent(value: int, locale: Locale) -> str:
    return format_percent(value / 100, locale=locale)
