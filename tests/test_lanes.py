"""Outbound delivery with several instances of the real app on one PostgreSQL database, as
Teams (the fake connector) sees it: one call at a time per conversation whichever instance
queued the work, a lane taken over once its holder's lease runs out and the newest render
winning over a late one, restarts and stops that leave others' claims alone and hand their
own over, Teams' budgets held by both instances together, timers that act once, and new
work announced to the other instances."""
from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from datetime import datetime, timedelta, timezone

import pytest

from poll_bot.app import PIPELINE, STORE, TIMERS
from poll_bot.outbound.pipeline import LEASE_SECONDS, SWEEP_SECONDS
from poll_bot.store import Store
from poll_bot.turn import text_message
from tests.conftest import stop_bot
from tests.support import cards, teams
from tests.support.burst import until
from tests.support.fake_connector import TeamsLimits
from tests.test_two_instances import poll_on, two_instances
from tests.support.teams import ALEX, MEGAN, PAT

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)  # SQLite serves one process


class SkippingClock:
    """Real time, plus however far a test has skipped ahead."""

    def __init__(self):
        self.skipped = 0.0

    def __call__(self) -> float:
        return time.time() + self.skipped


def hold_first(method: str) -> tuple[asyncio.Event, asyncio.Event, object]:
    """A fake-connector hold for the first call of `method`: (it is on its way, let it arrive, the hold)."""
    on_its_way, arrive = asyncio.Event(), asyncio.Event()

    def hold(call):
        if call.method == method and not on_its_way.is_set():
            on_its_way.set()
            return arrive
        return None
    return on_its_way, arrive, hold


def lane(bot, chat) -> tuple[str, int]:
    (owner, epoch), = bot.rows("SELECT owner, epoch FROM lanes WHERE conversation_id = ?", chat.id)
    return owner, epoch


def instance(bot) -> str:
    return bot.server.app[STORE].instance


def put_tallies(connector) -> list[int]:
    """Voters on each card update, in the order the updates reached Teams."""
    return [cards.voter_count(c.body["attachments"][0]["content"]) for c in connector.calls if c.method == "PUT"]


async def calls_made(bot) -> float:
    """Calls to Teams this instance made, from its own /metrics."""
    async with bot.session.get(bot.server.make_url("/metrics")) as response:
        lines = (await response.text()).splitlines()
    return sum(float(line.rsplit(" ", 1)[1]) for line in lines if line.startswith("pollbot_outbound_calls_total{"))


def voters(n: int, prefix: str = "voter") -> list[teams.Person]:
    return [teams.Person(f"29:{prefix}-{i}", f"Voter {i}") for i in range(n)]


async def test_one_conversation_never_has_two_calls_in_flight_across_instances(make_bot, connector):
    a, b = await two_instances(make_bot)
    chat = teams.channel_thread()
    card_id, vote = await poll_on(a, chat)
    connector.delay = 0.03  # each call lasts a while: a second lane would overlap it

    waves = 0
    # Each wave is queued by both instances, mostly by one; whichever takes the lane first delivers.
    # Waves go on until each instance has delivered to the conversation at least once.
    while waves < 4 or not (await calls_made(a) and await calls_made(b)):
        assert waves < 12, "one instance took the lane in every wave"
        bot, other = (a, b) if waves % 2 == 0 else (b, a)
        presses = [(bot if i % 4 else other).post(teams.submit(chat, voter, vote["Pizza"], card_id, connector.url))
                   for i, voter in enumerate(voters(10, f"wave{waves}"))]
        helps = [bot.post(teams.message(chat, MEGAN, "help", connector.url)) for _ in range(2)]
        assert set(await asyncio.gather(*presses, *helps)) <= {200, 201}
        await bot.settle()
        waves += 1

    assert connector.max_in_flight == 1
    tallies = put_tallies(connector)
    assert tallies == sorted(tallies) and tallies[-1] == 10 * waves, tallies


