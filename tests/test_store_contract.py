"""The store's behaviour, the same on SQLite and on PostgreSQL: every test runs on both."""
from __future__ import annotations

import asyncio
import shutil
import threading
from collections import Counter
from dataclasses import replace

import psycopg
import pytest

from poll_bot.domain.approvals import Draft, Person
from poll_bot.features import polls
from poll_bot.payloads import PollVote
from poll_bot.resources import resource_dir
from poll_bot.store import Store
from poll_bot.store.db import migration_files
from poll_bot.store.models import Conversation
from poll_bot.store.outbox import OutboxStore
from poll_bot.store.postgres import Connection, postgres_migrations
from poll_bot.turn import Turn, User

CHANNEL = Conversation(id="19:general@thread.tacv2", conversation_type="channel", tenant_id="t1",
                       service_url="https://smba.example/", team_id="19:team@thread.tacv2")
MEGAN, ALEX = Person("29:megan", "Megan Bowen"), Person("29:alex", "Alex Wilber")


async def open_store(db) -> Store:
    config = db.config()
    return await Store.open(config.get("DB_PATH", ""), config.get("DATABASE_URL", ""))


@pytest.fixture
async def store(database):
    opened = await open_store(database)
    await opened.run(lambda uow: uow.conversations.upsert(CHANNEL, True))
    yield opened
    await opened.close()


def expected_versions(backend_name: str, folder=None) -> list[int]:
    found = migration_files(folder) if backend_name == "sqlite" else postgres_migrations(folder)
    return [version for version, _ in found]


# Migrations ----------------------------------------------------------------------

async def test_migrations_are_recorded_and_rerunning_is_a_no_op(backend):
    db = backend.new_empty_database()
    first = await open_store(db)
    await first.close()
    assert db.rows("SELECT version FROM schema_version ORDER BY version") == [
        (v,) for v in expected_versions(backend.name)]
    again = await open_store(db)
    assert await again._db.migrate() == []
    await again.close()


async def test_instances_starting_together_apply_each_migration_once(backend):
    db = backend.new_empty_database()
    stores = await asyncio.gather(*(open_store(db) for _ in range(3)))
    for opened in stores:
        await opened.close()
    assert db.rows("SELECT version FROM schema_version ORDER BY version") == [
        (v,) for v in expected_versions(backend.name)]


@pytest.fixture
def migrations(tmp_path):
    """A copy of db/ (with pg/) to add migrations to."""
    folder = tmp_path / "migrations"
    shutil.copytree(resource_dir("db"), folder)
    return folder


async def test_a_failing_migration_rolls_back_alone(backend, migrations):
    (migrations / "900_broken.sql").write_text("CREATE TABLE half_done (x INTEGER);\nTHIS IS NOT SQL;\n")
    db = backend.new_empty_database()
    opened = await open_store(db)
    with pytest.raises(Exception, match="syntax error"):
        await opened._db.migrate(migrations)
    await opened.close()
    assert "half_done" not in db.tables()
    assert db.rows("SELECT MAX(version) FROM schema_version") == [(expected_versions(backend.name)[-1],)]


async def test_a_later_migration_is_shared_unless_postgresql_has_its_own(backend, migrations):
    # SQLite's AUTOINCREMENT is no PostgreSQL, so the first comes with a .pg.sql text; the second is shared.
    first = max(version for version, _ in migration_files(migrations)) + 1
    (migrations / f"{first:03d}_extra.sql").write_text("CREATE TABLE extra (id INTEGER PRIMARY KEY AUTOINCREMENT);\n")
    (migrations / f"{first:03d}_extra.pg.sql").write_text(
        "CREATE TABLE extra (id BIGINT GENERATED ALWAYS AS IDENTITY);\n")
    (migrations / f"{first + 1:03d}_more.sql").write_text("ALTER TABLE extra ADD COLUMN note TEXT NOT NULL DEFAULT '';\n")
    db = backend.new_empty_database()
    opened = await open_store(db)
    assert await opened._db.migrate(migrations) == [first, first + 1]
    await opened.close()
    db.execute("INSERT INTO extra (note) VALUES ('x')")
    assert db.rows("SELECT id, note FROM extra") == [(1, "x")]


# Units of work -------------------------------------------------------------------

async def test_a_failed_unit_of_work_leaves_nothing_behind(store):
    def half_done(uow):
        uow.activities.first_time("a1", CHANNEL.id)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await store.run(half_done)
    assert await store.run(lambda uow: uow.activities.first_time("a1", CHANNEL.id)) is True


async def test_an_activity_is_handled_once_and_a_double_press_counts_once(store):
    def first(uow, key):
        return uow.activities.first_time(key, CHANNEL.id)

    assert [await store.run(first, k) for k in ("a1", "a1", "a2")] == [True, False, True]

    def press(uow, at):
        return uow.activities.first_press(MEGAN.id, "vote:1:0", at, 1.5, CHANNEL.id)

    assert [await store.run(press, at) for at in (100.0, 101.0, 103.0, 103.5)] == [True, False, True, False]


