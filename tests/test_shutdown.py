"""SIGTERM and SIGINT on the real process: it stops taking turns, delivers what it can, keeps
the rest in the outbox and exits 0 within POLL_BOT_SHUTDOWN_SECONDS, also when Teams does
not answer and when a client never finishes its request.

The exit time is measured from the signal to the process being reaped. ALLOWANCE is added
for interpreter exit and for reaping on a busy machine (a clean stop here takes about 0.2 s
after the bot's own deadline for closing)."""
from __future__ import annotations

import asyncio
import signal
import socket
import sqlite3
import subprocess
import time

import aiohttp

from tests.support import teams
from tests.support.bot_process import start_bot
from tests.support.burst import Burst, until
from tests.support.net import free_port
from tests.support.teams import MEGAN

ALLOWANCE = 0.5


async def exit_time(bot: subprocess.Popen) -> float:
    """Send SIGTERM; seconds until the process has exited."""
    started = time.monotonic()
    bot.send_signal(signal.SIGTERM)
    return await reaped(bot, started)


async def reaped(bot: subprocess.Popen, since: float) -> float:
    while bot.poll() is None and time.monotonic() - since < 30:
        await asyncio.sleep(0.01)
    return time.monotonic() - since


def stored_votes(db) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {user for (user,) in conn.execute("SELECT user_id FROM votes")}


def outbox(db) -> list[tuple[str, int]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT kind, claimed FROM outbox").fetchall()


async def test_sigterm_mid_burst_delivers_the_card_and_exits_0_in_time(tmp_path, connector):
    db, port, budget = tmp_path / "stop.sqlite3", free_port(), 5.0
    bot = await start_bot(db, port, POLL_BOT_SHUTDOWN_SECONDS=str(budget))
    try:
        async with aiohttp.ClientSession() as session:
            burst = Burst(session, f"http://127.0.0.1:{port}/api/messages", connector)
            await burst.post_poll()
            presses = burst.start()
            await burst.until_acknowledged(100)
            took = await exit_time(bot)
            await asyncio.gather(*presses)
        print(f"SIGTERM mid-burst, Teams answering: exit {bot.returncode} after {took:.2f} s (budget {budget:g} s)")
        assert bot.returncode == 0
        assert took <= budget + ALLOWANCE, f"took {took:.2f} s"
        assert 100 <= len(burst.acknowledged) < 400, "the signal must land mid-burst"

        stored = stored_votes(db)
        assert burst.acknowledged <= stored, f"{len(burst.acknowledged - stored)} acknowledged votes were lost"
        assert outbox(db) == [], "with Teams answering, everything went out before the exit"
        assert burst.shown().startswith(f"{len(stored)} vote")

        bot = await start_bot(db, port)
        assert stored_votes(db) == stored
        assert burst.shown().startswith(f"{len(stored)} vote")
    finally:
        bot.kill()
        bot.wait()


async def test_teams_not_answering_cannot_hold_the_shutdown_and_the_card_catches_up_after_restart(
        tmp_path, connector):
    db, port, budget = tmp_path / "stuck.sqlite3", free_port(), 4.0
    bot = await start_bot(db, port, POLL_BOT_SHUTDOWN_SECONDS=str(budget))
    try:
        async with aiohttp.ClientSession() as session:
            burst = Burst(session, f"http://127.0.0.1:{port}/api/messages", connector)
            await burst.post_poll()
            connector.gate = asyncio.Event()  # from now on every call to "Teams" hangs
            presses = burst.start()
            await burst.until_acknowledged(100)
            assert await until(lambda: len(connector.calls) > 1), "a card update is stuck in flight"
            took = await exit_time(bot)
            await asyncio.gather(*presses)
        print(f"SIGTERM mid-burst, Teams not answering: exit {bot.returncode} after {took:.2f} s (budget {budget:g} s)")
        assert bot.returncode == 0
        assert took <= budget + ALLOWANCE, f"took {took:.2f} s"
        assert burst.shown().startswith("0 votes"), "nothing got through"
        assert outbox(db) == [("update_card", 0)], "the update stays queued, released for the next start"

        connector.gate.set()
        bot = await start_bot(db, port)
        stored = stored_votes(db)
        assert burst.acknowledged <= stored
        assert await until(lambda: burst.shown().startswith(f"{len(stored)} vote")), burst.shown()
        assert await until(lambda: outbox(db) == [])
    finally:
        connector.gate.set()
        bot.kill()
        bot.wait()


async def test_sigint_with_a_request_that_never_completes_refuses_new_turns_and_exits_in_time(
        tmp_path, connector):
    """The old hang: aiohttp waited 60 s for such a request, with the port already closed."""
    db, port, budget = tmp_path / "stalled.sqlite3", free_port(), 3.0
    bot = await start_bot(db, port, POLL_BOT_SHUTDOWN_SECONDS=str(budget))
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 200  # this connection stays open (keep-alive)
            with socket.create_connection(("127.0.0.1", port)) as stalled:
                stalled.sendall(b"POST /api/messages HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
                                b"Content-Length: 400\r\n\r\n{\"type\": \"mess")
                await asyncio.sleep(0.2)
                started = time.monotonic()
                bot.send_signal(signal.SIGINT)
                await asyncio.sleep(0.3)

                activity = teams.message(teams.personal_chat(), MEGAN, "help", connector.url)
                async with session.post(f"http://127.0.0.1:{port}/api/messages", json=activity) as response:
                    assert response.status == 503
                    assert response.headers["Retry-After"] == "3"
                try:
                    socket.create_connection(("127.0.0.1", port)).close()
                    raise AssertionError("the listener should be closed")
                except ConnectionRefusedError:
                    pass
                took = await reaped(bot, started)
        print(f"SIGINT with a stalled request: exit {bot.returncode} after {took:.2f} s (budget {budget:g} s)")
        assert bot.returncode == 0
        assert took <= budget + ALLOWANCE, f"took {took:.2f} s"
        assert connector.texts(teams.personal_chat().id) == [], "the refused turn was not handled"
    finally:
        bot.kill()
        bot.wait()


async def test_the_deadline_holds_even_when_closing_blocks(tmp_path):
    """Another process holds the database's write lock, so the bot cannot put its jobs back
    and close: at the deadline the process exits anyway, with status 1 and a log line."""
    db, port, budget = tmp_path / "locked.sqlite3", free_port(), 2.0
    with open(tmp_path / "stderr", "w+") as stderr:
        bot = await start_bot(db, port, stderr, POLL_BOT_SHUTDOWN_SECONDS=str(budget))
        try:
            with sqlite3.connect(db, isolation_level=None) as other:
                other.execute("BEGIN EXCLUSIVE")
                took = await exit_time(bot)
                other.execute("ROLLBACK")
            assert bot.returncode == 1
            assert took <= budget + ALLOWANCE, f"took {took:.2f} s"
            stderr.seek(0)
            assert "shutdown did not finish within 2 s" in stderr.read()
        finally:
            bot.kill()
            bot.wait()
