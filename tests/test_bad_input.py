"""Bodies the bot cannot use get 400 with a short reason, never a 500: one test per cause
the mutated-activity fuzzing found (tests/test_fuzz.py runs thousands more)."""
from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from poll_bot import payloads
from poll_bot.payloads import PollVote
from tests.support import cards, teams
from tests.support.teams import ALEX, MEGAN, PAT

CHAT = teams.group_chat()
UNKNOWN_BUTTON = "That button isn't one I recognise, so nothing was changed. Try the latest card."


@pytest.fixture(autouse=True)
def logs(caplog):
    caplog.set_level(logging.WARNING)
    yield caplog
    failures = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not failures, [r.getMessage() for r in failures]


def every_row(bot) -> dict[str, list[tuple]]:
    tables = bot.db.tables()
    return {table: sorted(bot.rows(f"SELECT * FROM {table}"), key=repr) for table in tables}


async def answer(bot, body: bytes | dict) -> tuple[int, Any]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()  # ensure_ascii: "\ud800" stays an escape
    async with bot.session.post(bot.url, data=data, headers={"Content-Type": "application/json"}) as response:
        return response.status, await response.json(content_type=None) if await response.read() else None


async def refused(bot, body: bytes | dict) -> str:
    """Post it: 400, nothing stored or sent. The reason given."""
    stored, calls = every_row(bot), len(bot.connector.calls)
    status, reply = await answer(bot, body)
    await bot.settle()
    assert status == 400, (status, reply)
    assert every_row(bot) == stored
    assert len(bot.connector.calls) == calls
    return reply["error"]


@pytest.fixture
async def voted(bot):
    """A poll in the group chat with Alex's vote for Pizza: (bot, the card's id, its vote buttons)."""
    await bot.say(CHAT, MEGAN, "poll Lunch? | Pizza | Sushi")
    card_id = bot.rows("SELECT activity_id FROM cards WHERE kind = 'poll'")[0][0]
    buttons = cards.vote_buttons(bot.connector.card(CHAT.id, card_id))
    await bot.press(CHAT, ALEX, card_id, buttons["Pizza"])
    return bot, card_id, buttons


def typed(bot, text: str = "help") -> dict:
    return teams.message(CHAT, PAT, text, bot.connector.url)


async def test_deeply_nested_json_is_refused(voted):
    bot, card_id, buttons = voted
    deep_value = teams.submit(CHAT, PAT, {"v": 1}, card_id, bot.connector.url)
    deep_value["value"] = "NEST"
    text = json.dumps(deep_value)
    for depth in (70, 100_000):  # past the bot's limit; past Python's recursion limit
        nested = text.replace('"NEST"', "[" * depth + "1" + "]" * depth).encode()
        assert await refused(bot, nested) == "malformed activity: nested too deeply"

    await bot.press(CHAT, PAT, card_id, buttons["Sushi"])
    assert cards.option_counts(bot.connector.card(CHAT.id, card_id)) == {"Pizza": "1 vote · 50%", "Sushi": "1 vote · 50%"}


@pytest.mark.parametrize("field", ["timestamp", "localTimestamp"])
@pytest.mark.parametrize("value", ["yesterday", "2024-02-30T10:00:00Z", "+275760-09-13T00:00:00Z", 1700000000, [], ""])
async def test_a_malformed_timestamp_is_refused(bot, field, value):
    assert await refused(bot, {**typed(bot), field: value}) == f"malformed activity: {field} is not a timestamp"


MALFORMED_ACTIONS = {
    "no value": None,
    "text": "poll.vote",
    "list": [{"action": {"type": "Action.Execute"}}],
    "action as text": {"action": "poll.vote"},
    "no action": {"trigger": "manual"},
    "Action.Submit": {"action": {"type": "Action.Submit", "data": {}}},
    "data as list": {"action": {"type": "Action.Execute", "verb": "poll.vote", "data": [1, 2]}},
    "verb as number": {"action": {"type": "Action.Execute", "verb": 7}},
}


