"""Every text the bot sends comes from the catalog: not only its cards (tests/test_card_schema.py)
but its text replies too, driven end to end through the real app on both press paths. Everyone
here writes in the marking pseudo-language (tests/support/catalog.py), and everything the bot says
anywhere is collected: each message posted or updated (its text, its notification summary, its
quick replies, every text on its card) and each invoke's answer (a person's own view, a message,
the 400 of a forged press). Outside the catalog's marked words, no English may show; only people's
own text (the fixtures use none of the English words), the commands, the poll flags and the bot's
name.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest

from poll_bot import payloads
from poll_bot.app import TIMERS
from poll_bot.cards import ADAPTIVE_CARD
from poll_bot.features import prompts
from poll_bot.features.personal import ERROR, MESSAGE
from tests.support import cards, teams
from tests.support.catalog import LANGUAGE, UNTRANSLATED, _visible, english_outside_catalog, mark, marked_language
from tests.support.databases import SqliteBackend
from tests.support.fake_connector import error_response, shown_text

MEGAN, ALEX, PAT, LEE = (replace(person, locale=LANGUAGE) for person in (teams.MEGAN, teams.ALEX, teams.PAT, teams.LEE))
LUNCH = "Mittagessen? | Pizza | Sushi | Tacos"
SEED_ZONE = "America/Los_Angeles"  # the clientInfo time zone of the message seed
FABRIKAM = {"id": "19:fabrikam-team-0001@thread.skype", "name": "Fabrikam Einkauf"}  # a team the bot knows nothing of


@pytest.fixture(params=["submit", "invoke"])
def press_path(request):
    return request.param


@pytest.fixture
def backend(tmp_path):
    """Which texts the bot sends does not depend on its database: SQLite alone."""
    chosen = SqliteBackend(tmp_path)
    yield chosen
    chosen.close()


@pytest.fixture
def marked(monkeypatch):
    with marked_language(monkeypatch) as language:
        yield language


@pytest.fixture
def group(connector):
    """A group chat whose roster the fake connector knows: Megan, Alex, Patti and Lee."""
    chat = teams.group_chat()
    connector.rosters[chat.id] = [p.account() for p in (MEGAN, ALEX, PAT, LEE)]
    return chat


class Heard:
    """Every invoke answer the bot gave: its presser's views, messages and 400s."""

    def __init__(self, bot):
        self.bot = bot
        self.answers: list[dict] = []
        execute = bot.execute

        async def recorded(*args, **kwargs):
            answer = await execute(*args, **kwargs)
            self.answers.append(answer)
            return answer
        bot.execute = recorded

    async def post_invoke(self, activity: dict) -> dict:
        """An invoke as sent, however malformed; its answer."""
        async with self.bot.session.post(self.bot.url, json=activity) as response:
            assert response.status == 200, response.status
            answer = await response.json()
        await self.bot.settle()
        self.answers.append(answer)
        return answer


def everything_said(bot, heard: Heard) -> list[tuple[str, str]]:
    """(where, text) for every text people were shown: in each message the bot posted or updated
    (also those Teams refused), and in each invoke answer."""
    said = []
    for call in bot.connector.calls:
        body = call.body
        if call.method not in ("POST", "PUT") or not isinstance(body, dict) or body.get("type") != "message":
            continue
        where = f"{call.method} {call.conversation_id}"
        if body.get("text"):
            said.append((where, shown_text(body)))
        if body.get("summary"):
            said.append((f"{where} (notification)", body["summary"]))
        for action in body.get("suggestedActions", {}).get("actions", []):
            said += [(f"{where} (quick reply)", action[key]) for key in ("title", "value")]
        for attachment in body.get("attachments", []):
            said += [(f"{where} (card)", text) for text in _visible(attachment["content"])]
    for answer in heard.answers:
        if answer["type"] == ADAPTIVE_CARD:
            said += [("invoke answer (card)", text) for text in _visible(answer["value"])]
        elif answer["type"] == MESSAGE:
            said.append(("invoke answer (message)", answer["value"]))
        else:
            assert answer["type"] == ERROR, answer
            said.append((f"invoke answer ({answer['statusCode']})", answer["value"]["message"]))
    return said


