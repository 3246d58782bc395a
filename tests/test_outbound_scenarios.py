"""Delivery toward Teams: faults, refusals, ordering, rate limits, double clicks."""
from __future__ import annotations

import asyncio
import random
from collections import defaultdict

from tests.support import cards, teams
from tests.support.fake_connector import TeamsLimits, error_response
from tests.support.teams import ALEX, MEGAN, PAT

FLAKY = [(429, "Throttled"), (412, "PreconditionFailed"), (502, "ServiceError"), (503, ""), (504, "")]




async def start_poll(bot, chat, text="poll Lunch? | Pizza | Sushi | Tacos"):
    await bot.say(chat, MEGAN, text)
    card_id = bot.connector.calls_of("POST")[-1].activity_id
    return card_id, bot.connector.card(chat.id, card_id)


def final_card(bot, chat, card_id):
    return bot.connector.card(chat.id, card_id)


def people(n):
    return [teams.Person(f"29:voter-{i}", f"Voter {i}") for i in range(n)]


async def test_thirty_percent_faults_still_end_in_the_right_card_and_retries_stay_bounded(make_bot):
    bot = await make_bot(RETRY_ATTEMPTS=8)
    rng = random.Random(20261121)

    def flaky(call):
        if rng.random() < 0.3:
            status, code = rng.choice(FLAKY)
            return error_response(status, code, {"Retry-After": "0.02"} if status == 429 else None)
        return None

    bot.connector.fault = flaky
    chat = teams.channel_thread()
    await bot.say(chat, MEGAN, "poll Lunch? | Pizza | Sushi | Tacos")
    card_id = bot.connector.calls_of("POST")[0].activity_id
    buttons = cards.vote_buttons(final_card(bot, chat, card_id))
    for i, voter in enumerate(people(12)):
        await bot.press(chat, voter, card_id, buttons[["Pizza", "Sushi", "Tacos"][i % 3]])
    await bot.press(chat, MEGAN, card_id, await bot.button(chat, MEGAN, card_id, "Close poll"))

    card = final_card(bot, chat, card_id)
    failed = sum(1 for c in bot.connector.calls if c.status >= 400)
    assert failed >= 5, f"the fault injector did not bite ({failed} of {len(bot.connector.calls)} calls failed)"
    assert cards.buttons(card) == {}, "a closed shared card has no buttons"
    assert cards.option_counts(card) == {"Pizza": "4 votes · 33%", "Sushi": "4 votes · 33%", "Tacos": "4 votes · 33%"}
    longest_failure_run = defaultdict(int)
    run = defaultdict(int)
    for call in bot.connector.calls:
        key = (call.method, call.activity_id if call.method != "POST" else call.conversation_id)
        run[key] = run[key] + 1 if call.status >= 400 else 0
        longest_failure_run[key] = max(longest_failure_run[key], run[key])
    assert max(longest_failure_run.values()) <= 8


async def test_a_failing_call_is_tried_exactly_the_configured_number_of_times(make_bot):
    bot = await make_bot(RETRY_ATTEMPTS=4)
    chat = teams.group_chat()
    card_id, card = await start_poll(bot, chat)
    bot.connector.fault = lambda call: error_response(503, "") if call.method == "PUT" else None

    await bot.press(chat, ALEX, card_id, cards.vote_buttons(card)["Sushi"])

    assert len([c for c in bot.connector.calls if c.method == "PUT"]) == 4
    assert bot.rows("SELECT COUNT(*) FROM outbox") == [(0,)]
    assert bot.rows("SELECT COUNT(*) FROM votes") == [(1,)], "the vote stays recorded"


async def test_errors_that_must_not_be_retried_are_tried_once(make_bot):
    for status, code in [(400, "BadArgument"), (401, "BotNotRegistered"), (413, "MessageSizeTooBig"),
                         (500, "ServiceError"), (404, "ConversationNotFound"), (403, "NotEnoughPermissions")]:
        bot = await make_bot()
        chat = teams.personal_chat(teams.Person(f"29:user-{status}-{code}", "U"))
        bot.connector.fault = lambda call, status=status, code=code: error_response(status, code)
        before = len(bot.connector.calls)
        await bot.say(chat, MEGAN, "help")
        assert len(bot.connector.calls) - before == 1, (status, code)
        assert bot.rows("SELECT COUNT(*) FROM outbox") == [(0,)]


