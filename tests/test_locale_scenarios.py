"""Languages end to end through the real app: each person reads what the bot says to them in the
language of their Teams client (`locale`), German or English, and English for any other; a shared
card keeps the language of the person who created it."""
from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

from poll_bot.cards import ADAPTIVE_CARD
from tests.support import cards, teams
from tests.support.fake_connector import shown_text
from tests.support.teams import ALEX, MEGAN

HANNA = teams.Person("29:1hanna-schmidt-teams-id", "Hanna Schmidt", "a1b2c3d4-0000-4000-8000-000000000011", "de-DE")
LENA = teams.Person("29:1lena-vogel-teams-id", "Lena Vogel", "a1b2c3d4-0000-4000-8000-000000000012", "de-AT")
# Help: each poll flag, English in every language, and what it does in German.
GERMAN_FLAGS = {
    "--multi": "beliebig viele Stimmen",
    "--max=N": "bis zu N Stimmen (--max=1 ist eine Stimme, die Vorgabe)",
    "--anonymous": "niemand, auch du nicht, kann sehen, wer wofür gestimmt hat",
    "--hidden": "Ergebnisse verborgen, bis die Umfrage endet (du siehst sie in deiner eigenen Ansicht)",
    "--closes=2h": "endet nach 30m, 2h oder 3d (mindestens einer Minute) oder zu einem Datum mit Uhrzeit wie "
                   "--closes=2026-12-01T17:00 in deiner Zeitzone, wie Teams sie meldet (sonst UTC); innerhalb "
                   "eines Jahres",
    "--add-options": "alle dürfen Optionen hinzufügen (du immer)",
}
FLAGS_INTRO = "Einstellungen einer Umfrage stehen direkt nach poll, vor der Frage:"


def last(bot, chat):
    message = bot.connector.messages(chat.id)[-1]
    return shown_text(message), [a["title"] for a in message.get("suggestedActions", {}).get("actions", [])]


def stored_language(bot, chat) -> str:
    return bot.rows("SELECT locale FROM conversations WHERE id = ?", chat.id)[0][0]


async def test_german_answers_menu_and_help_and_the_commands_stay_english(bot):
    chat = teams.personal_chat(HANNA)
    await bot.say(chat, HANNA, "hallo")
    text, replies = last(bot, chat)
    assert text == ("Das habe ich nicht verstanden. Wähle unten etwas aus oder tippe help, um alles zu sehen, "
                    "was ich kann.")
    assert replies == ["Neue Umfrage", "Meine offenen Umfragen", "Offene Genehmigungen", "Neue Genehmigung", "Hilfe"]
    assert stored_language(bot, chat) == "de-DE"

    # Agents Playground sends a quick reply's title: in German, it still runs its command.
    await bot.say(chat, HANNA, "Meine offenen Umfragen")
    assert last(bot, chat)[0] == "Du hast keine offenen Umfragen. Tippe auf „Neue Umfrage“, um eine zu starten."

    await bot.say(chat, HANNA, "help")
    lines = last(bot, chat)[0].splitlines()
    assert lines[0] == "Ich mache Live-Umfragen und Genehmigungen. Probiere:"
    assert "• poll — ein Formular für Einfach- oder Mehrfachauswahl" in lines
    assert "• my open polls — deine offenen Umfragen, in allen Chats" in lines
    assert any(line.startswith("• approval Neue Laptops | ") for line in lines)
    assert FLAGS_INTRO in lines
    for flag, what in GERMAN_FLAGS.items():
        assert f"• {flag} — {what}" in lines


@pytest.mark.parametrize("locale", ["en-US", "fr-FR", "tlh", ""])
async def test_english_for_english_and_for_every_language_the_bot_does_not_speak(bot, locale):
    person = replace(MEGAN, locale=locale)
    chat = teams.personal_chat(person)
    await bot.say(chat, person, "help")
    text, replies = last(bot, chat)
    assert text.startswith("I run live polls and approvals. Try:\n• poll Lunch on Friday? | Pizza")
    assert replies[:3] == ["New poll", "My open polls", "Pending approvals"]
    assert stored_language(bot, chat) == ("en-US" if locale == "en-US" else "en" if locale else "")


async def test_the_help_card_in_a_group_chat_is_in_the_askers_language(bot):
    chat = teams.group_chat()
    await bot.say(chat, HANNA, "help")
    card = bot.connector.cards(chat.id)[-1]
    assert card["fallbackText"] == ("Poll Bot macht Live-Umfragen und Genehmigungen. Erwähne mich mit help, "
                                    "um zu sehen, was ich kann.")
    assert "Erwähne mich, dann eins davon:" in cards.texts(card)
    assert FLAGS_INTRO in cards.texts(card)
    facts = {fact["title"]: fact["value"] for node in card["body"] if node["type"] == "FactSet"
             for fact in node["facts"]}
    assert GERMAN_FLAGS.items() <= facts.items()