def assert_every_text_from_the_catalog(bot, heard: Heard, expected: tuple[str, ...]) -> None:
    """Nothing the bot said has English outside the catalog's texts; and it said each of `expected`
    (each a run of a catalog text's words between placeholders: the scenario reached what it means to)."""
    said = everything_said(bot, heard)
    bypasses = sorted({(where, text, ", ".join(english_outside_catalog(text))) for where, text in said
                       if text not in UNTRANSLATED and english_outside_catalog(text)})
    assert not bypasses, "English outside the catalog:\n" + "\n".join(
        f"{where}: {text!r} (English: {words})" for where, text, words in bypasses)
    runs = {run for _where, text in said for run in re.findall(r"⟦([^⟦⟧]*)⟧", text)}
    missing = [words for words in expected if words not in runs]
    assert not missing, f"the scenario did not reach these texts: {missing}"


def by_verb(card: dict, verb: str) -> dict:
    """The data of the card's button with this verb."""
    found = [data for data in cards.buttons(card).values() if data and data.get("verb") == verb]
    assert found, (verb, list(cards.buttons(card)))
    return found[0]


async def own_button(bot, chat, person, card_id, verb) -> dict:
    """A button of this person's own view of the card (the creator's Close poll, say)."""
    return by_verb(await bot.view(chat, person, card_id), verb)


def latest(bot, kind: str, chat: teams.Chat) -> str:
    """The message of the newest card of this kind in this chat."""
    (activity_id,), = bot.rows("SELECT activity_id FROM cards WHERE kind = ? AND conversation_id = ? "
                               "ORDER BY id DESC LIMIT 1", kind, chat.id)
    return activity_id


def personal(person) -> teams.Chat:
    return teams.personal_chat(person)


async def say(bot, chat, person, text, mentioning=()) -> str:
    """Post a typed message; its activity id."""
    activity = teams.message(chat, person, text, bot.connector.url, mentioning)
    assert await bot.post(activity) in (200, 201)
    await bot.settle()
    return activity["id"]


async def event(bot, activity: dict) -> None:
    """An event, in the marking language: whatever the bot says in its turn comes from the catalog too
    (the seeds' events say en-US; some of Teams' say no language)."""
    activity = {**activity, "locale": LANGUAGE}
    activity["entities"] = [{**e, "locale": LANGUAGE} if e.get("type") == "clientInfo" else e
                            for e in activity.get("entities") or []]
    assert await bot.post(activity) in (200, 201)
    await bot.settle()


def skipped_local_time() -> str:
    """A local time the seed's time zone skips (its clocks jump forward), within the coming year."""
    zone = ZoneInfo(SEED_ZONE)
    day = datetime.now(zone).date() + timedelta(days=2)
    while True:
        moment = datetime(day.year, day.month, day.day, 2, 30, tzinfo=zone)
        if moment.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None) != moment.replace(tzinfo=None):
            return f"{day.isoformat()}T02:30"
        day += timedelta(days=1)


BAD_FLAGS = ("--max=0", "--max=11", "--max", "--max=2 --max=3", "--closes", "--closes=366d", "--closes=59s",
             "--closes=2026-12-01 17:00", "--max=4", "--multi --max=2", "--multi=yes", "--anonymous=yes",
             "--hidden --hidden", "--closes=0m", "--closes=soon", "--closes=2020-01-01T10:00",
             "--closes=2026-02-30T10:00", "--add-options=all", "--geheim", "—anonymous —max=0")
BAD_POLLS = ("poll Nur eine Frage", "poll | Pizza | Sushi", "poll Mittagessen? | Pizza | pizza",
             "poll " + "Q" * 301 + " | Pizza | Sushi", "poll Mittagessen? | " + "P" * 101 + " | Sushi",
             "poll Mittagessen? | Pizza\tSalami | Sushi", "poll Mittagessen? | " + " | ".join("ABCDEFGHIJK"),
             "poll --max=3 --geheim | Pizza")


