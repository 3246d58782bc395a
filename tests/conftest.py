from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from poll_bot.app import PIPELINE, create_app
from poll_bot.config import Config
from poll_bot.cards import ADAPTIVE_CARD
from tests.support import cards, teams
from tests.support.databases import PostgresBackend, PostgresServer, SqliteBackend
from tests.support.fake_connector import FakeConnector


@dataclass
class BotUnderTest:
    """The real aiohttp app on loopback, talking to a fake connector."""
    server: TestServer
    session: aiohttp.ClientSession
    connector: FakeConnector
    db: Any  # a tests.support.databases test database: rows(), execute(), tables()
    path: str = "submit"  # how presses arrive: "submit" (Action.Submit, a message) or "invoke" (Action.Execute)
    answers: dict[str, dict] = field(default_factory=dict)  # user id -> the last invoke answer they got
    peers: list["BotUnderTest"] = field(default_factory=list)  # every instance on this database, this one too

    @property
    def url(self) -> str:
        return str(self.server.make_url("/api/messages"))

    async def post(self, activity: dict[str, Any]) -> int:
        async with self.session.post(self.url, json=activity) as response:
            return response.status

    async def settle(self) -> None:
        """Wait until the outbound pipeline has delivered everything; with several instances on
        the database, until each is idle and nothing deliverable is left for any of them."""
        deadline = time.monotonic() + 30
        while True:
            for bot in self.peers:
                await bot.server.app[PIPELINE].wait_idle()
            if len(self.peers) == 1 or not self.rows(DELIVERABLE):
                return
            assert time.monotonic() < deadline, f"outbound work left undelivered: {self.rows(DELIVERABLE)}"
            await asyncio.sleep(0.01)

    async def say(self, chat: teams.Chat, user: teams.Person, text: str,
                  mentioning: tuple[teams.Person, ...] = ()) -> int:
        status = await self.post(teams.message(chat, user, text, self.connector.url, mentioning))
        assert status in (200, 201), status
        await self.settle()
        return status

    async def press(self, chat: teams.Chat, user: teams.Person, card_id: str, data: Any,
                    inputs: dict | None = None, reply_to_id: str | None = None) -> int:
        """Press a button as the bot's `path` delivers it; `data` is the button's payload."""
        value = data if inputs is None else {**data, **inputs}
        if self.path == "invoke" and isinstance(value, dict):
            await self.execute(chat, user, card_id, value, reply_to_id)
            return 200
        activity = teams.submit(chat, user, value, reply_to_id or card_id, self.connector.url)
        status = await self.post(activity)
        assert status in (200, 201), status
        await self.settle()
        return status

    async def execute(self, chat: teams.Chat, user: teams.Person, card_id: str, data: dict,
                      reply_to_id: str | None = None, trigger: str = "manual") -> dict:
        """An Action.Execute press (an adaptiveCard/action invoke); returns the bot's answer."""
        activity = teams.invoke(chat, user, data, reply_to_id or card_id, self.connector.url, trigger)
        async with self.session.post(self.url, json=activity) as response:
            assert response.status == 200, response.status
            answer = await response.json()
        self.answers[user.id] = answer
        await self.settle()
        return answer

    async def view(self, chat: teams.Chat, user: teams.Person, card_id: str) -> dict:
        """This person's own view of a card, as Teams' refresh of it shows them."""
        refresh = self.connector.card(chat.id, card_id)["refresh"]["action"]
        answer = await self.execute(chat, user, card_id, refresh["data"], trigger="automatic")
        assert answer["statusCode"] == 200 and answer["type"] == ADAPTIVE_CARD, answer
        return answer["value"]

    async def button(self, chat: teams.Chat, user: teams.Person, card_id: str, title: str) -> dict:
        """The payload of a button on this person's own view of a card (Close poll: the creator's)."""
        return cards.buttons(await self.view(chat, user, card_id))[title]

    def refusal(self, user: teams.Person) -> str | None:
        """What the person was last told their press did not do: at the top of their view (invoke),
        or in their 1:1 chat (submit)."""
        if self.path == "submit":
            return self.told(user)[-1] if self.told(user) else None
        answer = self.answers[user.id]
        return cards.notice(answer["value"]) if answer["type"] == ADAPTIVE_CARD else answer["value"]

    def told(self, user: teams.Person) -> list[str]:
        """The texts this person got in their 1:1 chat with the bot (where refusals go)."""
        chats = self.rows("SELECT conversation_id FROM personal_chats WHERE user_id = ?", user.id)
        return self.connector.texts(chats[0][0]) if chats else []

    def rows(self, sql: str, *args: Any) -> list[tuple]:
        return self.db.rows(sql, *args)


# Outbound work some instance should be delivering (not held for a conversation that refused the bot or is on hold).
DELIVERABLE = """SELECT o.id, o.kind FROM outbox o JOIN conversations c ON c.id = o.conversation_id
                 WHERE c.active = 1 AND (c.suspended = '' OR o.kind = 'open_personal_chat')"""


@pytest.fixture
def group(connector):
    """A group chat whose roster the fake connector knows: Megan, Alex, Patti and Lee."""
    chat = teams.group_chat()
    connector.rosters[chat.id] = [p.account() for p in (teams.MEGAN, teams.ALEX, teams.PAT, teams.LEE)]
    return chat


@pytest.fixture
async def connector():
    fake = FakeConnector()
    await fake.start()
    yield fake
    await fake.stop()


# Scenario tests press buttons faster than people; double-click protection has its own test.
FAST = {"DOUBLE_PRESS_SECONDS": 0.0, "RETRY_BASE_DELAY": 0.01}


@pytest.fixture(scope="session")
def postgres_server():
    """One throwaway PostgreSQL for the whole run, stopped and removed at the end."""
    server = PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request, tmp_path):
    """Each test that uses it runs twice: on SQLite and on PostgreSQL (a fresh database each)."""
    if request.param == "sqlite":
        chosen = SqliteBackend(tmp_path)
    else:
        chosen = PostgresBackend(request.getfixturevalue("postgres_server"))
    yield chosen
    chosen.close()


@pytest.fixture
def press_path() -> str:
    """How presses reach the bot. The poll and approval scenario modules override this to run
    every test through both: `submit` (Action.Submit) and `invoke` (Action.Execute)."""
    return "submit"


@pytest.fixture
def database(backend):
    return backend.new_database()


@pytest.fixture
async def make_bot(backend, connector, press_path):
    """Start the app with configuration overrides: `bot = await make_bot(RETRY_ATTEMPTS=3)`.
    Each bot gets a new database unless given one (`make_bot(db=bot.db)` restarts on the same,
    or on PostgreSQL starts another instance beside it). `clock`: the app's clock for delivery."""
    started = []
    peers: dict[int, list[BotUnderTest]] = {}  # id(db) -> the instances started on it

    async def start(db: Any = None, clock: Callable[[], float] = time.time, **overrides: Any) -> BotUnderTest:
        db = db or backend.new_database()
        config = Config(**db.config(), **{**FAST, **overrides})
        server = TestServer(create_app(config, clock), host="127.0.0.1")
        await server.start_server()
        session = aiohttp.ClientSession()
        started.append((server, session))
        bot = BotUnderTest(server, session, connector, db, press_path, peers=peers.setdefault(id(db), []))
        bot.peers.append(bot)
        return bot

    yield start
    for server, session in started:
        await session.close()
        await server.close()


async def stop_bot(bot: BotUnderTest) -> None:
    bot.peers.remove(bot)
    await bot.session.close()
    await bot.server.close()


@pytest.fixture
async def bot(make_bot):
    return await make_bot()
