"""Two bot instances on one PostgreSQL database, pressed at the same moment: the four races the
scale-out issue reproduced with the old queries each stay correct (READ COMMITTED with a per-user
advisory lock for a turn, the poll read FOR SHARE, a request FOR UPDATE)."""
from __future__ import annotations

import asyncio

import pytest

from tests.support import cards, teams
from tests.support.databases import PostgresBackend
from tests.support.teams import ALEX, MEGAN, PAT


@pytest.fixture
def backend(postgres_server):
    """Only PostgreSQL: SQLite serves one process."""
    chosen = PostgresBackend(postgres_server)
    yield chosen
    chosen.close()


async def two_instances(make_bot, **overrides):
    first = await make_bot(**overrides)
    return first, await make_bot(db=first.db, **overrides)


async def poll_on(bot, chat):
    await bot.say(chat, MEGAN, "poll Lunch? | Pizza | Sushi")
    (card_id,), = bot.rows("SELECT activity_id FROM cards WHERE kind = 'poll' ORDER BY id DESC LIMIT 1")
    return card_id, cards.vote_buttons(bot.connector.card(chat.id, card_id))


async def test_one_person_never_gets_two_votes_on_a_single_choice_poll(make_bot):
    a, b = await two_instances(make_bot)
    chat = teams.group_chat()
    card_id, vote = await poll_on(a, chat)
    voters = [teams.Person(f"29:racer-{i}", f"Racer {i}") for i in range(20)]

    await asyncio.gather(*(bot.post(teams.submit(chat, voter, vote[option], card_id, a.connector.url))
                           for voter in voters for bot, option in ((a, "Pizza"), (b, "Sushi"))))

    per_voter = dict(a.rows("SELECT user_id, COUNT(*) FROM votes GROUP BY user_id"))
    assert per_voter and max(per_voter.values()) == 1, per_voter


async def test_a_double_click_split_across_instances_counts_once(make_bot):
    a, b = await two_instances(make_bot, DOUBLE_PRESS_SECONDS=1.5)
    chat = teams.group_chat()
    card_id, vote = await poll_on(a, chat)
    clicks = [teams.submit(chat, ALEX, vote["Pizza"], card_id, a.connector.url) for _ in range(2)]  # two ids

    assert await asyncio.gather(a.post(clicks[0]), b.post(clicks[1])) == [200, 200]

    assert a.rows("SELECT user_id, position FROM votes") == [(ALEX.id, 0)], "counted twice, it would be taken back"


async def test_a_redelivery_split_across_instances_counts_once(make_bot):
    a, b = await two_instances(make_bot)
    chat = teams.group_chat()
    card_id, vote = await poll_on(a, chat)
    press = teams.submit(chat, ALEX, vote["Pizza"], card_id, a.connector.url)  # one id, delivered twice

    assert await asyncio.gather(a.post(press), b.post(press)) == [200, 200]

    assert a.rows("SELECT user_id, position FROM votes") == [(ALEX.id, 0)]
    assert a.rows("SELECT COUNT(*) FROM processed_activities WHERE activity_key = ?", press["id"]) == [(1,)]


async def test_concurrent_decisions_on_two_instances_are_all_recorded_in_order(make_bot, connector):
    a, b = await two_instances(make_bot)
    group = teams.group_chat()
    connector.rosters[group.id] = [p.account() for p in (MEGAN, ALEX, PAT)]
    await a.say(group, MEGAN, "approval Budget | <at>Alex Wilber</at> <at>Patti Fernandez</at>", (ALEX, PAT))
    (card_id,), = a.rows("SELECT activity_id FROM cards WHERE kind = 'approval' AND conversation_id = ?", group.id)
    approve = cards.buttons(a.connector.card(group.id, card_id))["Confirm approval"]

    assert await asyncio.gather(a.post(teams.submit(group, ALEX, {**approve, "comment": "ok"}, card_id, a.connector.url)),
                                b.post(teams.submit(group, PAT, {**approve, "comment": "fine"}, card_id,
                                                    a.connector.url))) == [200, 200]

    assert sorted(a.rows("SELECT user_id, decision FROM approval_approvers")) == sorted(
        [(ALEX.id, "approved"), (PAT.id, "approved")]), "no decision lost"
    assert a.rows("SELECT status FROM approvals") == [("approved",)], "the second decision saw the first"
    events = a.rows("SELECT event, actor_id FROM approval_events ORDER BY id")
    assert events[0] == ("created", MEGAN.id) and sorted(events[1:]) == sorted(
        [("decided", ALEX.id), ("decided", PAT.id)])
    decided_at = [at for (at,) in a.rows("SELECT at FROM approval_events WHERE event = 'decided' ORDER BY id")]
    assert decided_at == sorted(decided_at), "the audit is in the order the decisions were made"