async def test_an_expired_lease_is_taken_over_and_a_late_render_of_the_old_holder_is_superseded(make_bot, connector):
    clock = SkippingClock()
    a = await make_bot(clock=clock)
    b = await make_bot(db=a.db, clock=clock)
    chat = teams.channel_thread()
    card_id, vote = await poll_on(a, chat)
    on_its_way, arrive, connector.hold = hold_first("PUT")

    await a.post(teams.submit(chat, ALEX, vote["Pizza"], card_id, connector.url))
    await asyncio.wait_for(on_its_way.wait(), 5)  # the holder's update (1 vote) is on its way to Teams, stuck
    holder, epoch = lane(a, chat)
    old, new = (a, b) if holder == instance(a) else (b, a)
    await b.post(teams.submit(chat, PAT, vote["Pizza"], card_id, connector.url))
    assert sorted(a.rows("SELECT kind, claimed FROM outbox")) == [("update_card", 0), ("update_card", 1)]
    await new.server.app[PIPELINE].sweep()
    assert lane(a, chat) == (holder, epoch), "the holder's lease is live: nobody takes its lane"

    clock.skipped = LEASE_SECONDS + 1  # the holder froze past its lease
    await new.server.app[PIPELINE].sweep()
    assert await until(lambda: cards.voter_count(connector.card(chat.id, card_id)) == 2, 5), "taken over"
    assert lane(a, chat)[1] == epoch + 1

    arrive.set()  # the old holder's render lands now, after the newer one
    await new.settle()

    assert put_tallies(connector) == [2, 1, 2], "the newest state is sent again after the late render"
    assert cards.voter_count(connector.card(chat.id, card_id)) == 2
    assert a.rows("SELECT render_version - shown_version FROM cards WHERE activity_id = ?", card_id) == [(0,)]
    assert a.rows("SELECT COUNT(*) FROM outbox") == [(0,)]
    assert lane(a, chat)[0] in ("", instance(new)), "the old holder did not come back"


async def test_a_starting_instance_leaves_the_live_claims_of_others_alone(make_bot, connector):
    a = await make_bot()
    chat = teams.channel_thread()
    card_id, vote = await poll_on(a, chat)
    on_its_way, arrive, connector.hold = hold_first("PUT")
    await a.post(teams.submit(chat, ALEX, vote["Pizza"], card_id, connector.url))
    await asyncio.wait_for(on_its_way.wait(), 5)
    claimed = a.rows("SELECT id, claimed FROM outbox")
    assert [c for _, c in claimed] == [1]

    restarted = await make_bot(db=a.db)  # another instance starts, as one does after a restart
    await restarted.server.app[PIPELINE].sweep()

    assert a.rows("SELECT id, claimed FROM outbox") == claimed, "still the first instance's, in flight"
    assert lane(a, chat)[0] == instance(a)
    arrive.set()
    await a.settle()
    assert put_tallies(connector) == [1], "delivered once"


async def test_a_stopping_instance_hands_its_lanes_over_at_once(make_bot, connector):
    a, b = await two_instances(make_bot)
    chat = teams.channel_thread()
    card_id, vote = await poll_on(a, chat)
    on_its_way, arrive, connector.hold = hold_first("PUT")
    await a.post(teams.submit(chat, ALEX, vote["Pizza"], card_id, connector.url))
    await asyncio.wait_for(on_its_way.wait(), 5)
    holder, stays = (a, b) if lane(a, chat)[0] == instance(a) else (b, a)

    await stop_bot(holder)

    assert await until(lambda: cards.voter_count(connector.card(chat.id, card_id)) == 1, LEASE_SECONDS / 4), \
        "the other instance took the card's update over without waiting for the lease to run out"
    await stays.settle()
    assert stays.rows("SELECT COUNT(*) FROM outbox") == [(0,)]
    arrive.set()  # let the fake connector stop: the stopped instance is no longer waiting for that call