async def test_429_waits_for_retry_after(make_bot):
    bot = await make_bot()
    chat = teams.personal_chat()
    answers = iter([error_response(429, "Throttled", {"Retry-After": "0.4"})])
    bot.connector.fault = lambda call: next(answers, None)

    await bot.say(chat, MEGAN, "help")

    first, second = bot.connector.calls[-2:]
    assert (first.status, second.status) == (429, 200)
    assert second.at - first.at >= 0.4


async def test_bot_removed_from_the_conversation_pauses_posting_until_a_user_writes(make_bot):
    bot = await make_bot()
    chat = teams.group_chat()
    card_id, card = await start_poll(bot, chat)
    bot.connector.fault = lambda call: error_response(403, "BotNotInConversationRoster")

    await bot.press(chat, ALEX, card_id, cards.vote_buttons(card)["Pizza"])
    calls_when_paused = len(bot.connector.calls)
    # Teams reporting an event in the conversation is not a user coming back.
    event = teams.message(chat, ALEX, "", bot.connector.url)
    event.update(type="conversationUpdate", membersAdded=[PAT.account()], text=None)
    assert await bot.post(event) in (200, 201)
    await asyncio.sleep(0.2)
    await bot.settle()

    assert len(bot.connector.calls) == calls_when_paused, "nothing may be posted to a refusing conversation"
    assert bot.rows("SELECT active FROM conversations") == [(0,)]
    assert bot.rows("SELECT kind FROM outbox") == [("update_card",)], "the card update waits"
    assert bot.rows("SELECT COUNT(*) FROM votes") == [(1,)]

    bot.connector.fault = None
    await bot.say(chat, ALEX, "help")
    assert bot.rows("SELECT active FROM conversations") == [(1,)]
    assert cards.option_counts(final_card(bot, chat, card_id))["Pizza"] == "1 vote · 100%"
    assert "Live polls and approvals, right in this chat" in cards.texts(bot.connector.cards(chat.id)[-1])
    assert bot.rows("SELECT COUNT(*) FROM outbox") == [(0,)]


async def test_a_deleted_card_is_forgotten_and_not_updated_again(make_bot):
    bot = await make_bot()
    chat = teams.channel_thread()
    card_id, card = await start_poll(bot, chat)
    del bot.connector.conversations[chat.id][card_id]  # someone deleted the message in Teams

    await bot.press(chat, ALEX, card_id, cards.vote_buttons(card)["Pizza"])
    puts = len(bot.connector.calls_of("PUT"))
    await bot.press(chat, MEGAN, card_id, cards.vote_buttons(card)["Tacos"])

    assert bot.rows("SELECT activity_id FROM cards WHERE kind = 'poll'") == [(None,)]
    assert [c.status for c in bot.connector.calls if c.method == "PUT"] == [404]
    assert len(bot.connector.calls_of("PUT")) == puts == 0
    assert bot.rows("SELECT COUNT(*) FROM votes") == [(2,)]


async def test_a_gcc_tenant_is_retried_once_on_the_gcc_service_url(make_bot, connector):
    bot = await make_bot(GCC_SERVICE_URL=connector.url + "gcc/")
    chat = teams.personal_chat()
    connector.fault = lambda call: None if call.prefix == "gcc/" else error_response(403, "InvalidBotApiHost")

    await bot.say(chat, MEGAN, "help")

    assert [(c.prefix, c.status) for c in connector.calls] == [("", 403), ("gcc/", 200)]
    assert bot.rows("SELECT service_url FROM conversations") == [(connector.url + "gcc/",)]