async def test_a_bad_request_is_explained_in_the_senders_language(bot):
    chat = teams.group_chat()
    await bot.say(chat, HANNA, "approval Budget | für Q3")
    text = last(bot, chat)[0]
    assert text.startswith("Ich konnte die Anfrage nicht erstellen. Wähle 1 bis 20 genehmigende Personen "
                           "(du hast 0 gewählt).\nTippe nur approval für ein Formular")
    assert bot.rows("SELECT COUNT(*) FROM approvals") == [(0,)]


async def test_an_approval_speaks_to_each_person_in_their_own_language(bot):
    group = teams.group_chat()
    alex_chat, lena_chat, hanna_chat = (teams.personal_chat(p) for p in (ALEX, LENA, HANNA))
    await bot.say(alex_chat, ALEX, "hello")  # the bot knows Alex's language; Lena's not yet

    await bot.say(group, HANNA, "approval Budget | Drei Laptops <at>Alex Wilber</at> <at>Lena Vogel</at>",
                  mentioning=(ALEX, LENA))
    (shared_id,), = bot.rows("SELECT activity_id FROM cards WHERE kind = 'approval' AND conversation_id = ?", group.id)
    shared = bot.connector.card(group.id, shared_id)
    assert cards.texts(shared)[0] == "⏳ GENEHMIGUNG · AUSSTEHEND"
    assert {"Genehmigung bestätigen", "Ablehnung bestätigen"} <= set(cards.buttons(shared))
    assert "Hanna Schmidt hat um Genehmigung gebeten" in cards.texts(shared)

    # Alex's copy and its quick replies are in his language; Lena's in the request's until she writes.
    assert last(bot, alex_chat) == ("Hanna Schmidt asks for your approval: Budget",
                                    ["Approve #1", "Reject #1", "Details #1"])
    assert cards.texts(bot.connector.cards(alex_chat.id)[-1])[0] == "⏳ APPROVAL · PENDING"
    assert last(bot, lena_chat) == ("Hanna Schmidt bittet dich um Genehmigung: Budget",
                                    ["Genehmigen #1", "Ablehnen #1", "Details #1"])

    # Alex approves on his copy (Action.Execute): his own view answers in English.
    copy_id = bot.rows("SELECT activity_id FROM cards WHERE conversation_id = ?", alex_chat.id)[0][0]
    answer = await bot.execute(alex_chat, ALEX, copy_id, cards.buttons(bot.connector.card(alex_chat.id, copy_id))
                               ["Confirm approval"])
    assert answer["type"] == ADAPTIVE_CARD
    assert any(text.startswith("✅ Approved · ") for text in cards.texts(answer["value"]))

    # Lena taps her German quick reply, with a reason: a German confirmation.
    await bot.say(lena_chat, LENA, "Ablehnen #1 Zu teuer")
    assert last(bot, lena_chat)[0] == "Du hast #1 „Budget“ abgelehnt."

    # Hanna hears the outcome in German; the shared card says it in German.
    assert last(bot, hanna_chat)[0] == "Deine Anfrage „Budget“ wurde abgelehnt. Lena Vogel hat sie abgelehnt: Zu teuer"
    shared = bot.connector.card(group.id, shared_id)
    assert cards.texts(shared)[0] == "❌ GENEHMIGUNG · ABGELEHNT"
    assert "Lena Vogel hat abgelehnt: Zu teuer" in cards.texts(shared)
    assert bot.rows("SELECT status FROM approvals") == [("rejected",)]


async def test_a_german_poll_counts_in_german_and_each_voter_sees_their_own_language(bot):
    group = teams.group_chat()
    await bot.say(group, HANNA, "poll Mittagessen? | Pizza | Sushi | Tacos")
    (card_id,), = bot.rows("SELECT activity_id FROM cards WHERE kind = 'poll'")
    shared = bot.connector.card(group.id, card_id)
    assert shared["fallbackText"] == "Umfrage: Mittagessen?"
    assert cards.texts(shared)[0] == "📊 UMFRAGE · EINE AUSWAHL"
    assert cards.option_counts(shared) == {"Pizza": "0 Stimmen", "Sushi": "0 Stimmen", "Tacos": "0 Stimmen"}

    vote = cards.vote_buttons(shared)
    for person, option in ((HANNA, "Pizza"), (LENA, "Sushi")):
        await bot.press(group, person, card_id, vote[option])
    alex_view = (await bot.execute(group, ALEX, card_id, vote["Sushi"]))["value"]

    # Alex (en-US) sees his own view in English; the shared card stays in its creator's German.
    assert cards.option_counts(alex_view)["Sushi"] == "2 votes · 67%"
    assert cards.my_votes(alex_view) == ["Sushi"]
    shared = bot.connector.card(group.id, card_id)
    assert cards.option_counts(shared) == {"Pizza": "1 Stimme · 33\xa0%", "Sushi": "2 Stimmen · 67\xa0%",
                                           "Tacos": "0 Stimmen · 0\xa0%"}
    assert "3 Personen haben abgestimmt" in cards.texts(shared)

    # Hanna closes it from her own (German) view.
    await bot.press(group, HANNA, card_id, await bot.button(group, HANNA, card_id, "Umfrage beenden"))
    assert "Sushi hat gewonnen, mit 2 von 3 Stimmen" in cards.texts(bot.connector.card(group.id, card_id))


