"""`poll-bot migrate --to postgresql://...`: a SQLite database filled through the real app is copied
into PostgreSQL whole (every table the schema holds, every id), the bot then runs on the copy, and a
target holding rows, or a copy failing halfway, leaves PostgreSQL as it was."""
from __future__ import annotations

import asyncio
import os
import sqlite3

import pytest

from tests.conftest import stop_bot
from tests.support import cards, teams
from tests.support.bot_process import POLL_BOT
from tests.support.databases import PostgresBackend, SqliteBackend
from tests.support.teams import ALEX, MEGAN, PAT


@pytest.fixture
def backend(tmp_path):
    """The bot starts on SQLite; the PostgreSQL databases come from `postgres`."""
    return SqliteBackend(tmp_path)


@pytest.fixture
def postgres(postgres_server):
    chosen = PostgresBackend(postgres_server)
    yield chosen
    chosen.close()


async def migrate_to(url: str, sqlite_db) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        str(POLL_BOT), "migrate", "--to", url, env={**os.environ, "POLL_BOT_DB": str(sqlite_db.path)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    return process.returncode, out.decode(), err.decode()


def columns(sqlite_db, table: str) -> list[str]:
    return [row[1] for row in sqlite_db.rows(f'PRAGMA table_info("{table}")')]


def contents(db, table: str, names: list[str]) -> list[tuple]:
    listed = ", ".join(f'"{c}"' for c in names)
    return sorted(db.rows(f'SELECT {listed} FROM "{table}"'), key=repr)


async def vote(bot, chat, person, option, card_id):
    await bot.press(chat, person, card_id, cards.vote_buttons(bot.connector.card(chat.id, card_id))[option])


async def fill_through_the_app(bot, connector) -> dict[str, str]:
    """Something in every table: polls and votes, a reminder, a deleted poll (its id stays used), a request
    decided by one approver, 1:1 copies, a roster, quick replies, a reaction, an installation,
    and card updates still queued in the outbox. Returns the card ids by name."""
    group, megan = teams.group_chat(), teams.personal_chat()
    connector.rosters[group.id] = [p.account() for p in (MEGAN, ALEX, PAT)]
    await bot.post(teams.installation(megan, MEGAN, "add", connector.url))
    await bot.say(megan, MEGAN, "poll Lunch? | Pizza | Sushi")  # its options come as quick replies too
    lunch = connector.calls_of("POST")[-2].activity_id
    await vote(bot, megan, MEGAN, "Sushi", lunch)
    await bot.post(teams.reaction(megan, MEGAN, lunch, connector.url, added=("like",)))

    await bot.say(group, MEGAN, "poll Offsite? | Lisbon | Porto")
    offsite = connector.calls_of("POST")[-1].activity_id
    for person in (MEGAN, ALEX):
        await vote(bot, group, person, "Porto", offsite)
    remind = await bot.button(group, MEGAN, offsite, "🔔 Remind the person who hasn't voted")
    await bot.press(group, MEGAN, offsite, remind)
    await bot.say(group, MEGAN, "poll Withdrawn? | Yes | No")
    withdrawn = connector.calls_of("POST")[-1].activity_id
    await bot.press(group, MEGAN, withdrawn, await bot.button(group, MEGAN, withdrawn, "Yes, delete it"))

    await bot.say(group, MEGAN, "approval Budget | for the offsite <at>Alex Wilber</at> <at>Patti Fernandez</at>",
                  (ALEX, PAT))
    (budget,), = bot.rows("SELECT activity_id FROM cards WHERE kind = 'approval' AND conversation_id = ?", group.id)
    await bot.say(teams.personal_chat(ALEX), ALEX, "approve fine by me")

    connector.gate = asyncio.Event()  # Teams stops answering: Pat's vote stays queued in the outbox
    await bot.post(teams.submit(group, PAT, cards.vote_buttons(connector.card(group.id, offsite))["Lisbon"],
                                offsite, connector.url))
    await stop_bot(bot)
    connector.gate = None
    return {"lunch": lunch, "offsite": offsite, "budget": budget}


async def test_migrate_to_copies_every_table_and_the_bot_goes_on_on_the_copy(make_bot, connector, postgres):
    bot = await make_bot()
    sqlite_db, target = bot.db, postgres.new_database()
    card_ids = await fill_through_the_app(bot, connector)
    tables = sqlite_db.tables()
    assert {t for t in tables if not sqlite_db.rows(f'SELECT 1 FROM "{t}" LIMIT 1')} == set(), \
        "the fill leaves no table empty, so a table the copy skipped would show below"
    assert sqlite_db.rows("SELECT COUNT(*) FROM outbox") != [(0,)]
    (highest_poll,), = sqlite_db.rows("SELECT seq FROM sqlite_sequence WHERE name = 'polls'")
    assert sqlite_db.rows("SELECT MAX(id) FROM polls") == [(highest_poll - 1,)], "the newest poll was deleted"

    status, out, err = await migrate_to(target.url, sqlite_db)

    assert status == 0, err
    total = sum(len(sqlite_db.rows(f'SELECT 1 FROM "{t}"')) for t in tables)
    assert out.splitlines()[-1].startswith(f"copied {total} rows in {len(tables)} tables from {sqlite_db.path}")
    assert set(target.tables()) >= set(tables)
    for table in tables:
        names = columns(sqlite_db, table)
        assert contents(target, table, names) == contents(sqlite_db, table, names), table

    bot = await make_bot(db=target)
    await bot.settle()  # the queued update goes out from PostgreSQL
    assert cards.option_counts(connector.card(teams.group_chat().id, card_ids["offsite"])) == \
        {"Lisbon": "1 vote · 33%", "Porto": "2 votes · 67%"}
    group, pat = teams.group_chat(), teams.personal_chat(PAT)
    await bot.say(pat, PAT, "reject over budget")
    assert target.rows("SELECT status FROM approvals") == [("rejected",)]
    assert [e for (e,) in target.rows("SELECT event FROM approval_events ORDER BY id")] == \
        ["created", "decided", "decided"]
    assert "REJECTED" in cards.texts(connector.card(group.id, card_ids["budget"]))[0]

    await bot.say(group, ALEX, "poll After the copy? | Yes | No")
    assert target.rows("SELECT id FROM polls WHERE question = 'After the copy?'") == [(highest_poll + 1,)], \
        "no id handed out before is handed out again"
    megan = teams.personal_chat()
    await bot.say(megan, MEGAN, "my open polls")
    listed = connector.texts(megan.id)[-1]
    assert "Lunch?" in listed and "Offsite?" in listed


async def test_migrate_to_refuses_a_target_that_holds_rows_and_changes_nothing(make_bot, connector, postgres):
    bot = await make_bot()
    await bot.say(teams.group_chat(), MEGAN, "poll Once? | Yes | No")
    await stop_bot(bot)
    target = postgres.new_database()
    assert (await migrate_to(target.url, bot.db))[0] == 0
    before = {t: contents(target, t, columns(bot.db, t)) for t in bot.db.tables()}

    status, out, err = await migrate_to(target.url, bot.db)

    assert (status, out) == (1, "")
    assert err.startswith("poll-bot migrate: nothing was copied: the PostgreSQL database is not empty (rows in ")
    assert {t: contents(target, t, columns(bot.db, t)) for t in bot.db.tables()} == before


async def test_a_copy_failing_halfway_writes_nothing(make_bot, connector, postgres):
    bot = await make_bot()
    await bot.say(teams.group_chat(), MEGAN, "poll Orphans? | Yes | No")
    await stop_bot(bot)
    with sqlite3.connect(bot.db.path) as conn:  # a vote whose poll is gone, from a time without foreign keys
        conn.execute("INSERT INTO votes VALUES (999, 0, 'someone', 'Someone', '2020-01-01T00:00:00.000+00:00')")
    target = postgres.new_empty_database()  # not even migrated: the command migrates it first

    status, _, err = await migrate_to(target.url, bot.db)

    assert status == 1 and "violates foreign key constraint" in err, err
    assert {t: target.rows(f'SELECT COUNT(*) FROM "{t}"') for t in bot.db.tables()} == \
        {t: [(0,)] for t in bot.db.tables()}, "polls and conversations, copied before votes, were rolled back"


async def test_migrate_to_needs_a_postgresql_url_and_an_existing_database(tmp_path):
    missing = SqliteBackend(tmp_path).new_database()
    status, _, err = await migrate_to("sqlite:///elsewhere", missing)
    assert status == 2 and "expected a postgresql://user:password@host:port/dbname URL" in err
    status, _, err = await migrate_to("postgresql://127.0.0.1:1/none", missing)
    assert (status, err) == (1, f"poll-bot migrate: there is no SQLite database at {missing.path} (set POLL_BOT_DB)\n")
    assert not missing.path.exists()