def card_action(bot, card_id: str, value: Any, name: str = "adaptiveCard/action") -> dict:
    activity = teams.submit(CHAT, PAT, {}, card_id, bot.connector.url)
    activity.update(type="invoke", name=name, value=value)
    return activity


@pytest.mark.parametrize("case", list(MALFORMED_ACTIONS))
async def test_an_adaptive_card_action_with_a_malformed_value_gets_a_bad_request_invoke_answer(voted, case):
    bot, card_id, _ = voted
    votes, calls = bot.rows("SELECT * FROM votes"), len(bot.connector.calls)

    status, reply = await answer(bot, card_action(bot, card_id, MALFORMED_ACTIONS[case]))
    await bot.settle()

    assert status == 200
    assert reply["statusCode"] == 400 and reply["type"] == "application/vnd.microsoft.error"
    assert reply["value"] == {"code": "BadRequest", "message": UNKNOWN_BUTTON}, "the reason is for the log alone"
    assert bot.rows("SELECT * FROM votes") == votes
    assert len(bot.connector.calls) == calls


async def test_a_malformed_adaptive_card_action_is_refused_in_the_pressers_language_and_logged(voted, logs):
    bot, card_id, _ = voted
    activity = card_action(bot, card_id, MALFORMED_ACTIONS["Action.Submit"])
    activity["locale"] = "de-DE"

    status, reply = await answer(bot, activity)

    german = "Diese Schaltfläche kenne ich nicht, daher wurde nichts geändert. Versuch es mit der neuesten Karte."
    assert status == 200 and reply["value"] == {"code": "BadRequest", "message": german}
    assert "not an Action.Execute" in logs.text


async def test_other_invokes_are_not_implemented_and_a_well_formed_action_votes(voted):
    bot, card_id, buttons = voted
    for name, value in (("task/fetch", [1, 2]), ("composeExtension/query", "text"), (None, 5)):
        assert (await answer(bot, card_action(bot, card_id, value, name)))[0] == 501
    assert bot.rows("SELECT user_id, position FROM votes") == [(ALEX.id, 0)]

    execute = {"action": {"type": "Action.Execute", "verb": "poll.vote", "data": buttons["Sushi"]}, "trigger": "manual"}
    status, reply = await answer(bot, card_action(bot, card_id, execute))
    assert status == 200 and reply["statusCode"] == 200 and reply["type"] == "application/vnd.microsoft.card.adaptive"
    assert cards.my_votes(reply["value"]) == ["Sushi"]
    assert sorted(bot.rows("SELECT user_id, position FROM votes")) == sorted([(ALEX.id, 0), (PAT.id, 1)])


WRONG_TYPES = {
    "entities as text": ("entities", "mention"),
    "an entity as a number": ("entities", [5]),
    "a null entity": ("entities", [None]),
    "mentioned as text": ("entities", [{"type": "mention", "text": "<at>Alex</at>", "mentioned": "Alex"}]),
    "a mentioned id as number": ("entities", [{"type": "mention", "mentioned": {"id": 5, "name": "Alex"}}]),
    "a time zone as list": ("entities", [{"type": "clientInfo", "timezone": ["UTC"]}]),
    "channelData as text": ("channelData", "tenant"),
    "tenant as text": ("channelData", {"tenant": "72f988bf"}),
    "tenant id as list": ("channelData", {"tenant": {"id": ["72f988bf"]}}),
    "team as list": ("channelData", {"tenant": {"id": "t"}, "team": ["19:team"]}),
    "channel as number": ("channelData", {"channel": 3}),
    "eventType as object": ("channelData", {"eventType": {"name": "teamRenamed"}}),
    "recipient as text": ("recipient", "28:bot"),
    "recipient id as list": ("recipient", {"id": ["28:bot"]}),
    "from id empty": ("from", {"id": "", "name": "Nobody"}),
    "conversation id as number": ("conversation", {"id": 19}),
    "conversation id a dot segment": ("conversation", {"id": ".."}),
    "conversation id too long": ("conversation", {"id": "19:" + "x" * 10_000}),
    "isGroup as text": ("conversation", {"id": CHAT.id, "isGroup": "yes"}),
    "membersAdded as object": ("membersAdded", {"id": "29:x"}),
    "text as number": ("text", 42),
    "a null reaction": ("reactionsAdded", [None]),
    "serviceUrl without host": ("serviceUrl", "http://"),
    "serviceUrl with a bad port": ("serviceUrl", "https://smba.trafficmanager.net:99999/"),
    "serviceUrl not in ASCII": ("serviceUrl", "https://smba.trafficmanager.net\u202e/amer/"),
}


