"""The catalogs: every text the code and the templates mark for translation is translated in
every language the bot ships, with the same placeholders; and the language comes from the locale."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from poll_bot import i18n

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%%")
LANGUAGES = sorted(p.name for p in (ROOT / "poll_bot" / "locale").iterdir() if p.is_dir())


def extracted() -> dict[str, str | tuple[str, ...]]:
    """msgid -> the message as extracted (a tuple of singular and plural for ngettext), as `make messages` does."""
    with open(ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = {}
    for folder in ("poll_bot", "templates"):
        for _file, _line, message, _comments, _context in extract_from_dir(
                ROOT / folder, method_map, options_map, keywords=DEFAULT_KEYWORDS):
            found[message[0] if isinstance(message, tuple) else message] = message
    return found


def catalog(language: str):
    with open(ROOT / "poll_bot" / "locale" / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=language)


def placeholders(text: str) -> list[str]:
    return sorted(name for name in PLACEHOLDER.findall(text) if name)


def test_german_ships():
    assert LANGUAGES == ["de"]
    assert set(i18n.CATALOGS) == {"en", "de"}


def test_extraction_finds_the_texts_of_code_and_templates():
    found = extracted()
    assert "This conversation belongs to another organisation." in found  # poll_bot/bot.py
    assert "This poll was deleted." in found  # templates/deleted.json.j2


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_is_translated_with_the_same_placeholders(language):
    messages, translated = extracted(), catalog(language)
    problems = []
    for msgid, message in sorted(messages.items()):
        entry = translated.get(msgid)
        if entry is None:
            problems.append(f"missing: {msgid!r}")
            continue
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if entry.fuzzy or not all(strings):
            problems.append(f"{'fuzzy' if entry.fuzzy else 'untranslated'}: {msgid!r}")
        if isinstance(message, tuple) != isinstance(entry.id, tuple):
            problems.append(f"plural forms differ from the code's: {msgid!r}")
        sources = message if isinstance(message, tuple) else (message,)
        for string in strings:
            # Every placeholder of the message, none other (a plural's singular may leave out num).
            if set(placeholders(string)) - set(placeholders(sources[-1])) or (
                    set(placeholders(sources[-1])) - {"num"} - set(placeholders(string))):
                problems.append(f"placeholders differ: {msgid!r} -> {string!r}")
            if "%" in PLACEHOLDER.sub("", string):
                problems.append(f"a lone % (write %%): {string!r}")
    unused = sorted(m.id if isinstance(m.id, str) else m.id[0] for m in translated if m.id and
                    (m.id if isinstance(m.id, str) else m.id[0]) not in messages)
    problems += [f"no longer used (run make messages): {msgid!r}" for msgid in unused]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("tag,expected", [
    ("de-DE", "de-DE"), ("de", "de"), ("de-ch", "de-CH"), ("en-US", "en-US"), ("en-us", "en-US"),
    ("fr-FR", "en"), ("xx-YY", "en"), ("", "en"), (None, "en"), ("de-DE-x-\u202e", "en"), ("../../etc", "en"),
    ("de-" + "x" * 100_000, "de"), ("a" * 100_000, "en"),
])
def test_the_language_is_the_locale_s_if_the_bot_speaks_it_else_english(tag, expected):
    assert i18n.language(tag).tag == expected


def test_texts_and_numbers_follow_the_language_of_the_block():
    with i18n.using("de-DE"):
        assert i18n._("This conversation belongs to another organisation.") == (
            "Diese Unterhaltung gehört zu einer anderen Organisation.")
        assert (i18n.number(1234), i18n.percent(42)) == ("1.234", "42\xa0%")
        with i18n.using("fr-FR"):
            assert i18n.current() == "en"
            assert (i18n.number(1234), i18n.percent(42)) == ("1,234", "42%")
        assert i18n.current() == "de-DE"
    assert i18n.current() == "en"
    with i18n.using("de-CH"):
        assert i18n.number(1234) == "1’234"
