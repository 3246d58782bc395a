"""GET /metrics and GET /healthz on the real app: counters move by what happened, the outbox
gauges come from the database, and /healthz answers 503 in bounded time when the database does not."""
from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest
from prometheus_client.parser import text_string_to_metric_families

from poll_bot.app import DATABASE_ANSWER_SECONDS
from poll_bot.features import polls
from tests.conftest import stop_bot
from tests.support import cards, teams
from tests.support.fake_connector import error_response
from tests.support.teams import ALEX, MEGAN, PAT

OPERATIONS = {"POST": "send", "PUT": "update", "DELETE": "delete", "GET": "members", "CREATE": "create_conversation"}


async def scrape(bot) -> dict[tuple, float]:
    """Every sample: {(name, (("label", "value"), ...)): value}."""
    async with bot.session.get(bot.server.make_url("/metrics")) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = await response.text()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def moved(before: dict, after: dict, name: str) -> dict[tuple, float]:
    """How far each series of `name` moved, by its labels (series that did not move are left out)."""
    keys = {k for k in (*before, *after) if k[0] == name}
    moves = {labels: after.get((name, labels), 0) - before.get((name, labels), 0) for _, labels in keys}
    return {labels: value for labels, value in moves.items() if value}


async def health(bot) -> tuple[int, dict, float]:
    started = time.monotonic()
    async with bot.session.get(bot.server.make_url("/healthz")) as response:
        return response.status, await response.json(), time.monotonic() - started


@pytest.fixture
def group(connector):
    chat = teams.group_chat()
    connector.rosters[chat.id] = [p.account() for p in (MEGAN, ALEX, PAT)]
    return chat


async def test_a_scripted_poll_and_approval_move_each_counter_by_what_happened(bot, group):
    before = await scrape(bot)
    posted = 0

    await bot.say(group, MEGAN, "poll Lunch? | Pizza | Sushi")
    card_id = bot.connector.calls_of("POST")[-1].activity_id
    vote = cards.vote_buttons(bot.connector.card(group.id, card_id))
    throttled = iter([error_response(429, "Throttled", {"Retry-After": "0"})])
    bot.connector.fault = lambda call: next(throttled, None) if call.method == "PUT" else None
    for person, option in ((MEGAN, "Pizza"), (ALEX, "Pizza"), (PAT, "Sushi"), (ALEX, "Sushi")):  # Alex moves
        await bot.press(group, person, card_id, vote[option])
    await bot.press(group, MEGAN, card_id, await bot.button(group, MEGAN, card_id, "Close poll"))
    await bot.post(teams.reaction(group, PAT, card_id, bot.connector.url, added=("like",)))
    await bot.post({**teams.message(group, PAT, "hi", bot.connector.url), "type": "somethingNew"})
    posted += 9  # with the invoke that fetched the creator's view, for its Close button

    text = "approval Laptops | Three <at>Alex Wilber</at> <at>Patti Fernandez</at>"
    assert await bot.post(teams.message(group, MEGAN, text, bot.connector.url, mentioning=(ALEX, PAT))) == 200
    await bot.settle()
    posted += 1
    (request_id,) = bot.rows("SELECT activity_id FROM cards WHERE kind = 'approval' AND conversation_id = ?", group.id)[0]
    request = bot.connector.card(group.id, request_id)
    await bot.press(group, ALEX, request_id, cards.buttons(request)["Confirm approval"], {"comment": ""})
    await bot.press(group, PAT, request_id, cards.buttons(request)["Confirm rejection"], {"reason": "Too dear"})
    posted += 2
    after = await scrape(bot)

    assert moved(before, after, "pollbot_turns_total") == {
        (("type", "message"),): posted - 3, (("type", "messageReaction"),): 1, (("type", "other"),): 1,
        (("type", "invoke"),): 1}
    assert moved(before, after, "pollbot_votes_total") == {(("change", "added"),): 4, (("change", "removed"),): 1}
    assert bot.rows("SELECT COUNT(*) FROM votes") == [(3,)]
    assert moved(before, after, "pollbot_decisions_total") == {
        (("verdict", "approved"),): 1, (("verdict", "rejected"),): 1}
    made = Counter((("operation", OPERATIONS[c.method]), ("status", str(c.status))) for c in bot.connector.calls)
    assert made[(("operation", "update"), ("status", "429"))] == 1 and made[(("operation", "members"), ("status", "200"))]
    assert moved(before, after, "pollbot_outbound_calls_total") == dict(made)
    assert moved(before, after, "pollbot_outbound_throttled_total") == {(): 1}
    assert moved(before, after, "pollbot_messages_duration_seconds_count") == {(): posted}
    assert after[("pollbot_messages_duration_seconds_sum", ())] > 0
    assert after[("pollbot_messages_duration_seconds_bucket", (("le", "+Inf"),))] == posted
    assert after[("pollbot_outbox_depth", (("state", "ready"),))] == 0
    assert after[("pollbot_outbox_depth", (("state", "held"),))] == 0
    assert after[("pollbot_outbox_oldest_age_seconds", ())] == 0