@pytest.mark.parametrize("press_path", ["submit"])  # typed: nothing is pressed
async def test_typed_texts_help_lists_and_bad_polls(bot, marked, group, monkeypatch):
    heard = Heard(bot)
    megan = personal(MEGAN)
    await event(bot, teams.installation(megan, MEGAN, "add", bot.connector.url))
    await event(bot, teams.installation(group, MEGAN, "add", bot.connector.url))
    for text in ("hallo", "help", "my open polls", "pending approvals", "cancel #1", "approve", "reject #3 Zu teuer",
                 "details"):
        await bot.say(megan, MEGAN, text)
    await bot.say(group, LEE, "my open polls")  # no 1:1 chat with Lee yet
    for text in ("help", "my open polls", "pending approvals"):
        await bot.say(group, MEGAN, text)
    for flags in (*BAD_FLAGS, f"--closes={skipped_local_time()}"):
        await bot.say(group, MEGAN, f"poll {flags} {LUNCH}")
    for text in BAD_POLLS:
        await bot.say(megan, MEGAN, text)
    for text in ("approval Budget | Drei Laptops", "approval | Drei Laptops <at>Alex Wilber</at>",
                 "approval Budget | <at>Megan Bowen</at>"):
        await bot.say(group, MEGAN, text, mentioning=(ALEX, MEGAN))

    def broken(*_args):
        raise RuntimeError("a bug")
    monkeypatch.setattr(prompts, "_list_approvals", broken)
    await bot.say(megan, MEGAN, "pending approvals")  # the turn fails: sorry, in the sender's language
    assert bot.rows("SELECT COUNT(*) FROM polls") == bot.rows("SELECT COUNT(*) FROM approvals") == [(0,)]

    assert_every_text_from_the_catalog(bot, heard, expected=(
        "I didn't catch that. Pick one below, or type help to see everything I can do.",
        "Hi, I'm Poll Bot: live polls and approvals, right here in Teams. Tap below to start, or try:",
        "Mention me, then one of these:", "Poll options go right after poll, before the question:",
        "You have no open polls. Tap New poll to start one.",
        "Nothing is waiting for your decision, and you have no open requests.",
        "Nothing is waiting for your decision.",
        "That list covers all your chats, so I only show it in our 1:1 chat. Open a chat with me and ask there.",
        ", I sent that to our 1:1 chat.", "I couldn't create that poll. ", "Example: ",
        "I don't know ", " is less than a minute away", " does not exist in ",
        " options (you gave ", "I couldn't create that request. ",
        "You can't approve your own request: pick other approvers.",
        "Sorry, something went wrong on my side, so nothing was changed. Please try again."))


