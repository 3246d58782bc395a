"""Kill the bot with SIGKILL in the middle of a vote burst, restart it, and check
that no acknowledged vote is lost and the card catches up without new votes."""
from __future__ import annotations

import asyncio
import os
import signal
import time

import aiohttp

from tests.support import cards, teams
from tests.support.bot_process import start_bot
from tests.support.net import free_port
from tests.support.teams import MEGAN


async def test_sigkill_mid_burst_loses_no_acknowledged_vote(database, connector):
    db, port = database, free_port()
    url = f"http://127.0.0.1:{port}/api/messages"
    chat = teams.channel_thread()
    bot = await start_bot(db, port)
    try:
        async with aiohttp.ClientSession() as session:
            await session.post(url, json=teams.message(chat, MEGAN, "poll Ship it? | Yes | No", connector.url))
            while not connector.cards(chat.id):
                await asyncio.sleep(0.02)
            card_id = connector.calls_of("POST")[0].activity_id
            vote = cards.vote_buttons(connector.cards(chat.id)[0])["Yes"]

            acknowledged: set[str] = set()
            voters = [teams.Person(f"29:crash-voter-{i}", f"Voter {i}") for i in range(400)]

            async def press(voter: teams.Person) -> None:
                try:
                    async with session.post(url, json=teams.submit(chat, voter, vote, card_id, connector.url)) as r:
                        if r.status in (200, 201):
                            acknowledged.add(voter.id)
                except aiohttp.ClientError:
                    pass  # the bot died under this request: not acknowledged

            burst = [asyncio.create_task(press(v)) for v in voters]
            while len(acknowledged) < 100:
                await asyncio.sleep(0.001)
            os.kill(bot.pid, signal.SIGKILL)
            bot.wait()
            await asyncio.gather(*burst)
        assert 100 <= len(acknowledged) < len(voters), "the kill must land mid-burst"

        bot = await start_bot(db, port)
        stored = {row[0] for row in db.rows("SELECT user_id FROM votes")}
        assert acknowledged <= stored, f"{len(acknowledged - stored)} acknowledged votes were lost"

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            shown = cards.option_counts(connector.cards(chat.id)[0])["Yes"]
            if shown.startswith(f"{len(stored)} vote"):
                break
            await asyncio.sleep(0.05)
        assert cards.option_counts(connector.cards(chat.id)[0])["Yes"].startswith(f"{len(stored)} vote")
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if (await response.json())["pending_outbound"] == 0:
                        break
                await asyncio.sleep(0.05)
        assert db.rows("SELECT COUNT(*) FROM outbox") == [(0,)]
    finally:
        bot.kill()
        bot.wait()
