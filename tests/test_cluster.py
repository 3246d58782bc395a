"""Three `poll-bot` processes on one PostgreSQL behind HAProxy, six channels in two tenants, 1,200
voters. Redeliveries and double clicks go to two instances at once, four approvals are overdue
while every instance's timer ticks, and the instance delivering to the most conversations is
killed with SIGKILL in the middle of the burst. What Teams (the fake connector) saw must hold
every guarantee a single instance gives."""
from __future__ import annotations

import asyncio
import random
import re
import time
from dataclasses import dataclass, field

import aiohttp
import pytest

from tests.support import cards, teams
from tests.support.cluster import Cluster
from tests.support.databases import PostgresBackend
from tests.support.fake_connector import FakeConnector, TeamsLimits

OPTIONS = ["Red", "Green", "Blue"]
VOTERS_PER_CHANNEL = 200
SPLIT_PER_CHANNEL = 10  # voters per channel whose press is redelivered, and as many who double-click
KILL_AFTER = 500  # acknowledged votes
CLIENTS = 48
TEAMS_LATENCY = 0.05  # seconds each call to the fake connector takes, so calls can overlap
CONVERGE_SECONDS = 60  # a dead instance's leases expire within about 21 s
OTHER_TENANT = "b7c1e2d3-0000-4000-8000-00000000000b"
PAST = "2020-01-01T00:00:00.000+00:00"


@dataclass(frozen=True)
class Tenant:
    id: str
    team: dict
    requester: teams.Person
    approvers: tuple[teams.Person, teams.Person]


TENANTS = (
    Tenant(teams.TENANT, {"id": "19:cluster-team-a@thread.skype", "name": "Contoso"}, teams.MEGAN,
           (teams.ALEX, teams.PAT)),
    Tenant(OTHER_TENANT, {"id": "19:cluster-team-b@thread.skype", "name": "Fabrikam"},
           teams.Person("29:1fabrikam-nestor", "Nestor Wilke"),
           (teams.Person("29:1fabrikam-bea", "Bea Lopez"), teams.Person("29:1fabrikam-chen", "Chen Wu"))),
)


@dataclass
class Channel:
    tenant: Tenant
    chat: teams.Chat
    overdue: bool
    poll_card: str = ""
    votes: dict[str, dict] = field(default_factory=dict)  # option -> button data


def shown_counts(card: dict) -> list[int]:
    counts = cards.option_counts(card)
    return [int(re.match(r"\d+", counts[option]).group()) for option in OPTIONS]


@pytest.fixture
async def cluster(postgres_server):
    backend = PostgresBackend(postgres_server)
    started = Cluster(backend.new_database(), 3, POLL_BOT_TIMER_SECONDS="0.5", POLL_BOT_DOUBLE_PRESS_SECONDS="5")
    try:
        await started.start()
        yield started
    finally:
        started.stop()
        backend.close()


@pytest.fixture
async def connector():
    fake = FakeConnector(limits=TeamsLimits(), delay=TEAMS_LATENCY)
    await fake.start()
    yield fake
    await fake.stop()


async def post(session: aiohttp.ClientSession, url: str, activity: dict) -> bool:
    """True when the bot acknowledged it."""
    try:
        async with session.post(url, json=activity) as response:
            return response.status == 200
    except aiohttp.ClientError:
        return False  # refused, cut off, or the instance was killed


async def until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    return condition()