async def test_a_poll_in_a_group_chat_and_everything_done_to_it(bot, marked, group, connector):
    heard = Heard(bot)
    megan, alex = personal(MEGAN), personal(ALEX)
    await bot.say(megan, MEGAN, "hallo")  # the bot knows Megan's 1:1 chat

    # The form: problems shown on it, someone else's press, then posted, then pressed again.
    await bot.say(group, MEGAN, "poll")
    form_id = latest(bot, "poll_form", group)
    post = by_verb(bot.connector.card(group.id, form_id), "poll.create")
    await bot.press(group, MEGAN, form_id, post, {"question": "", "options": "Pizza", "choice_mode": "beide",
                                                  "max_choices": "12", "anonymous": "vielleicht",
                                                  "closes_date": "", "closes_time": "17:00"})
    await bot.press(group, MEGAN, form_id, post, {"question": "Abendessen?", "options": "Suppe\nSalat",
                                                  "choice_mode": "single", "max_choices": "2",
                                                  "closes_date": "2020-01-01", "closes_time": "09:00"})
    await bot.press(group, MEGAN, form_id, post, {"question": "Abendessen?", "options": "Suppe\nSalat",
                                                  "closes_date": "2026-02-30"})
    await bot.press(group, ALEX, form_id, post, {"question": "Abendessen?", "options": "Suppe\nSalat"})
    await bot.press(group, MEGAN, form_id, post, {"question": "Abendessen?", "options": "Suppe\nSalat",
                                                  "choice_mode": "multiple", "max_choices": "2", "hidden": "true",
                                                  "anonymous": "true", "add_options": "true"})
    await bot.press(group, MEGAN, form_id, post, {"question": "Abendessen?", "options": "Suppe\nSalat"})
    assert bot.rows("SELECT COUNT(*) FROM polls") == [(1,)]

    # A poll typed with a roster: votes, edits, options, refusals.
    await bot.say(group, MEGAN, f"poll --max=2 {LUNCH}")
    card_id = latest(bot, "poll", group)
    (poll_id,), = bot.rows("SELECT MAX(id) FROM polls")
    shared = bot.connector.card(group.id, card_id)
    old_votes = cards.vote_buttons(shared)
    edit = await own_button(bot, group, MEGAN, card_id, "poll.edit")
    await bot.press(group, MEGAN, card_id, edit, {"question": "Mittagessen?", "options": "Pizza\nSushi\nTacos\nRamen"})
    await bot.press(group, ALEX, card_id, old_votes["Pizza"])  # replaced by the edit: refused
    await bot.press(group, MEGAN, card_id, edit, {"question": "Mittagessen?", "options": "Pizza"})
    await bot.press(group, ALEX, card_id, edit, {"question": "Mittagessen?", "options": "Pizza\nSushi"})
    vote = cards.vote_buttons(bot.connector.card(group.id, card_id))
    for option in ("Pizza", "Sushi", "Tacos"):  # the third is one too many
        await bot.press(group, ALEX, card_id, vote[option])
    await bot.press(group, PAT, card_id, vote["Ramen"])
    await bot.press(group, MEGAN, card_id, edit, {"question": "Abendessen?", "options": "Suppe\nSalat"})
    await bot.press(group, MEGAN, card_id, edit, {"question": "Mittagessen?",
                                                  "options": "Pizza\nSushi\nTacos\nRamen\nCurry"})
    add = await own_button(bot, group, MEGAN, card_id, "poll.add_option")
    await bot.press(group, ALEX, card_id, add, {"new_option": "Pasta"})
    for new in ("pizza", "", "Pasta\nRisotto", "P" * 101, *(f"Gericht {n}" for n in range(6))):
        await bot.press(group, MEGAN, card_id, add, {"new_option": new})
    await bot.press(group, ALEX, card_id, {"v": 1, "verb": "poll.vote", "poll": "eins", "option": 0})  # forged
    await bot.press(group, ALEX, card_id, {"v": 1, "verb": "poll.explode", "poll": 1})  # no such verb
    await heard.post_invoke({**teams.invoke(group, ALEX, vote["Pizza"], card_id, bot.connector.url),
                             "value": {"action": {"type": "Action.Submit", "data": vote["Pizza"]}}})
    await bot.press(teams.channel_thread(), ALEX, card_id, vote["Sushi"])  # not this conversation's poll
    await bot.press(group, PAT, card_id, {**vote["Sushi"], "option": 99})

    # The creator's controls, pressed by someone else.
    for verb in ("poll.close", "poll.reopen", "poll.remind", "poll.export", "poll.delete"):
        await bot.press(group, ALEX, card_id, payloads.make(verb, poll=poll_id))

    # Remind, twice; export; the lists.
    remind = await own_button(bot, group, MEGAN, card_id, "poll.remind")
    await bot.press(group, MEGAN, card_id, remind)
    await bot.press(group, MEGAN, card_id, remind)
    await bot.press(group, MEGAN, card_id, await own_button(bot, group, MEGAN, card_id, "poll.export"))
    (link,) = [action["url"] for card in bot.connector.cards(megan.id) for action in card.get("actions", [])
               if action["type"] == "Action.OpenUrl"]
    async with bot.session.get(bot.server.make_url(urlsplit(link).path),
                               headers={"Accept-Language": f"{LANGUAGE},de;q=0.5"}) as response:
        assert response.status == 200
        spreadsheet = list(csv.reader(io.StringIO((await response.read()).decode("utf-8-sig"))))
    await bot.say(megan, MEGAN, "my open polls")
    await bot.say(alex, ALEX, "my open polls")
    await bot.say(group, MEGAN, "my open polls")

    # A closing time passed before the timer came.
    past = (datetime.now(timezone.utc) - timedelta(seconds=1)).isoformat(timespec="milliseconds")
    bot.db.execute("UPDATE polls SET closes_at = ? WHERE id = ?", past, poll_id)
    await bot.press(group, LEE, card_id, vote["Sushi"])
    await bot.press(group, MEGAN, card_id, add, {"new_option": "Pasta"})
    await bot.press(group, MEGAN, card_id, edit, {"question": "Mittagessen?", "options": "Pizza\nSushi\nTacos"})
    bot.db.execute("UPDATE polls SET closes_at = NULL WHERE id = ?", poll_id)

    # Closed: its result said; nothing more taken; reopened; deleted (Teams refuses to delete it).
    close = await own_button(bot, group, MEGAN, card_id, "poll.close")
    await bot.press(group, MEGAN, card_id, close)
    await bot.press(group, LEE, card_id, vote["Sushi"])
    await bot.press(group, MEGAN, card_id, add, {"new_option": "Pasta"})
    await bot.press(group, MEGAN, card_id, edit, {"question": "Mittagessen?", "options": "Pizza\nSushi\nTacos"})
    await bot.press(group, MEGAN, card_id, remind)
    await bot.view(group, MEGAN, card_id)
    await bot.press(group, MEGAN, card_id, await own_button(bot, group, MEGAN, card_id, "poll.reopen"))
    delete = await own_button(bot, group, MEGAN, card_id, "poll.delete")
    connector.fault = lambda call: error_response(501, "NotImplemented") if call.method == "DELETE" else None
    await bot.press(group, MEGAN, card_id, delete)
    connector.fault = None
    await bot.press(group, ALEX, card_id, vote["Sushi"])

    # A poll the timer closes, with no votes; one in a 1:1 chat, voted by quick reply.
    await bot.say(group, MEGAN, f"poll --closes=5m --anonymous --hidden {LUNCH}")
    (closes_at,), = bot.rows("SELECT closes_at FROM polls ORDER BY id DESC LIMIT 1")
    await bot.server.app[TIMERS].tick(datetime.fromisoformat(closes_at) + timedelta(seconds=1))
    await bot.settle()
    await bot.say(megan, MEGAN, "poll Mittagessen? | Pizza | Sushi")
    await bot.say(megan, MEGAN, "Pizza")
    await bot.say(megan, MEGAN, "pizza")

    assert_every_text_from_the_catalog(bot, heard, expected=(
        "Pick single or multiple choice.", "Switch the options on or off.",
        "Pick a closing date for the closing time.",
        "To let people choose more than one option, pick “Any number of options”.",
        "Give the closing time as a date and a time.", "That form belongs to someone else. Type `",
        "That form was already used. Type `", "Poll posted",
        ("This poll was edited after your card was shown, so your vote was not recorded. "
         "Vote again on the card as it is now."),
        " options, the most this poll allows: tap one of yours to take it back first.",
        ("People have already voted, so only new options can be added at the end: "
         "keep the question and the options there are as they are."),
        "I didn't add that option. ", "\" is already an option.",
        ", who created this poll, can add options to it.",
        "That button isn't one I recognise, so nothing was changed. Try the latest card.",
        "That poll isn't in this conversation, so nothing was changed.",
        "That option isn't on this poll, so nothing was changed.",
        ", who created this poll, can close it.", ", who created this poll, can reopen it.",
        ", who created this poll, can remind people to vote.",
        ", who created this poll, can export its results.", ", who created this poll, can delete it.",
        " asks you to vote: “", "Nobody is left to remind: everyone has voted or was reminded already.",
        "Download results (CSV)", "Your open polls:",
        "This poll closed at its closing time, so your vote was not recorded.",
        "This poll closed at its closing time, so no option was added.",
        "This poll closed at its closing time, so I kept it as it was.",
        "” is closed.",
        "This poll is closed, so your vote was not recorded.",
        "This poll is closed, so no option was added.",
        "This poll is closed, so I kept it as it was. Reopen it to edit it.",
        "This poll is closed, so nobody was reminded.", "This poll was deleted.",
        "This poll no longer exists, so nothing was changed.",
        "Final result: no votes were cast.", "Tap an option to vote: ", "Your vote: ",
        "You took back your vote for "))
    assert spreadsheet[0] == [mark("Option"), mark("Voter"), mark("Voted at (UTC)")], "in the browser's language"
    bypasses = [cell for row in spreadsheet for cell in row if english_outside_catalog(cell)]
    assert not bypasses, f"English outside the catalog in the spreadsheet: {bypasses}"
    if bot.path == "invoke":
        assert {(a["statusCode"], a["type"]) for a in heard.answers} == {
            (200, ADAPTIVE_CARD), (200, MESSAGE), (400, ERROR)}, "a view, a message (the card is not here), a 400"


