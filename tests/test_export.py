"""Export: the creator's "Export results" sends them a signed link in their 1:1 chat; the link
answers the CSV for 24 hours, and nothing (404) without a genuine, current token."""
from __future__ import annotations

import csv
import io
import os
import stat
import time
from urllib.parse import urlsplit

import pytest

from poll_bot.app import LINKS
from poll_bot.signing import EXPORT_SECONDS, ExportLinks, UnusableSecret, server_secret
from tests.support import cards, teams
from tests.support.teams import ALEX, MEGAN, PAT

HANNA = teams.Person("29:1hanna-schmidt-teams-id", "Hanna Schmidt", "a1b2c3d4-0000-4000-8000-000000000011", "de-DE")
# Voters whose names a spreadsheet would run as formulas; with the options "-Sushi", "@Tacos" and
# "+Pasta" every start the export neutralises is covered.
EQUALS = teams.Person("29:1hostile-equals", "=HYPERLINK(\"http://evil.example\",\"click\")")
PLUS = teams.Person("29:1hostile-plus", "+cmd|' /C calc'!A0")
TAB = teams.Person("29:1hostile-tab", "\t=1+1")
RETURN = teams.Person("29:1hostile-return", "\r=1+1")


async def poll_with_votes(bot, chat, flags=""):
    await bot.say(teams.personal_chat(MEGAN), MEGAN, "hello")  # the bot knows Megan's 1:1 chat
    await bot.say(chat, MEGAN, f"poll {flags} Lunch? | Pizza | -Sushi | @Tacos | +Pasta")
    (card_id,), = bot.rows("SELECT activity_id FROM cards WHERE kind = 'poll'")
    vote = cards.vote_buttons(bot.connector.card(chat.id, card_id))
    for person, option in ((ALEX, "Pizza"), (PAT, "-Sushi"), (EQUALS, "@Tacos"), (PLUS, "+Pasta"),
                           (TAB, "Pizza"), (RETURN, "-Sushi")):
        await bot.press(chat, person, card_id, vote[option])
    return card_id


async def fetch(bot, url: str) -> tuple[int, dict, bytes]:
    path = urlsplit(url).path
    async with bot.session.get(bot.server.make_url(path)) as response:
        return response.status, dict(response.headers), await response.read()


def export_card_sent_to(bot, person) -> dict:
    (chat,), = bot.rows("SELECT conversation_id FROM personal_chats WHERE user_id = ?", person.id)
    (card,) = [c for c in bot.connector.cards(chat) if c["actions"] and c["actions"][0]["type"] == "Action.OpenUrl"]
    assert "Lunch?" in cards.texts(card)
    return card


def link_sent_to(bot, person) -> str:
    return export_card_sent_to(bot, person)["actions"][0]["url"]


async def test_the_creator_gets_a_link_to_a_csv_with_one_row_per_vote(bot):
    chat = teams.channel_thread()
    card_id = await poll_with_votes(bot, chat)
    calls = len(bot.connector.calls_of("POST"))

    await bot.press(chat, MEGAN, card_id, await bot.button(chat, MEGAN, card_id, "Export results"))

    assert not [c for c in bot.connector.calls_of("POST")[calls:] if c.conversation_id == chat.id], \
        "the link names who voted: it goes to the creator alone"
    card = export_card_sent_to(bot, MEGAN)
    assert ("A spreadsheet (CSV) with one row per vote: option, voter and time. The link works for 24 hours, "
            "for anyone who has it.") in cards.texts(card)
    url = card["actions"][0]["url"]
    assert url.startswith("http://127.0.0.1:3978/export/"), "POLL_BOT_PUBLIC_URL unset: the bot's own address"
    status, headers, body = await fetch(bot, url)
    assert status == 200 and headers["Content-Type"] == "text/csv; charset=utf-8"
    assert body.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM, so Excel reads names right"
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["Option", "Voter", "Voted at (UTC)"]
    assert [row[:2] for row in rows[1:]] == [
        ["Pizza", "Alex Wilber"], ["Pizza", "'\t=1+1"], ["'-Sushi", "Patti Fernandez"], ["'-Sushi", "'\r=1+1"],
        ["'@Tacos", "'" + EQUALS.name], ["'+Pasta", "'" + PLUS.name]], \
        "cells that would run as formulas are neutralised"
    assert all(row[2].endswith("+00:00") for row in rows[1:])