async def test_a_threads_budget_counts_what_another_instance_sent(make_bot, connector):
    a, b = await two_instances(make_bot)
    connector.limits = TeamsLimits()
    chat = teams.personal_chat()
    for i in range(7):  # a whole second's budget, spent by the first instance
        assert await a.post(teams.message(chat, MEGAN, f"hello {i}", connector.url)) == 200
    await a.settle()
    await stop_bot(a)

    await asyncio.gather(*(b.post(teams.message(chat, MEGAN, f"again {i}", connector.url)) for i in range(7)))
    await b.settle()

    assert len(connector.texts(chat.id)) == 14
    assert connector.limits.throttled == 0


async def test_a_tenants_budget_holds_for_both_instances_together(make_bot, connector):
    a, b = await two_instances(make_bot, TENANT_LIMITS=((5, 1.0),))
    connector.limits = TeamsLimits(((5, 1.0),), key=lambda call: teams.TENANT)
    people = voters(16, "tenant-member")

    await asyncio.gather(*(bot.post(teams.message(teams.personal_chat(p), p, "hello", connector.url))
                           for p, bot in zip(people, itertools.cycle((a, b)))))
    await a.settle()

    assert [len(connector.texts(teams.personal_chat(p).id)) for p in people] == [1] * 16
    assert connector.limits.throttled == 0, "at most 5 calls of the tenant in any second, from both instances"
    assert await calls_made(a) and await calls_made(b), "both instances delivered"


async def test_due_dates_and_reminders_act_once_with_two_instances_ticking(make_bot, connector):
    a, b = await two_instances(make_bot, APPROVAL_REMINDER_SECONDS=60)
    group = teams.group_chat()
    connector.rosters[group.id] = [p.account() for p in (MEGAN, ALEX, PAT)]
    for title in ("Budget", "Travel", "Laptops"):
        await a.say(group, MEGAN, f"approval {title} | <at>Alex Wilber</at> <at>Patti Fernandez</at>", (ALEX, PAT))
    later = datetime.now(timezone.utc) + timedelta(minutes=5)

    async def tick_everywhere() -> None:
        await asyncio.gather(*(bot.server.app[TIMERS].tick(later) for bot in (a, b) for _ in range(4)))
        await a.settle()

    await tick_everywhere()  # three unread requests: each approver is reminded of each once
    a.db.execute("UPDATE approvals SET due_at = '2020-01-01T00:00:00.000+00:00' WHERE title != 'Laptops'")
    await tick_everywhere()  # two past their due date: each expires once

    events = a.rows("""SELECT a.title, e.event, COUNT(*) FROM approval_events e JOIN approvals a ON a.id = e.approval_id
                       WHERE e.event IN ('expired', 'reminded') GROUP BY a.title, e.event ORDER BY 1, 2""")
    assert events == [("Budget", "expired", 1), ("Budget", "reminded", 2), ("Laptops", "reminded", 2),
                      ("Travel", "expired", 1), ("Travel", "reminded", 2)]
    for person in (ALEX, PAT):
        reminders = [t for t in connector.texts(teams.personal_chat(person).id) if t.startswith("Reminder:")]
        assert sorted(reminders) == [f"Reminder: Megan Bowen is waiting for your decision on “{title}”."
                                     for title in ("Budget", "Laptops", "Travel")]


async def test_work_queued_by_another_instance_is_announced_well_within_the_sweep(make_bot, connector):
    a = await make_bot()
    chat = teams.personal_chat()
    await a.say(chat, MEGAN, "hello")
    # Another process on the database, delivering nothing itself.
    elsewhere = await Store.open("", a.db.url, b"test secret")
    latencies = []
    try:
        for i in range(10):
            started = time.monotonic()
            await elsewhere.run(lambda uow: uow.outbox.enqueue(chat.id, "send_message",
                                                               body=text_message(f"note {i}")))
            assert await until(lambda: connector.texts(chat.id)[-1:] == [f"note {i}"], 5)
            latencies.append(connector.calls[-1].at - started)
    finally:
        await elsewhere.close()
    print(f"outbound work queued elsewhere reached Teams after {statistics.median(latencies) * 1000:.0f} ms "
          f"(median of 10; the sweep runs every {SWEEP_SECONDS:g} s)")
    assert statistics.median(latencies) < SWEEP_SECONDS / 5