async def test_an_edited_or_deleted_poll_command_in_a_1_1_chat(bot, marked):
    heard = Heard(bot)
    megan = personal(MEGAN)
    command = await say(bot, megan, MEGAN, "poll Mittagessen? | Pizza | Sushi")
    url = bot.connector.url
    for text in ("poll Nur eine Frage", "hallo", "poll Abendessen? | Suppe | Salat"):
        await event(bot, teams.edited(megan, MEGAN, command, text, url))
    await bot.say(megan, MEGAN, "Suppe")
    await event(bot, teams.edited(megan, MEGAN, command, "poll Mittagessen? | Pizza | Sushi", url))
    card_id = latest(bot, "poll", megan)
    await bot.press(megan, MEGAN, card_id, await own_button(bot, megan, MEGAN, card_id, "poll.close"))
    await event(bot, teams.edited(megan, MEGAN, command, "poll Mittagessen? | Pizza | Sushi", url))
    await bot.press(megan, MEGAN, card_id, await own_button(bot, megan, MEGAN, card_id, "poll.reopen"))
    vote = cards.vote_buttons(bot.connector.card(megan.id, card_id))
    await event(bot, teams.soft_deleted(megan, MEGAN, command, url))
    await bot.press(megan, MEGAN, card_id, vote["Suppe"])
    await event(bot, teams.undeleted(megan, MEGAN, command, "poll Abendessen? | Suppe | Salat", url))

    assert_every_text_from_the_catalog(bot, heard, expected=(
        "I couldn't apply your edit, so I kept the poll as it was. ",
        "Your edited message isn't a poll any more, so I kept the poll as it was.",
        "People have already voted, so I kept the poll as it was. To change it, close it and post a new one.",
        "That poll is closed, so I kept it as it was.",
        "This poll was withdrawn, so your vote was not recorded."))