async def test_updates_of_one_card_coalesce_until_one_is_claimed(store):
    def enqueue(uow):
        uow.outbox.enqueue(CHANNEL.id, "update_card", card_id=card_id)

    card_id = await store.run(lambda uow: uow.cards.create(CHANNEL.id, "poll", "en", subject_id=1))
    await store.run(enqueue)
    await store.run(enqueue)
    job = await store.run(lambda uow: uow.outbox.head(CHANNEL.id))
    assert await store.run(lambda uow: uow.outbox.claim(job.id)) is True
    assert await store.run(lambda uow: uow.outbox.claim(job.id)) is False, "claimed once"
    await store.run(enqueue)
    await store.run(enqueue)
    assert await store.run(lambda uow: uow.outbox.pending_count()) == 2, "the claimed one and one newer"


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)  # SQLite's transactions never interleave
async def test_a_claim_waits_for_the_transactions_coalescing_into_the_update(store, database):
    card_id = await store.run(lambda uow: uow.cards.create(CHANNEL.id, "poll", "en", subject_id=1))
    await store.run(lambda uow: uow.outbox.enqueue(CHANNEL.id, "update_card", card_id=card_id))
    (job_id,), = database.rows("SELECT id FROM outbox")
    with psycopg.connect(database.url) as vote, psycopg.connect(database.url) as lane:
        OutboxStore(Connection(vote), set()).enqueue(CHANNEL.id, "update_card", card_id=card_id)  # not committed
        lane.execute("SET lock_timeout = '100ms'")
        with pytest.raises(psycopg.errors.LockNotAvailable):
            OutboxStore(Connection(lane), set()).claim(job_id)  # its render would miss the vote
        lane.rollback()
        vote.commit()
        assert OutboxStore(Connection(lane), set()).claim(job_id) is True
    assert database.rows("SELECT claimed FROM outbox") == [(1,)], "the vote's update coalesced into the claimed one"


async def test_a_subjects_card_in_a_conversation_is_its_first_there(store):
    other = Conversation(id="a:1:1-chat", conversation_type="personal", tenant_id="t1",
                         service_url="https://smba.example/")

    def create(uow):
        uow.conversations.upsert(other, True)
        return [uow.cards.create(other.id, "poll", "en", subject_id=7), uow.cards.create(CHANNEL.id, "poll", "en", subject_id=7),
                uow.cards.create(CHANNEL.id, "poll", "en", subject_id=7), uow.cards.create(CHANNEL.id, "approval", "en", subject_id=7)]

    elsewhere, first_here, _, approval_here = await store.run(create)
    found = lambda kind, conversation: store.run(lambda uow: uow.cards.in_conversation(kind, 7, conversation))
    assert (await found("poll", CHANNEL.id)).id == first_here
    assert (await found("poll", other.id)).id == elsewhere
    assert (await found("approval", CHANNEL.id)).id == approval_here
    assert await found("approval", other.id) is None
    assert await store.run(lambda uow: uow.cards.in_conversation("poll", 8, CHANNEL.id)) is None


async def test_seconds_since_the_epoch_keep_their_milliseconds(store):
    await store.run(lambda uow: uow.outbox.enqueue(CHANNEL.id, "send_message", body={"text": "hi"}))
    job = await store.run(lambda uow: uow.outbox.head(CHANNEL.id))
    await store.run(lambda uow: uow.outbox.retry_later(job, 1763750000.123))
    job = await store.run(lambda uow: uow.outbox.head(CHANNEL.id))
    assert (job.attempts, job.not_before) == (1, 1763750000.123)


def create_poll(uow, multiple_choice=False) -> int:
    return uow.polls.create(CHANNEL.id, MEGAN.id, MEGAN.name, "Lunch?", ["Pizza", "Sushi"], multiple_choice)


async def test_votes_are_counted_once_per_person_and_option(store):
    poll_id = await store.run(create_poll, True)

    def vote(uow, person, position):
        uow.polls.add_vote(poll_id, position, person.id, person.name)

    for person, position in ((MEGAN, 0), (MEGAN, 0), (MEGAN, 1), (ALEX, 1)):
        await store.run(vote, person, position)
    results = await store.run(lambda uow: uow.polls.results(poll_id))
    assert (results.counts, results.voters) == ({0: 1, 1: 2}, 2)
    poll = await store.run(lambda uow: uow.polls.get(poll_id))
    assert (poll.question, [o.label for o in poll.options], poll.multiple_choice) == ("Lunch?", ["Pizza", "Sushi"],
                                                                                       True)


async def test_one_person_pressing_two_options_at_once_keeps_one_vote(store, database):
    """Single choice: concurrent presses of one person run one after the other (Turn._once
    takes the person's lock), so the second moves the vote instead of adding one."""
    poll_id = await store.run(create_poll)
    people = [User(f"29:voter-{i}", f"Voter {i}") for i in range(20)]

    def turn(person, n):
        return Turn(activity_id=f"{person.id}-{n}", conversation=CHANNEL, user=person, store=store,
                    double_press_window=0, press=f"vote:{n}")

    await asyncio.gather(*(turn(p, n).run_once(polls._vote, PollVote(poll_id, n)) for p in people for n in (0, 1)))
    per_person = database.rows("SELECT user_id, COUNT(*) FROM votes GROUP BY user_id")
    assert sorted(per_person) == sorted((p.id, 1) for p in people)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)  # SQLite's transactions never interleave