async def test_a_slow_connector_never_lets_an_older_card_overwrite_a_newer_one(make_bot):
    bot = await make_bot()
    chat = teams.channel_thread()
    card_id, card = await start_poll(bot, chat)
    bot.connector.delay = 0.15
    vote = cards.vote_buttons(card)["Pizza"]

    presses = [bot.post(teams.submit(chat, voter, vote, card_id, bot.connector.url)) for voter in people(15)]
    assert set(await asyncio.gather(*presses)) <= {200, 201}
    await bot.settle()

    shown = [cards.voter_count(c.body["attachments"][0]["content"]) for c in bot.connector.calls if c.method == "PUT"]
    assert shown == sorted(shown), f"an older tally was sent after a newer one: {shown}"
    assert shown[-1] == 15
    assert len(shown) < 15, "queued updates of one card must coalesce"
    assert bot.connector.max_in_flight == 1


async def test_a_burst_of_messages_stays_within_the_thread_budget(make_bot):
    bot = await make_bot()
    bot.connector.limits = TeamsLimits()
    chat = teams.personal_chat()
    await asyncio.gather(*(bot.post(teams.message(chat, MEGAN, f"hello {i}", bot.connector.url)) for i in range(10)))
    await bot.settle()

    assert len(bot.connector.texts(chat.id)) == 10
    assert bot.connector.limits.throttled == 0


async def test_jittered_arrivals_never_meet_a_429(make_bot):
    """Calls reach Teams after a varying delay (a loaded machine, the network): one sent late and
    the next sent early must still arrive a budget apart, since Teams counts on arrival."""
    bot = await make_bot()
    bot.connector.limits = TeamsLimits()
    bot.connector.jitter = 0.3
    chat = teams.personal_chat()
    await asyncio.gather(*(bot.post(teams.message(chat, MEGAN, f"hello {i}", bot.connector.url)) for i in range(12)))
    await bot.settle()

    assert len(bot.connector.texts(chat.id)) == 12
    assert bot.connector.limits.throttled == 0


async def test_a_double_click_counts_once(make_bot):
    bot = await make_bot(DOUBLE_PRESS_SECONDS=1.5)
    chat = teams.channel_thread()
    card_id, card = await start_poll(bot, chat)
    vote = cards.vote_buttons(card)["Sushi"]

    clicks = [teams.submit(chat, ALEX, vote, card_id, bot.connector.url) for _ in range(2)]
    for click in clicks:
        assert await bot.post(click) in (200, 201)
    await bot.settle()

    assert bot.rows("SELECT position FROM votes") == [(1,)]
    assert cards.option_counts(final_card(bot, chat, card_id))["Sushi"] == "1 vote · 100%"


async def test_a_vote_is_acknowledged_while_teams_is_stuck(make_bot):
    bot = await make_bot()
    chat = teams.channel_thread()
    card_id, card = await start_poll(bot, chat)
    bot.connector.gate = asyncio.Event()

    press = teams.submit(chat, ALEX, cards.vote_buttons(card)["Tacos"], card_id, bot.connector.url)
    assert await asyncio.wait_for(bot.post(press), 5) in (200, 201)
    assert bot.rows("SELECT COUNT(*) FROM votes") == [(1,)]
    for _ in range(100):
        if bot.connector.in_flight.get(chat.id):
            break
        await asyncio.sleep(0.01)
    assert bot.connector.in_flight[chat.id] == 1, "the card update is waiting on the connector"

    bot.connector.gate.set()
    await bot.settle()
    assert cards.option_counts(final_card(bot, chat, card_id))["Tacos"] == "1 vote · 100%"


async def test_opening_many_1_1_chats_from_two_chats_at_once_stays_within_one_create_budget(make_bot, connector):
    connector.limits = TeamsLimits()  # counts every create-conversation call in one budget of the bot
    bot = await make_bot()
    approvers = people(6)
    chats = [teams.Chat({**teams.group_chat().conversation, "id": f"19:meeting_group-{n}@thread.v2"},
                        teams.group_chat().channel_data, mention_bot=True) for n in range(2)]
    mentions = " ".join(f"<at>{p.name}</at>" for p in approvers)
    for chat in chats:
        connector.rosters[chat.id] = [p.account() for p in (MEGAN, *approvers)]
    await asyncio.gather(*(bot.post(teams.message(chat, MEGAN, f"approval Budget | {mentions}", connector.url,
                                                  tuple(approvers))) for chat in chats))
    await bot.settle()

    assert len(connector.opened_chats) > 7, "more than one second's budget of 1:1 chats opened"
    assert connector.limits.throttled == 0