async def test_approvals_from_the_command_and_the_form_decided_typed_and_on_the_card(make_bot, marked, group):
    bot = await make_bot(APPROVAL_REMINDER_SECONDS=60)
    heard = Heard(bot)
    megan, alex, lee = (personal(person) for person in (MEGAN, ALEX, LEE))
    await bot.say(alex, ALEX, "hallo")  # the bot knows Alex's 1:1 chat; the others' it opens

    # #1 from the command, to Alex and Patti.
    await bot.say(group, MEGAN, "approval Budget | Drei Laptops <at>Alex Wilber</at> <at>Patti Fernandez</at>",
                  mentioning=(ALEX, PAT))
    first = latest(bot, "approval", group)
    # #2 from the form: its problems first, then in sequence, Alex then Lee, with a due date.
    await bot.say(group, MEGAN, "approval")
    form_id = latest(bot, "approval_form", group)
    send = by_verb(bot.connector.card(group.id, form_id), "approval.create")
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).date().isoformat()
    for inputs in ({"title": "Reise", "approvers": "29:niemand", "policy": "all", "quorum": "1"},
                   {"title": "Reise", "approvers": f"{ALEX.id},{LEE.id}", "policy": "quorum", "quorum": "zwei"},
                   {"title": "Reise", "approvers": f"{ALEX.id},{LEE.id}", "policy": "quorum", "quorum": "3"},
                   {"title": "Reise", "approvers": ALEX.id, "policy": "quorum", "quorum": "2"},
                   {"title": "", "approvers": "", "policy": "jeder", "quorum": "1", "details": "D" * 2001},
                   {"title": "Reise", "approvers": ALEX.id, "policy": "all", "quorum": "1", "due_date": "2020-01-01"},
                   {"title": "Reise", "approvers": ALEX.id, "policy": "all", "quorum": "1", "due_date": "morgen"}):
        await bot.press(group, MEGAN, form_id, send, inputs)
    await bot.press(group, ALEX, form_id, send, {"title": "Reise", "approvers": LEE.id})
    await bot.press(group, MEGAN, form_id, send, {"title": "Reise", "details": "Nach Lissabon",
                                                  "approvers": f"{ALEX.id},{LEE.id}", "policy": "sequence",
                                                  "quorum": "1", "due_date": tomorrow, "due_time": "09:30"})
    await bot.press(group, MEGAN, form_id, send, {"title": "Reise", "approvers": LEE.id})
    second = latest(bot, "approval", group)

    # Refusals on the cards.
    approve, reject = (by_verb(bot.connector.card(group.id, first), verb)
                       for verb in ("approval.approve", "approval.reject"))
    await bot.press(group, LEE, first, approve)
    await bot.press(group, MEGAN, first, approve)
    await bot.press(group, PAT, first, reject, {"reason": " "})
    await bot.press(group, PAT, first, approve, {"comment": "K" * 1001})
    await bot.press(group, ALEX, first, await own_button(bot, group, MEGAN, first, "approval.cancel"))
    await bot.press(group, LEE, second, by_verb(bot.connector.card(group.id, second), "approval.approve"))
    reassign = await own_button(bot, group, PAT, first, "approval.reassign")
    await bot.press(group, PAT, first, reassign, {"reassign_to": "29:niemand"})
    await bot.press(group, PAT, first, reassign, {"reassign_to": ALEX.id})
    await bot.press(group, LEE, first, reassign, {"reassign_to": LEE.id})
    await bot.press(teams.channel_thread(), ALEX, first, approve)
    await bot.press(group, ALEX, first, {"v": 1, "verb": "approval.approve", "approval": 99})

    # Typed in the 1:1 chats: the lists, which request, a reason missing, details, decisions.
    await bot.say(alex, ALEX, "pending approvals")
    await bot.say(megan, MEGAN, "pending approvals")
    await bot.say(alex, ALEX, "approve")
    await bot.say(alex, ALEX, "reject #1")
    await bot.say(alex, ALEX, "approve #99")
    await bot.say(alex, ALEX, "details #2")
    await bot.say(alex, ALEX, mark("Approve") + " #1 Gerne")  # a quick reply, tapped
    await bot.press(group, ALEX, first, approve)
    await bot.say(alex, ALEX, "approve #1")

    # The read receipts that never come: one reminder each; Patti hands her turn to Lee, who rejects.
    later = datetime.now(timezone.utc) + timedelta(minutes=5)
    await bot.server.app[TIMERS].tick(later)
    await bot.settle()
    await bot.press(group, PAT, first, reassign, {"reassign_to": LEE.id})
    await bot.say(lee, LEE, "reject #1 Zu teuer")
    await bot.press(group, ALEX, first, approve)  # it is over

    # #2: Alex approves, Lee's turn; Lee leaves the chat; Megan cancels it.
    await bot.say(alex, ALEX, "approve #2")
    await event(bot, teams.members_changed(group, MEGAN, bot.connector.url, removed=(LEE,)))
    await bot.press(group, MEGAN, second, await own_button(bot, group, MEGAN, second, "approval.cancel"))
    await bot.say(lee, LEE, "approve")

    # #3 expires; #4 and a poll are in a channel that is deleted, then restored.
    await bot.say(group, MEGAN, "approval Bildschirme | <at>Patti Fernandez</at>", mentioning=(PAT,))
    bot.db.execute("UPDATE approvals SET due_at = '2020-01-01T00:00:00.000+00:00' WHERE title = 'Bildschirme'")
    planning = teams.channel_thread("1700000000001", channel=teams.PLANNING, named=False, team=FABRIKAM)
    await bot.say(planning, MEGAN, "approval Stühle | <at>Patti Fernandez</at>", mentioning=(PAT,))
    await bot.say(planning, MEGAN, f"poll {LUNCH}")
    await bot.say(megan, MEGAN, "my open polls")  # a channel whose names the bot was never told
    await bot.server.app[TIMERS].tick(later)
    await bot.settle()
    for change in ("channelDeleted", "channelRestored"):
        await event(bot, teams.team_event(planning, MEGAN, change, bot.connector.url, FABRIKAM, teams.PLANNING))

    # The bot is removed from the group chat: the 1:1 copies of its requests Teams won't delete say so.
    bot.connector.fault = lambda call: error_response(501, "NotImplemented") if call.method == "DELETE" else None
    await event(bot, teams.installation(group, MEGAN, "remove", bot.connector.url))

    assert_every_text_from_the_catalog(bot, heard, expected=(
        "Pick approvers from the list.", "The number who must approve has to be a whole number.",
        "The number who must approve has to be between 1 and ",
        "The number who must approve has to be 1 with one approver.", "Give the request a title.",
        "Pick how approvers decide.", "The due date has to be in the future.",
        "Give the due date as a date and a time.", "Request sent",
        " asks for your approval: ", "Only the listed approvers can decide on this request.",
        "You can't decide on your own request.", "Give a reason when you reject.",
        "Shorten the comment to ", "Only the requester can cancel this request.",
        "'s turn first; you'll be asked when it's yours.", "Pick someone from the list.",
        " is already an approver of this request.",
        "Only an approver whose turn it is can hand it to someone else.",
        "That request isn't in this conversation, so nothing was changed.",
        "This request no longer exists, so nothing was changed.",
        "Waiting for your decision:", "Your requests still open:", "Which request? ",
        "Add your reason, for example: reject #", " isn't waiting for your decision.",
        " (requested by ", "Due ", "You approved #", "You rejected #",
        "You already approved this request.", "Reminder: ", " handed their turn to ",
        "This request is already ", " rejected it: ", "Request rejected: ",
        " but still has to decide on your request “",
        "An approver left: ", "Request cancelled: ", "Nothing is waiting for your decision.",
        "Request expired: ", "” was closed because its channel was deleted.", "Waiting", "a team", "a channel",
        "This request was deleted."))


async def test_an_invoke_from_another_organisation_is_refused_in_the_senders_language(bot, marked, group):
    heard = Heard(bot)
    await bot.say(group, MEGAN, f"poll {LUNCH}")
    card_id = latest(bot, "poll", group)
    forged = teams.invoke(group, ALEX, cards.vote_buttons(bot.connector.card(group.id, card_id))["Pizza"], card_id,
                          bot.connector.url)
    forged["channelData"]["tenant"] = {"id": "another-tenant"}
    forged["conversation"]["tenantId"] = "another-tenant"
    answer = await heard.post_invoke(forged)
    assert answer["statusCode"] == 400
    assert_every_text_from_the_catalog(bot, heard, expected=(
        "This conversation belongs to another organisation.",))