async def test_a_bad_poll_is_explained_in_german_with_a_german_example(bot):
    chat = teams.personal_chat(HANNA)
    await bot.say(chat, HANNA, "poll Nur eine Frage")
    assert last(bot, chat)[0] == ("Ich konnte die Umfrage nicht erstellen. Gib 2 bis 10 Optionen an (du hast 0 "
                                  "angegeben).\nBeispiel: poll Mittagessen am Freitag? | Pizza | Sushi | Tacos")
    assert bot.rows("SELECT COUNT(*) FROM polls") == [(0,)]


# The words of the English reply to an unknown flag, its flag names and the command left out.
ENGLISH_REPLY_WORDS = re.compile(r"\b(I|couldn't|create|that|don't|know|the|flags|are|or|a|date|and|time|example|"
                                 r"lunch|on|friday)\b", re.IGNORECASE)


async def test_an_unknown_flag_is_explained_in_german_and_only_the_flag_names_stay_english(bot):
    chat = teams.personal_chat(HANNA)
    await bot.say(chat, HANNA, "poll --geheim Mittagessen? | Pizza | Sushi")
    reply = last(bot, chat)[0]
    assert reply.splitlines()[0] == (
        "Ich konnte die Umfrage nicht erstellen. --geheim kenne ich nicht. Die Schalter sind --multi, --max=N, "
        "--anonymous, --hidden, --closes=2h (oder ein Datum mit Uhrzeit), --add-options.")
    assert ENGLISH_REPLY_WORDS.findall(re.sub(r"--[\w=-]+|\bpoll\b", "", reply)) == []
    assert bot.rows("SELECT COUNT(*) FROM polls") == [(0,)]


async def test_a_person_teams_names_no_one_is_jemand_to_german_readers(bot):
    nameless = teams.Person("29:1nameless-teams-id", "", "a1b2c3d4-0000-4000-8000-000000000013", "de-DE")
    group = teams.group_chat()
    activity = teams.message(group, nameless, "poll Mittagessen? | Pizza | Sushi", bot.connector.url)
    del activity["from"]["name"]
    assert await bot.post(activity) == 200
    await bot.settle()
    assert bot.rows("SELECT creator_name FROM polls") == [("",)], "no English fallback is stored"
    (card_id,), = bot.rows("SELECT activity_id FROM cards WHERE kind = 'poll'")
    await bot.press(group, nameless, card_id, cards.vote_buttons(bot.connector.card(group.id, card_id))["Sushi"])

    shared = bot.connector.card(group.id, card_id)
    assert "Gefragt von Jemand" in cards.texts(shared)
    (who_voted,) = [action["card"] for action in shared["actions"] if action["title"] == "Wer abgestimmt hat"]
    assert "Jemand" in cards.texts(who_voted)
    await bot.press(group, HANNA, card_id, await bot.button(group, nameless, card_id, "Umfrage beenden"))
    assert bot.told(HANNA)[-1] == "Nur Jemand hat diese Umfrage erstellt und kann sie beenden."
    assert "Someone" not in json.dumps([shared, bot.connector.messages(group.id)], ensure_ascii=False)


@pytest.mark.parametrize("accept,header", [
    ("de-DE,de;q=0.9,en;q=0.8", ["Option", "Person", "Abgestimmt am (UTC)"]),
    ("fr-FR,fr;q=0.9", ["Option", "Voter", "Voted at (UTC)"]),
])
async def test_the_results_spreadsheet_speaks_the_browsers_language(bot, accept, header):
    group = teams.group_chat()
    await bot.say(teams.personal_chat(HANNA), HANNA, "hallo")
    await bot.say(group, HANNA, "poll Mittagessen? | Pizza | Sushi")
    (card_id,), = bot.rows("SELECT activity_id FROM cards WHERE kind = 'poll'")
    await bot.press(group, HANNA, card_id, await bot.button(group, HANNA, card_id, "Ergebnisse exportieren"))
    link = next(c for c in bot.connector.cards(teams.personal_chat(HANNA).id) if c["actions"][0]["type"] ==
                "Action.OpenUrl")
    assert link["fallbackText"] == "Ergebnisse der Umfrage: Mittagessen?"
    path = link["actions"][0]["url"].split("3978", 1)[1]
    async with bot.session.get(bot.server.make_url(path), headers={"Accept-Language": accept}) as response:
        body = (await response.read()).decode("utf-8-sig")
    assert body.splitlines()[0].split(",") == header
