"""Kill the bot with SIGKILL in the middle of a vote burst, restart it, and check
that no acknowledged vote is lost and the card catches up without new votes.

On PostgreSQL the restarted process cannot tell its predecessor is dead (another
live instance could hold that lane), so it takes the card's lane over only when
the dead one's lease runs out: up to LEASE_SECONDS more."""
from __future__ import annotations

import asyncio
import os
import signal
import time

import aiohttp

from poll_bot.outbound.pipeline import LEASE_SECONDS
from tests.support.bot_process import start_bot
from tests.support.burst import Burst, until
from tests.support.net import free_port


async def test_sigkill_mid_burst_loses_no_acknowledged_vote(database, connector):
    db, port = database, free_port()
    bot = await start_bot(db, port)
    try:
        async with aiohttp.ClientSession() as session:
            burst = Burst(session, f"http://127.0.0.1:{port}/api/messages", connector)
            await burst.post_poll()
            presses = burst.start()
            await burst.until_acknowledged(100)
            os.kill(bot.pid, signal.SIGKILL)
            bot.wait()
            await asyncio.gather(*presses)
        assert 100 <= len(burst.acknowledged) < 400, "the kill must land mid-burst"

        bot = await start_bot(db, port)
        stored = {row[0] for row in db.rows("SELECT user_id FROM votes")}
        assert burst.acknowledged <= stored, f"{len(burst.acknowledged - stored)} acknowledged votes were lost"

        deadline = time.monotonic() + 20 + (LEASE_SECONDS if db.name == "postgres" else 0)
        assert await until(lambda: burst.shown().startswith(f"{len(stored)} vote"), deadline - time.monotonic()), \
            burst.shown()
        assert await until(lambda: db.rows("SELECT COUNT(*) FROM outbox") == [(0,)], deadline - time.monotonic())
    finally:
        bot.kill()
        bot.wait()
