"""User text inside the bot's text messages is shown literally: Teams renders markdown and HTML
in bot text, so a poll question must never become a link, bold text, a tag or a list there."""
from __future__ import annotations

import html
import re

from tests.support import teams
from tests.support.fake_connector import shown_text
from tests.support.teams import ALEX, MEGAN

# As people type them; Teams delivers typed text HTML-escaped (see `typed`).
HOSTILE = "[Click here](https://example.com) to vote? <b>bold</b> **stars** _under_ `code` # <i>x</i> & &amp;"
HOSTILE_OPTIONS = ("<b>Pizza</b>", "**Sushi**", "[Tacos](http://evil.example)")
# What would still act as markup in the message source once the bot's own <br> line breaks are set aside.
ACTIVE_MARKUP = re.compile(r"[<>*_~`\[\]()#|\\&]|://")


def typed(text: str) -> str:
    return html.escape(text, quote=False)


def assert_literal(message: dict, *expected: str) -> None:
    assert message["textFormat"] == "xml"
    assert message["text"].startswith("<p>") and message["text"].endswith("</p>"), "one HTML block: no markdown"
    source = re.sub(r"&#\d+;", "", message["text"][3:-4].replace("<br>", "\n"))
    assert not ACTIVE_MARKUP.search(source), source
    for text in expected:
        assert text in shown_text(message)


async def test_a_poll_question_is_literal_in_my_open_polls(bot):
    chat, personal = teams.channel_thread(), teams.personal_chat(MEGAN)
    await bot.say(personal, MEGAN, "hello")  # the bot learns Megan's 1:1 chat
    await bot.say(chat, MEGAN, f"poll {typed(HOSTILE)} | Yes | No")
    await bot.say(personal, MEGAN, "my open polls")

    listing = bot.connector.messages(personal.id)[-1]
    assert shown_text(listing).startswith("Your open polls:")
    assert_literal(listing, f"• {HOSTILE} — 0 people voted")


async def test_quick_reply_text_under_a_1to1_poll_is_literal(bot):
    personal = teams.personal_chat(MEGAN)
    await bot.say(personal, MEGAN, typed(f"poll {HOSTILE} | " + " | ".join(HOSTILE_OPTIONS)))

    card, prompt = bot.connector.messages(personal.id)
    assert card.get("attachments") and not prompt.get("attachments")
    assert_literal(prompt, f"Tap an option to vote: {HOSTILE}")
    # Button titles are labels, not markup: they carry the option as typed, and tapping one votes.
    assert [a["title"] for a in prompt["suggestedActions"]["actions"]] == list(HOSTILE_OPTIONS)
    await bot.say(personal, MEGAN, typed(HOSTILE_OPTIONS[2]))
    assert bot.rows("SELECT position, user_id FROM votes") == [(2, MEGAN.id)]


async def test_an_approval_title_is_literal_in_the_approvers_copy_and_in_lists(bot):
    chat = teams.group_chat()
    for person in (MEGAN, ALEX):
        await bot.say(teams.personal_chat(person), person, "hello")
    await bot.say(chat, MEGAN, typed(f"approval {HOSTILE} | details <u>here</u> ") + f"<at>{ALEX.name}</at>", mentioning=(ALEX,))
    alex_chat = teams.personal_chat(ALEX).id
    prompt = bot.connector.messages(alex_chat)[-1]
    assert_literal(prompt, f"Megan Bowen asks for your approval: {HOSTILE}")

    await bot.say(teams.personal_chat(ALEX), ALEX, "details")
    details = bot.connector.messages(alex_chat)[-1]
    assert_literal(details, HOSTILE, "details <u>here</u>")

    await bot.say(teams.personal_chat(ALEX), ALEX, "pending approvals")
    assert_literal(bot.connector.messages(alex_chat)[-1], HOSTILE)