@pytest.mark.parametrize("case", list(WRONG_TYPES))
async def test_fields_of_the_wrong_type_or_unusable_are_refused(bot, case):
    field, value = WRONG_TYPES[case]
    assert (await refused(bot, {**typed(bot), field: value})).startswith("malformed activity: ")


async def test_ids_beyond_sqlite_integers_are_refused(voted):
    bot, card_id, buttons = voted
    for change in ({"poll": 2**63}, {"option": 2**64}, {"poll": -2**63 - 1}, {"option": 10**30}):
        press = teams.submit(CHAT, PAT, {**buttons["Sushi"], **change}, card_id, bot.connector.url)
        assert await refused(bot, press) == "malformed activity: integer out of range"
    assert bot.rows("SELECT user_id, position FROM votes") == [(ALEX.id, 0)]


def test_payload_ids_are_bounded_to_sqlite_integers():
    vote = {"v": 1, "verb": "poll.vote", "option": 0}
    assert payloads.parse({**vote, "poll": 2**63 - 1}, PollVote) == PollVote(poll=2**63 - 1, option=0)
    with pytest.raises(payloads.PayloadError):
        payloads.parse({**vote, "poll": 2**63}, PollVote)


@pytest.mark.parametrize("where", ["text", "name", "key"])
async def test_a_lone_surrogate_is_refused(bot, where):
    activity = typed(bot, "poll Lunch? | Pizza | Sushi")
    if where == "text":
        activity["text"] += " \ud800"
    elif where == "name":
        activity["from"]["name"] = "Patti \udfff"
    else:
        activity["channelData"]["\udc00"] = 1
    assert await refused(bot, activity) == "malformed activity: text is not valid Unicode"

    await bot.say(CHAT, PAT, "poll Pizza 🍕? | Yes | No")  # a pair written as escapes is one character
    assert bot.rows("SELECT question FROM polls") == [("Pizza 🍕?",)]


async def test_a_bot_name_with_regex_characters_is_still_stripped_from_commands(bot):
    activity = teams.message(CHAT, PAT, "poll Tea? | Yes | No", bot.connector.url)
    activity["text"] = activity["text"].replace(teams.BOT["name"], "Poll (Bot")
    activity["entities"][0].update(text="<at>Poll (Bot</at>", mentioned={"id": teams.BOT["id"], "name": "Poll (Bot"})
    assert (await answer(bot, activity))[0] == 200
    assert bot.rows("SELECT question FROM polls") == [("Tea?",)]


async def test_a_typed_request_id_longer_than_any_integer_gets_an_answer(bot):
    await bot.say(teams.personal_chat(PAT), PAT, "approve #" + "9" * 5000)
    assert bot.connector.texts(teams.personal_chat(PAT).id) == [
        "Request #9999999999999999999 isn't waiting for your decision."]


async def test_only_the_creator_edits_or_deletes_the_message_that_created_a_poll(bot):
    chat = teams.personal_chat()
    command = teams.message(chat, MEGAN, "poll Lunch? | Pizza | Sushi", bot.connector.url)
    assert (await answer(bot, command))[0] == 200
    await bot.settle()
    stored = bot.rows("SELECT question, label, withdrawn FROM polls JOIN poll_options ON poll_id = id")

    url = bot.connector.url
    for forged in (teams.edited(chat, ALEX, command["id"], "poll Dinner? | Soup | Salad", url),
                   teams.soft_deleted(chat, ALEX, command["id"], url)):
        assert (await answer(bot, forged))[0] == 200
        await bot.settle()

    assert bot.rows("SELECT question, label, withdrawn FROM polls JOIN poll_options ON poll_id = id") == stored
    assert len(bot.connector.cards(chat.id)) == 1
