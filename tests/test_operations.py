"""`poll-bot migrate` and `poll-bot backup`, and the configuration of shutdown and retention."""
from __future__ import annotations

import asyncio
import itertools
import os
import sqlite3

import aiohttp
import pytest

from poll_bot.config import Config
from poll_bot.store.db import migration_files
from tests.support import cards, teams
from tests.support.bot_process import POLL_BOT, start_bot
from tests.support.net import free_port
from tests.support.teams import MEGAN

LATEST = migration_files()[-1][0]


async def poll_bot(*args: str, db) -> tuple[int, str, str]:
    """Run the console script without blocking the test's loop (the bot under test answers meanwhile)."""
    process = await asyncio.create_subprocess_exec(
        str(POLL_BOT), *args, env={**os.environ, "POLL_BOT_DB": str(db)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    return process.returncode, out.decode(), err.decode()


async def test_migrate_applies_every_migration_and_exits(tmp_path):
    db = tmp_path / "new" / "poll_bot.sqlite3"
    for _ in range(2):  # the second run finds nothing to do
        status, out, _ = await poll_bot("migrate", db=db)
        assert (status, out) == (0, f"{db}: schema version {LATEST}\n")
    with sqlite3.connect(db) as conn:
        assert [v for (v,) in conn.execute("SELECT version FROM schema_version ORDER BY version")] == \
            [version for version, _ in migration_files()]
        assert conn.execute("SELECT COUNT(*) FROM polls").fetchone() == (0,)


async def test_backup_while_the_bot_serves_a_vote_burst_is_a_consistent_copy(tmp_path, connector):
    db, copy, port = tmp_path / "live.sqlite3", tmp_path / "backups" / "copy.sqlite3", free_port()
    copy.parent.mkdir()
    url = f"http://127.0.0.1:{port}/api/messages"
    chat = teams.channel_thread()
    bot = await start_bot(db, port)
    try:
        async with aiohttp.ClientSession() as session:
            await session.post(url, json=teams.message(chat, MEGAN, "poll Back it up? | Yes | No", connector.url))
            while not connector.cards(chat.id):
                await asyncio.sleep(0.02)
            card_id = connector.calls_of("POST")[0].activity_id
            vote = cards.vote_buttons(connector.cards(chat.id)[0])["Yes"]
            acknowledged: set[str] = set()

            async def vote_until(done: asyncio.Event, worker: int) -> None:
                for n in itertools.count():
                    if done.is_set():
                        return
                    voter = teams.Person(f"29:backup-voter-{worker}-{n}", f"Voter {worker}-{n}")
                    async with session.post(url, json=teams.submit(chat, voter, vote, card_id, connector.url)) as r:
                        assert r.status == 200
                        acknowledged.add(voter.id)

            backed_up = asyncio.Event()
            voters = [asyncio.create_task(vote_until(backed_up, worker)) for worker in range(8)]
            while len(acknowledged) < 50:
                await asyncio.sleep(0.001)
            before = set(acknowledged)
            status, out, err = await poll_bot("backup", str(copy), db=db)
            during = set(acknowledged)
            backed_up.set()
            await asyncio.gather(*voters)
        assert (status, out.strip()) == (0, str(copy)), err
        assert len(during) > len(before), "the bot kept taking votes while the backup ran"

        assert list(copy.parent.iterdir()) == [copy], "one self-contained file"
        with sqlite3.connect(copy) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
            assert conn.execute("SELECT question FROM polls").fetchall() == [("Back it up?",)]
            in_copy = {user for (user,) in conn.execute("SELECT user_id FROM votes")}
        assert before <= in_copy <= acknowledged, "every vote acknowledged before the backup, none made up"
    finally:
        bot.kill()
        bot.wait()


async def test_backup_of_a_missing_database_fails_and_writes_nothing(tmp_path):
    status, out, err = await poll_bot("backup", str(tmp_path / "copy.sqlite3"), db=tmp_path / "missing.sqlite3")
    assert (status, out) == (1, "")
    assert "there is no database at" in err
    assert list(tmp_path.iterdir()) == []


def test_shutdown_and_retention_settings():
    config = Config.from_env({})
    assert (config.SHUTDOWN_SECONDS, config.RETENTION_DAYS) == (10.0, 0.0)
    config = Config.from_env({"POLL_BOT_SHUTDOWN_SECONDS": "4.5", "POLL_BOT_RETENTION_DAYS": "90"})
    assert (config.SHUTDOWN_SECONDS, config.RETENTION_DAYS) == (4.5, 90.0)
    assert Config.from_env({"POLL_BOT_RETENTION_DAYS": ""}).RETENTION_DAYS == 0.0
    for name in ("POLL_BOT_SHUTDOWN_SECONDS", "POLL_BOT_RETENTION_DAYS"):
        for bad in ("-1", "ten", "nan", "inf"):
            with pytest.raises(ValueError, match=name):
                Config.from_env({name: bad})
