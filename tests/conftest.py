from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from poll_bot.app import PIPELINE, create_app
from poll_bot.config import Config
from tests.support import teams
from tests.support.fake_connector import FakeConnector


@dataclass
class BotUnderTest:
    """The real aiohttp app on loopback, talking to a fake connector."""
    server: TestServer
    session: aiohttp.ClientSession
    connector: FakeConnector
    db_path: Path

    @property
    def url(self) -> str:
        return str(self.server.make_url("/api/messages"))

    async def post(self, activity: dict[str, Any]) -> int:
        async with self.session.post(self.url, json=activity) as response:
            return response.status

    async def settle(self) -> None:
        """Wait until the outbound pipeline has delivered everything."""
        await self.server.app[PIPELINE].wait_idle()

    async def say(self, chat: teams.Chat, user: teams.Person, text: str) -> int:
        status = await self.post(teams.message(chat, user, text, self.connector.url))
        assert status in (200, 201), status
        await self.settle()
        return status

    async def press(self, chat: teams.Chat, user: teams.Person, card_id: str, data: Any,
                    inputs: dict | None = None, reply_to_id: str | None = None) -> int:
        value = data if inputs is None else {**data, **inputs}
        activity = teams.submit(chat, user, value, reply_to_id or card_id, self.connector.url)
        status = await self.post(activity)
        assert status in (200, 201), status
        await self.settle()
        return status

    def rows(self, sql: str, *args: Any) -> list[tuple]:
        with sqlite3.connect(self.db_path) as conn:
            return conn.execute(sql, args).fetchall()


@pytest.fixture
async def connector():
    fake = FakeConnector()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def bot(tmp_path, connector):
    db_path = tmp_path / "bot.sqlite3"
    server = TestServer(create_app(Config(DB_PATH=str(db_path))), host="127.0.0.1")
    await server.start_server()
    async with aiohttp.ClientSession() as session:
        yield BotUnderTest(server, session, connector, db_path)
    await server.close()