async def test_a_rolled_back_or_redelivered_vote_is_not_counted(bot, group, monkeypatch):
    await bot.say(group, MEGAN, "poll Lunch? | Pizza | Sushi")
    card_id = bot.connector.calls_of("POST")[-1].activity_id
    pizza = cards.vote_buttons(bot.connector.card(group.id, card_id))["Pizza"]
    press = teams.submit(group, ALEX, pizza, card_id, bot.connector.url)
    before = await scrape(bot)

    assert await bot.post(press) == 200
    assert await bot.post(press) == 200  # Teams redelivers the same activity
    await bot.settle()
    once = await scrape(bot)
    assert moved(before, once, "pollbot_votes_total") == {(("change", "added"),): 1}

    def vote_then_fail(uow, turn, pressed):
        uow.polls.add_vote(uow.polls.get(pressed.poll), pressed.option, turn.user.id, turn.user.name)
        raise RuntimeError("disk on fire")
    monkeypatch.setattr(polls, "_vote", vote_then_fail)
    await bot.press(group, PAT, card_id, pizza)
    assert bot.rows("SELECT COUNT(*) FROM votes") == [(1,)]
    assert moved(once, await scrape(bot), "pollbot_votes_total") == {}


async def test_outbox_gauges_are_read_from_the_database_after_a_restart(make_bot, connector, group):
    connector.gate = asyncio.Event()  # Teams does not answer: the card stays in the outbox
    first = await make_bot()
    assert await first.post(teams.message(group, MEGAN, "poll Lunch? | Pizza | Sushi", connector.url)) == 200
    while not connector.calls:
        await asyncio.sleep(0.01)
    await stop_bot(first)
    await asyncio.sleep(0.3)

    second = await make_bot(db=first.db)
    scraped = await scrape(second)
    assert ("pollbot_turns_total", (("type", "message"),)) not in scraped, "a new process counts from zero"
    assert scraped[("pollbot_outbox_depth", (("state", "ready"),))] == 1
    assert scraped[("pollbot_outbox_depth", (("state", "held"),))] == 0
    assert scraped[("pollbot_outbox_oldest_age_seconds", ())] >= 0.3

    connector.fault = lambda call: error_response(403, "BotNotInConversationRoster")
    connector.gate.set()
    await second.settle()
    scraped = await scrape(second)
    assert scraped[("pollbot_outbox_depth", (("state", "ready"),))] == 0
    assert scraped[("pollbot_outbox_depth", (("state", "held"),))] == 1, "kept for when a user writes again"
    assert scraped[("pollbot_outbox_oldest_age_seconds", ())] == 0


async def test_the_lanes_gauge_counts_conversations_being_delivered_to(bot, connector, group):
    connector.gate = asyncio.Event()  # Teams holds every call: each conversation's lane stays busy
    for chat in (group, teams.channel_thread()):
        assert await bot.post(teams.message(chat, MEGAN, "poll Lunch? | Pizza | Sushi", connector.url)) == 200
    while len(connector.calls) < 2:
        await asyncio.sleep(0.01)
    assert (await scrape(bot))[("pollbot_outbound_lanes", ())] == 2

    connector.gate.set()
    await bot.settle()
    assert (await scrape(bot))[("pollbot_outbound_lanes", ())] == 0


async def test_healthz_answers_503_within_its_bound_while_another_connection_locks_the_database(bot):
    status, body, _ = await health(bot)
    assert (status, body) == (200, {"status": "ok", "pending_outbound": 0})

    with bot.db.locked():
        status, body, took = await health(bot)
        assert status == 503
        assert body == {"status": "unavailable",
                        "reason": f"the database did not answer within {DATABASE_ANSWER_SECONDS:g} s"}
        assert DATABASE_ANSWER_SECONDS <= took < DATABASE_ANSWER_SECONDS + 1
        scraped = await scrape(bot)
        assert ("pollbot_outbox_oldest_age_seconds", ()) not in scraped, "no stale outbox gauges"
        assert ("pollbot_messages_duration_seconds_count", ()) in scraped, "the counters still go out"

    status, body, took = await health(bot)
    assert (status, body) == (200, {"status": "ok", "pending_outbound": 0})
    assert took < 1