async def set_up(cluster: Cluster, connector: FakeConnector, session: aiohttp.ClientSession) -> list[Channel]:
    """A poll and an approval request in each of six channels, three per tenant."""
    channels = []
    for t, tenant in enumerate(TENANTS):
        connector.rosters[tenant.team["id"]] = [p.account() for p in (tenant.requester, *tenant.approvers)]
        for c in range(3):
            chat = teams.channel_thread(f"17000000000{t}{c}", channel={"id": f"19:cluster-{t}-{c}@thread.skype",
                                        "name": f"Channel {c}"}, team=tenant.team, tenant=tenant.id)
            channels.append(Channel(tenant, chat, overdue=c < 2))
    for channel in channels:
        tenant, url = channel.tenant, connector.url
        assert await post(session, cluster.url, teams.message(channel.chat, tenant.requester,
                                                              "poll Colour? | " + " | ".join(OPTIONS), url))
        mentions = " ".join(f"<at>{p.name}</at>" for p in tenant.approvers)
        assert await post(session, cluster.url, teams.message(channel.chat, tenant.requester,
                                                              f"approval Budget | for {channel.chat.id} {mentions}",
                                                              url, tenant.approvers))
    assert await until(lambda: all(len(connector.cards(ch.chat.id)) == 2 for ch in channels), 30)
    for channel in channels:
        channel.poll_card = next(c.activity_id for c in connector.calls_of("POST")
                                 if c.conversation_id == channel.chat.id and "Colour?" in str(c.body))
        channel.votes = cards.vote_buttons(connector.card(channel.chat.id, channel.poll_card))
    return channels


def presses(channels: list[Channel], connector: FakeConnector, cluster: Cluster):
    """(voter, chat, [(url, activity) posted at once]) for 1,200 voters: most through HAProxy, some
    pressed once and delivered to two instances, some double-clicking on two instances."""
    found = []
    for n, channel in enumerate(channels):
        for i in range(VOTERS_PER_CHANNEL):
            voter = teams.Person(f"29:cluster-voter-{n}-{i}", f"Voter {n}-{i}")
            press = teams.submit(channel.chat, voter, channel.votes[OPTIONS[i % 3]], channel.poll_card, connector.url)
            first, second = cluster.instance_url(i % 3), cluster.instance_url((i + 1) % 3)
            if i < SPLIT_PER_CHANNEL:  # one activity, redelivered to another instance
                posts = [(first, press), (second, press)]
            elif i < 2 * SPLIT_PER_CHANNEL:  # two activities: a double click landing on two instances
                again = teams.submit(channel.chat, voter, channel.votes[OPTIONS[i % 3]], channel.poll_card,
                                     connector.url)
                posts = [(first, press), (second, again)]
            else:
                posts = [(cluster.url, press)]
            found.append((voter, channel.chat, posts))
    random.Random(12).shuffle(found)
    return found


@dataclass
class Burst:
    acknowledged: set[tuple[str, str]] = field(default_factory=set)  # (conversation, voter)
    acknowledged_at_kill: int = 0
    lanes_at_kill: list[int] = field(default_factory=list)  # each instance's, read just before the kill
    seconds: float = 0.0


async def vote_and_kill(cluster: Cluster, channels: list[Channel], connector: FakeConnector,
                        session: aiohttp.ClientSession) -> Burst:
    """Every voter presses, CLIENTS at a time; once KILL_AFTER votes are acknowledged, the instance
    delivering to the most conversations gets SIGKILL."""
    burst, gate = Burst(), asyncio.Semaphore(CLIENTS)

    async def vote(voter: teams.Person, chat: teams.Chat, posts) -> None:
        async with gate:
            answers = await asyncio.gather(*(post(session, url, activity) for url, activity in posts))
        if any(answers):
            burst.acknowledged.add((chat.id, voter.id))
        if len(burst.acknowledged) >= KILL_AFTER and not burst.acknowledged_at_kill:
            burst.acknowledged_at_kill = len(burst.acknowledged)  # set before the await: one kill only
            burst.lanes_at_kill = [await cluster.lanes(session, i) for i in range(len(cluster.ports))]
            cluster.kill(burst.lanes_at_kill.index(max(burst.lanes_at_kill)))

    started = time.monotonic()
    await asyncio.gather(*(vote(*p) for p in presses(channels, connector, cluster)))
    burst.seconds = time.monotonic() - started
    return burst