async def test_an_anonymous_polls_export_has_counts_only(bot):
    chat = teams.group_chat()
    card_id = await poll_with_votes(bot, chat, "--anonymous")

    await bot.press(chat, MEGAN, card_id, await bot.button(chat, MEGAN, card_id, "Export results"))

    card = export_card_sent_to(bot, MEGAN)
    assert ("A spreadsheet (CSV) with one row per option and its number of votes; it does not say who voted. "
            "The link works for 24 hours, for anyone who has it.") in cards.texts(card)
    status, _, body = await fetch(bot, card["actions"][0]["url"])
    assert status == 200
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows == [["Option", "Votes"], ["Pizza", "2"], ["'-Sushi", "2"], ["'@Tacos", "1"], ["'+Pasta", "1"]]


async def test_the_link_to_an_anonymous_polls_counts_says_so_in_german(bot):
    chat = teams.group_chat()
    await bot.say(teams.personal_chat(HANNA), HANNA, "hallo")
    await bot.say(chat, HANNA, "poll --anonymous Lunch? | Pizza | Sushi")
    (card_id,), = bot.rows("SELECT activity_id FROM cards WHERE kind = 'poll'")

    await bot.press(chat, HANNA, card_id, await bot.button(chat, HANNA, card_id, "Ergebnisse exportieren"))

    card = export_card_sent_to(bot, HANNA)
    assert ("Eine Tabelle (CSV) mit einer Zeile je Option und ihrer Anzahl Stimmen; wer abgestimmt hat, steht "
            "nicht darin. Der Link gilt 24 Stunden, für alle, die ihn haben.") in cards.texts(card)


async def test_only_the_creator_may_export(bot):
    chat = teams.channel_thread()
    card_id = await poll_with_votes(bot, chat)
    export = await bot.button(chat, MEGAN, card_id, "Export results")
    assert "Export results" not in cards.buttons(await bot.view(chat, ALEX, card_id))

    await bot.press(chat, ALEX, card_id, export)

    assert bot.refusal(ALEX) == "Only Megan Bowen, who created this poll, can export its results."
    assert not [c for c in bot.connector.cards(teams.personal_chat(MEGAN).id)
                if c["actions"] and c["actions"][0]["type"] == "Action.OpenUrl"]


async def test_a_forged_expired_or_stale_link_shows_nothing(bot):
    chat = teams.channel_thread()
    await poll_with_votes(bot, chat)
    (poll_id,), = bot.rows("SELECT id FROM polls")
    links: ExportLinks = bot.server.app[LINKS]
    good = links.link(poll_id)
    token = good.rsplit("/", 1)[1]
    poll, expires, signature = token.split(".")

    assert (await fetch(bot, good))[0] == 200
    for bad in (f"{int(poll) + 1}.{expires}.{signature}",  # another poll under this signature
                f"{poll}.{int(expires) + 3600}.{signature}",  # a later expiry
                f"{poll}.{expires}.{signature[:-2]}AA",
                links.link(poll_id, now=time.time() - EXPORT_SECONDS - 1),  # expired
                ExportLinks(b"another secret", "http://x").link(poll_id),
                "not-a-token", f"{'9' * 40}.1.x",
                "1.2.%C3%A9", f"{poll}.{expires}.{signature[:-1]}%C3%A9", "%D9%A1.2.x",  # not ASCII
                f"{poll}.{expires}.{signature * 50}", "9" * 5000,  # very long
                f"{poll}..{signature}", f".{expires}.{signature}", f"{poll}.{expires}.", "..", "...", "."):
        status, _, body = await fetch(bot, bad if bad.startswith("http") else f"/export/{bad}")
        assert status == 404 and b"Voter" not in body, bad

    bot.db.execute("DELETE FROM polls")
    assert (await fetch(bot, good))[0] == 404, "a deleted poll has nothing to export"


def test_the_secret_is_generated_once_into_the_data_folder_and_kept_private(tmp_path):
    first = server_secret("", tmp_path / "data")
    assert len(first) >= 32 and server_secret("", tmp_path / "data") == first
    assert stat.S_IMODE(os.stat(tmp_path / "data" / "secret").st_mode) == 0o600
    assert os.listdir(tmp_path / "data") == ["secret"], "no temporary file is left behind"
    assert server_secret("configured", tmp_path / "data") == b"configured"


def test_an_empty_secret_file_is_refused(tmp_path):
    (tmp_path / "secret").write_bytes(b"\n")
    with pytest.raises(UnusableSecret, match=f"the secret file {tmp_path / 'secret'} is empty: set POLL_BOT_SECRET"):
        server_secret("", tmp_path)


@pytest.mark.parametrize("public_url", ["https://polls.contoso.example", "https://polls.contoso.example/"])
def test_links_use_the_public_url(public_url):
    link = ExportLinks(b"k", public_url).link(7)
    assert link.startswith("https://polls.contoso.example/export/7.")