async def test_a_unit_of_work_aborted_for_a_deadlock_runs_again(store):
    both_hold_one = threading.Barrier(2, timeout=10)
    attempts = Counter()

    def work(uow, first, second):
        attempts[first] += 1
        uow.lock(first)
        if attempts[first] == 1:
            both_hold_one.wait()
        uow.lock(second)  # each waits for the other: PostgreSQL aborts one of them
        return first

    done = await asyncio.gather(store.run(work, "a", "b"), store.run(work, "b", "a"))
    assert done == ["a", "b"]
    assert sorted(attempts.values()) == [1, 2]


# Approvals -----------------------------------------------------------------------

def create_approval(uow) -> int:
    draft = Draft("New laptops", "Three", (ALEX,), "all", 1)
    approval_id = uow.approvals.create(CHANNEL.id, MEGAN, draft, None)
    uow.approvals.log(approval_id, MEGAN, "created")
    return approval_id


async def test_the_audit_refuses_updates_and_deletes(store, database):
    approval_id = await store.run(create_approval)
    for sql in ("UPDATE approval_events SET detail = 'x'", "DELETE FROM approval_events"):
        with pytest.raises(database.integrity_error, match="append-only"):
            database.execute(sql)
    history = await store.run(lambda uow: uow.approvals.history(approval_id))
    assert [(e.actor, e.event) for e in history] == [("Megan Bowen", "created")]


async def test_a_copy_is_read_up_to_the_last_message_read_with_teams_sized_ids(store):
    chat = Conversation(id="a:1alex", conversation_type="personal", tenant_id="t1", service_url=CHANNEL.service_url)

    def copies(uow):
        uow.conversations.upsert(chat, True)
        approval_id = create_approval(uow)
        for activity_id in ("1763750000100", "1763750000200", "99999999999999"):
            card_id = uow.cards.create(chat.id, "approval", "en", subject_id=approval_id)
            uow.cards.set_activity_id(card_id, activity_id)
            uow.approvals.add_copy(card_id, approval_id, ALEX.id)

    await store.run(copies)
    await store.run(lambda uow: uow.approvals.mark_read(chat.id, "1763750000150"))
    unread = await store.run(lambda uow: uow.approvals.unread_copies("9999"))
    assert [c.card_id for c in unread] == [2, 3]


# Erasure -------------------------------------------------------------------------

async def test_erasing_a_conversation_removes_everything_stored_for_it(store, database):
    def fill(uow):
        poll_id = create_poll(uow)
        uow.polls.add_vote(poll_id, 0, ALEX.id, ALEX.name)
        card_id = uow.cards.create(CHANNEL.id, "poll", "en", subject_id=poll_id)
        uow.cards.set_activity_id(card_id, "1000")
        uow.outbox.enqueue(CHANNEL.id, "update_card", card_id=card_id)
        approval_id = create_approval(uow)
        uow.approvals.add_copy(card_id, approval_id, ALEX.id)
        uow.people.replace_members(CHANNEL.id, [(ALEX.id, ALEX.name, ""), (ALEX.id, ALEX.name, "")])
        uow.messages.record_sent(CHANNEL.id, "1001", card_id, "Tap an option")
        uow.messages.record_sent(CHANNEL.id, "1001", card_id, "Tap an option to vote")
        uow.messages.add_reaction(CHANNEL.id, "1000", ALEX.id, "like", card_id)
        uow.messages.add_reaction(CHANNEL.id, "1000", ALEX.id, "like", card_id)

    await store.run(fill)
    assert database.rows("SELECT text FROM sent_messages") == [("Tap an option to vote",)]
    assert database.rows("SELECT COUNT(*) FROM reactions") == database.rows("SELECT COUNT(*) FROM conversation_members")
    await store.run(lambda uow: uow.conversations.erase([CHANNEL.id]))
    left = {t: database.rows(f'SELECT COUNT(*) FROM "{t}"')[0][0] for t in database.tables()}
    assert {t: n for t, n in left.items() if n} == {}


async def test_a_conversation_keeps_the_language_of_its_latest_activity_that_named_one(store):
    def speak(locale):
        async def run():
            await store.record_conversation(replace(CHANNEL, locale=locale), True, "29:megan")
            return (await store.run(lambda uow: uow.conversations.get(CHANNEL.id))).locale
        return run()

    assert (await store.run(lambda uow: uow.conversations.get(CHANNEL.id))).locale == ""
    assert [await speak(tag) for tag in ("de-DE", "", "en-US")] == ["de-DE", "de-DE", "en-US"]


async def test_a_card_keeps_the_language_it_was_created_in(store):
    card_id = await store.run(lambda uow: uow.cards.create(CHANNEL.id, "poll", "de-DE", subject_id=1))
    assert (await store.run(lambda uow: uow.cards.get(card_id))).locale == "de-DE"