async def test_three_instances_behind_haproxy_lose_nothing_and_keep_every_limit(cluster, connector):
    db = cluster.db
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CLIENTS)) as session:
        channels = await set_up(cluster, connector, session)
        overdue = [ch.chat.id for ch in channels if ch.overdue]
        for conversation_id in overdue:
            db.execute("UPDATE approvals SET due_at = ? WHERE conversation_id = ?", PAST, conversation_id)
        burst = await vote_and_kill(cluster, channels, connector, session)
    assert len(burst.acknowledged) - burst.acknowledged_at_kill > 300, "the kill landed mid-burst"

    def tallies() -> dict[str, list[int]]:
        found = {ch.chat.id: [0, 0, 0] for ch in channels}
        for conversation_id, position, count in db.rows(
                "SELECT p.conversation_id, v.position, COUNT(*) FROM votes v JOIN polls p ON p.id = v.poll_id "
                "GROUP BY p.conversation_id, v.position"):
            found[conversation_id][position] = count
        return found

    def on_cards() -> dict[str, list[int]]:
        return {ch.chat.id: shown_counts(connector.card(ch.chat.id, ch.poll_card)) for ch in channels}

    def converged() -> bool:
        expired = all(cards.texts(connector.cards(conversation_id)[1])[0] == "⌛ APPROVAL · EXPIRED"
                      for conversation_id in overdue)
        return on_cards() == tallies() and expired

    waited = time.monotonic()
    did_converge = await until(converged, CONVERGE_SECONDS)
    print(f"burst {burst.seconds:.1f} s, {len(burst.acknowledged)} acknowledged ({burst.acknowledged_at_kill} at "
          f"the kill), lanes at the kill {burst.lanes_at_kill}, cards converged "
          f"{time.monotonic() - waited:.1f} s after the burst, {len(connector.calls)} calls")
    assert await until(lambda: not any(connector.in_flight.values())
                       and time.monotonic() - connector.calls[-1].at > 1.0, 30), "Teams is still being called"

    stored = set(db.rows("SELECT p.conversation_id, v.user_id FROM votes v JOIN polls p ON p.id = v.poll_id"))
    broken = {}  # every guarantee is checked, and all that failed are reported together
    if not burst.acknowledged <= stored:
        broken["every acknowledged vote is stored"] = f"{len(burst.acknowledged - stored)} are not"
    if not did_converge:
        broken["every card converges to the exact tally"] = f"stored {tallies()}, shown {on_cards()}"
    if connector.max_in_flight != 1:
        broken["never two calls in flight for one conversation"] = f"{connector.max_in_flight} at once"
    backwards = {ch.chat.id: totals for ch in channels if (totals := renders(connector, ch)) != sorted(totals)}
    if backwards:
        broken["no card shows fewer votes than an earlier render"] = f"voters on each render: {backwards}"
    throttled = [c for c in connector.calls if c.status == 429]
    if throttled or connector.limits.throttled:
        broken["0 answers of 429"] = f"{len(throttled)} calls answered 429"
    busiest = connector.busiest_second(tenant_of(db))
    if max(busiest.values()) > 50:
        broken["at most 50 calls per tenant in any second"] = f"most in one second, by tenant: {busiest}"
    expired = dict(db.rows("SELECT a.conversation_id, COUNT(*) FROM approval_events e "
                           "JOIN approvals a ON a.id = e.approval_id WHERE e.event = 'expired' "
                           "GROUP BY a.conversation_id"))
    statuses = dict(db.rows("SELECT conversation_id, status FROM approvals"))
    if expired != {conversation_id: 1 for conversation_id in overdue} or \
            statuses != {ch.chat.id: "expired" if ch.overdue else "pending" for ch in channels}:
        broken["exactly one expiry event per overdue approval"] = f"expired events {expired}, statuses {statuses}"
    assert broken == {}


def renders(connector: FakeConnector, channel: Channel) -> list[int]:
    """The voters on each render of the channel's poll card that Teams accepted, in order of arrival."""
    return [sum(shown_counts(c.body["attachments"][0]["content"])) for c in connector.calls
            if c.activity_id == channel.poll_card and c.method in ("POST", "PUT") and 200 <= c.status < 300]


def tenant_of(db):
    """Which tenant a call to Teams was for: opening a 1:1 chat names it; any other call is for a
    conversation (or, reading a roster, a team) the bot stored with its tenant."""
    tenants = {}
    for conversation_id, team_id, tenant_id in db.rows("SELECT id, team_id, tenant_id FROM conversations"):
        tenants[conversation_id] = tenants[team_id or conversation_id] = tenant_id
    return lambda call: call.body["tenantId"] if call.method == "CREATE" else tenants[call.conversation_id]
