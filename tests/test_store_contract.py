"""The store's behaviour, the same on SQLite and on PostgreSQL: every test runs on both."""
from __future__ import annotations

import asyncio
import shutil
import threading
from collections import Counter
from dataclasses import replace
from datetime import datetime, timezone

import psycopg
import pytest

from poll_bot.domain.approvals import Draft, Person
from poll_bot.domain.polls import PollDraft, PollSettings
from poll_bot.features import polls
from poll_bot.outbound.limits import TEAMS_THREAD_WINDOWS
from poll_bot.payloads import PollEdit, PollVote
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
    return await Store.open(config.get("DB_PATH", ""), config.get("DATABASE_URL", ""), b"test secret")


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

def first_time(uow, key: str) -> bool:
    """The activity `key` was not handled before (it presses no button)."""
    return uow.activities.first_delivery_and_press(key, MEGAN.id, "", 0.0, 0.0, CHANNEL.id)


async def test_a_failed_unit_of_work_leaves_nothing_behind(store):
    def half_done(uow):
        first_time(uow, "a1")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await store.run(half_done)
    assert await store.run(lambda uow: first_time(uow, "a1")) is True


@pytest.mark.parametrize("then_read", [False, True])
async def test_a_failing_statement_whose_result_is_never_read_fails_its_unit(store, database, then_read):
    """PostgreSQL pipelines a unit's statements, so an error may surface at a later read or at the
    commit: the unit fails all the same, and nothing of it is stored."""
    def unit(uow):
        first_time(uow, "a1")
        uow.people.remember_personal_chat(MEGAN.id, "a:no-such-chat")  # breaks a foreign key
        if then_read:
            uow.people.personal_chat(MEGAN.id)

    with pytest.raises(database.integrity_error):
        await store.run(unit)
    assert await store.run(lambda uow: first_time(uow, "a1")) is True
    assert database.rows("SELECT COUNT(*) FROM personal_chats") == [(0,)]


async def test_work_collected_before_commit_runs_once_per_key_and_sees_every_units_writes(store):
    """The invoke answers' primitive: units that commit together hand their items to one finish,
    which reads what all of them wrote; a unit that fails takes its items with it."""
    finished: list[tuple[str, list[str], list[bool]]] = []

    def finish(key):
        def run(uow, items):
            seen = [not first_time(uow, item) for item in items]
            finished.append((key, items, seen))
        return run

    def unit(uow, item, fail=False):
        first_time(uow, item)
        uow.before_commit("answers", item, finish("answers"))
        uow.before_commit("other", item, finish("other"))
        if fail:
            raise RuntimeError("boom")

    outcomes = await asyncio.gather(store.run(unit, "a1"), store.run(unit, "a2", True), store.run(unit, "a3"),
                                    return_exceptions=True)
    assert isinstance(outcomes[1], RuntimeError) and outcomes[0] is None and outcomes[2] is None
    answered = sorted(item for key, items, _ in finished if key == "answers" for item in items)
    assert answered == ["a1", "a3"]  # each item once, the failed unit's never
    assert all(all(seen) for _, _, seen in finished)  # finish ran before commit, after the writes
    assert sorted(item for key, items, _ in finished if key == "other" for item in items) == ["a1", "a3"]
    assert await store.run(lambda uow: first_time(uow, "a2")) is True  # rolled back


async def test_an_activity_is_handled_once_and_a_double_press_counts_once(store):
    def first(uow, key):
        return first_time(uow, key)

    assert [await store.run(first, k) for k in ("a1", "a1", "a2")] == [True, False, True]

    def press(uow, at):
        return uow.activities.first_delivery_and_press("", MEGAN.id, "vote:1:0", at, 1.5, CHANNEL.id)

    assert [await store.run(press, at) for at in (100.0, 101.0, 103.0, 103.5)] == [True, False, True, False]

    def delivered_press(uow, key, at):
        return uow.activities.first_delivery_and_press(key, MEGAN.id, "vote:1:1", at, 1.5, CHANNEL.id)

    presses = [("b1", 100.0), ("b1", 105.0), ("b2", 105.5), ("b3", 106.0)]
    assert [await store.run(delivered_press, key, at) for key, at in presses] == [True, False, True, False], \
        "a redelivery counts as no press: the next press is measured from the first delivery's"


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


def create_poll(uow, settings: PollSettings = PollSettings()) -> int:
    return uow.polls.create(CHANNEL.id, MEGAN.id, MEGAN.name, PollDraft("Lunch?", ("Pizza", "Sushi"), settings))


def vote(uow, poll_id, person, position):
    uow.polls.add_vote(uow.polls.get(poll_id), position, person.id, person.name)


async def test_votes_are_counted_once_per_person_and_option(store):
    poll_id = await store.run(create_poll, PollSettings(multiple_choice=True))

    for person, position in ((MEGAN, 0), (MEGAN, 0), (MEGAN, 1), (ALEX, 1)):
        await store.run(vote, poll_id, person, position)
    results = await store.run(lambda uow: uow.polls.results(poll_id))
    assert (results.counts, results.voters) == ({0: 1, 1: 2}, 2)
    poll = await store.run(lambda uow: uow.polls.get(poll_id))
    assert (poll.question, [o.label for o in poll.options], poll.multiple_choice) == ("Lunch?", ["Pizza", "Sushi"],
                                                                                       True)
    for person, chose in ((MEGAN, {0, 1}), (ALEX, {1}), (Person("29:nobody", "Nobody"), set())):
        read, choices = await store.run(lambda uow: uow.polls.get_with_choices(poll_id, person.id, for_share=True))
        assert (read, choices) == (poll, chose)
    assert await store.run(lambda uow: uow.polls.get_with_choices(poll_id + 1, MEGAN.id)) == (None, frozenset())


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


def turn_of(store, person, activity_id: str) -> Turn:
    return Turn(activity_id=activity_id, conversation=CHANNEL, user=User(person.id, person.name), store=store,
                double_press_window=0, press=activity_id)


async def held_open(store, work):
    """Run `work` as a unit of work that stays open after it; returns its outcome and the call
    that lets it commit."""
    done, release = threading.Event(), threading.Event()

    def unit(uow):
        work(uow)
        uow.polls.get(0)  # a read: PostgreSQL has run everything before it
        done.set()
        release.wait(10)

    running = asyncio.ensure_future(store.run(unit))
    await asyncio.to_thread(done.wait, 10)
    return running, release.set


async def until_one_waits_for_a_lock(database) -> None:
    for _ in range(1000):
        if database.rows("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
                         "AND wait_event_type = 'Lock'") != [(0,)]:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("nobody waits for a lock")


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)  # SQLite's transactions never interleave
async def test_an_edit_waits_for_a_vote_being_cast_and_then_keeps_it(store, database):
    poll_id = await store.run(create_poll)

    def vote_for_sushi(uow):  # as polls._vote does
        poll, _ = uow.polls.get_with_choices(poll_id, ALEX.id, for_share=True)
        uow.polls.add_vote(poll, 1, ALEX.id, ALEX.name)

    voting, commit_the_vote = await held_open(store, vote_for_sushi)
    edit = turn_of(store, MEGAN, "edit")
    editing = asyncio.ensure_future(edit.run_once(polls._edit_on_card, PollEdit(poll_id, "Dinner?", "Soup\nSalad")))
    await until_one_waits_for_a_lock(database)
    commit_the_vote()
    await asyncio.gather(voting, editing)

    assert database.rows("SELECT o.label FROM votes v JOIN poll_options o USING (poll_id, position)") == [("Sushi",)]
    assert database.rows("SELECT question FROM polls") == [("Lunch?",)]
    assert edit.refusals[0].startswith("I kept the poll as it was. People have already voted"), edit.refusals


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)  # SQLite's transactions never interleave
async def test_a_vote_that_waits_for_an_edit_reads_the_edited_options(store, database):
    poll_id = await store.run(create_poll)

    def edit(uow):  # as polls._edit_on_card does
        uow.polls.lock(poll_id, exclusive=True)
        uow.polls.replace_draft(poll_id, "Dinner?", ["Soup", "Salad"])

    editing, commit_the_edit = await held_open(store, edit)
    voter = turn_of(store, ALEX, "vote")
    voting = asyncio.ensure_future(voter.run_once(polls._vote, PollVote(poll_id, 1)))  # Sushi, on the old card
    await until_one_waits_for_a_lock(database)
    commit_the_edit()
    await editing

    assert await voting is None
    assert database.rows("SELECT COUNT(*) FROM votes") == [(0,)]
    assert voter.refusals == ["This poll was edited after your card was shown, so your vote was not recorded. "
                              "Vote again on the card as it is now."]


async def test_an_anonymous_vote_is_kept_under_a_keyed_hash_of_the_voter_and_the_poll(store, database):
    anonymous = await store.run(create_poll, PollSettings(anonymous=True))
    another = await store.run(create_poll, PollSettings(anonymous=True))
    for poll_id in (anonymous, another):
        await store.run(vote, poll_id, ALEX, 1)

    stored = database.rows("SELECT poll_id, position, user_id, user_name FROM votes ORDER BY poll_id")
    assert [(p, position, name) for p, position, _, name in stored] == [(anonymous, 1, ""), (another, 1, "")]
    assert ALEX.id not in str(stored) and stored[0][2] != stored[1][2], "a voter's hash differs from poll to poll"
    choices = await store.run(lambda uow: uow.polls.user_choices(uow.polls.get(anonymous), ALEX.id))
    assert choices == {1}, "the voter's own vote is still found by their id"
    _, choices = await store.run(lambda uow: uow.polls.get_with_choices(anonymous, ALEX.id))
    assert choices == {1}, "also when read with the poll"
    await store.run(lambda uow: uow.polls.remove_vote(uow.polls.get(anonymous), 1, ALEX.id))
    assert database.rows("SELECT COUNT(*) FROM votes WHERE poll_id = ?", anonymous) == [(0,)]


async def test_migration_13_forgets_anonymous_polls_reminders_kept_under_their_votes_hash(store, database,
                                                                                           migrations):
    anonymous = await store.run(create_poll, PollSettings(anonymous=True))
    named = await store.run(create_poll)
    for poll_id in (anonymous, named):
        await store.run(lambda uow, poll_id: uow.polls.remind(uow.polls.get(poll_id), ALEX.id), poll_id)
    for later in migrations.glob("01[4-9]_*.sql"):
        later.unlink()
    database.execute("DELETE FROM schema_version WHERE version >= 13")  # as if at 12 (014 keeps the rows)

    assert await store._db.migrate(migrations) == [13]

    assert database.rows("SELECT poll_id FROM poll_reminders") == [(named,)]
    assert await store._db.migrate() == [14], "and on to the latest (test databases are reused)"


async def test_migration_14_folds_each_reply_chains_roster_into_its_channels(store, database):
    database.execute("DELETE FROM schema_version WHERE version = 14")  # as if at 13: rows by conversation
    for chain, name in (("1", "Alex W."), ("2", "Alex Wilber")):
        database.execute("INSERT INTO conversation_members (conversation_id, user_id, name, aad_object_id) "
                         "VALUES (?, ?, ?, '')", f"{CHANNEL.id};messageid={chain}", ALEX.id, name)
    database.execute("INSERT INTO conversation_members (conversation_id, user_id, name, aad_object_id) "
                     "VALUES (?, ?, ?, '')", f"{CHANNEL.id};messageid=2", MEGAN.id, MEGAN.name)

    assert await store._db.migrate() == [14]

    assert database.rows("SELECT conversation_id, user_id FROM conversation_members ORDER BY user_id") == [
        (CHANNEL.id, ALEX.id), (CHANNEL.id, MEGAN.id)]
    assert await store.run(lambda uow: uow.people.member_count(f"{CHANNEL.id};messageid=3")) == 2


async def test_a_poll_is_closed_once_however_many_close_it_at_once(store):
    poll_id = await store.run(create_poll, PollSettings(closes_at=datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)))
    await store.run(create_poll, PollSettings(closes_at=datetime(2026, 11, 21, 13, 0, tzinfo=timezone.utc)))
    due = await store.run(lambda uow: uow.polls.due("2026-11-21T12:30:00.000+00:00", 10))
    assert due == [poll_id]

    closed = await asyncio.gather(*(store.run(lambda uow: uow.polls.close(poll_id, "deadline")) for _ in range(4)))
    assert sorted(closed) == [False, False, False, True]
    assert await store.run(lambda uow: uow.polls.due("2026-11-21T12:30:00.000+00:00", 10)) == []
    assert await store.run(lambda uow: (uow.polls.reopen(poll_id), uow.polls.reopen(poll_id))) == (True, False)


async def test_a_recent_press_keeps_no_id_and_no_button(store, database):
    def press(uow, user_id, at):
        return uow.activities.first_delivery_and_press("", user_id, '{"option": 1}', at, 1.5, CHANNEL.id)

    first, again, other = [await store.run(press, *args) for args in ((ALEX.id, 1000.0), (ALEX.id, 1001.0),
                                                                      (MEGAN.id, 1001.0))]
    assert (first, again, other) == (True, False, True)
    kept = str(database.rows("SELECT * FROM recent_presses"))
    assert ALEX.id not in kept and "option" not in kept


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)  # SQLite's transactions never interleave
async def test_a_unit_of_work_aborted_for_a_deadlock_runs_again(store):
    both_hold_one = threading.Barrier(2, timeout=10)
    attempts = Counter()

    def work(uow, first, second):
        attempts[first] += 1
        uow.lock(first)
        uow.outbox.pending_count()  # a read: it comes back once the lock is held
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
        vote(uow, poll_id, ALEX, 0)
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


# Lanes: who delivers for a conversation ------------------------------------------

def take(store, owner: str, now: float, conversation_id: str = CHANNEL.id):
    return store.run(lambda uow: uow.lanes.take(conversation_id, owner, now, now + 20))


async def test_a_lane_is_one_instances_until_its_lease_runs_out_and_each_take_fences_the_last(store):
    assert await take(store, "a", 100) == 1
    assert await take(store, "b", 119) is None, "a's lease is live"
    assert await take(store, "a", 110) == 2, "its holder may take it again (an instance runs one lane per conversation)"
    assert await take(store, "b", 131) == 3, "expired: taken over"

    def renew(owner, epoch):
        return store.run(lambda uow: uow.lanes.renew(CHANNEL.id, owner, epoch, 200))

    assert await renew("a", 2) is False, "the old holder is fenced out"
    assert await renew("b", 2) is False, "so is an old epoch"
    assert await renew("b", 3) is True
    await store.run(lambda uow: uow.lanes.release(CHANNEL.id, "a", 2))
    assert await take(store, "c", 150) is None, "a stale release changes nothing"
    await store.run(lambda uow: uow.lanes.release(CHANNEL.id, "b", 3))
    assert await take(store, "c", 150) == 4, "released: free at once, and epochs only grow"


async def test_no_lane_is_taken_for_a_conversation_that_is_not_stored(store):
    assert await take(store, "a", 100, "19:unknown@thread.v2") is None


async def test_releasing_an_instances_lanes_leaves_the_others(store):
    other = Conversation(id="19:other@thread.v2", conversation_type="groupChat", tenant_id="t1",
                         service_url=CHANNEL.service_url)
    await store.run(lambda uow: uow.conversations.upsert(other, True))
    await take(store, "a", 100)
    await take(store, "b", 100, other.id)
    assert await store.run(lambda uow: uow.lanes.release_all("a")) == [CHANNEL.id]
    assert await take(store, "c", 101) == 2
    assert await take(store, "c", 101, other.id) is None


async def test_the_sweep_finds_deliverable_work_that_no_live_lease_covers(store):
    held = Conversation(id="19:held@thread.v2", conversation_type="groupChat", tenant_id="t1",
                        service_url=CHANNEL.service_url)

    def queue(uow):
        uow.conversations.upsert(held, True)
        uow.conversations.set_active(held.id, False)
        for conversation_id in (CHANNEL.id, held.id):
            uow.outbox.enqueue(conversation_id, "send_message", body={"text": "hi"})

    await store.run(queue)
    unowned = lambda now: store.run(lambda uow: uow.lanes.unowned_work(now, 10))
    assert await unowned(100) == [CHANNEL.id], "the held conversation's work waits for it to come back"
    await take(store, "a", 100)
    assert await unowned(110) == []
    assert await unowned(121) == [CHANNEL.id], "its holder's lease ran out"


async def test_taking_a_lane_over_gives_back_what_its_last_holder_had_claimed(store):
    card_id = await store.run(lambda uow: uow.cards.create(CHANNEL.id, "poll", "en", subject_id=1))
    update = lambda uow: uow.outbox.enqueue(CHANNEL.id, "update_card", card_id=card_id)
    await store.run(lambda uow: uow.outbox.enqueue(CHANNEL.id, "send_message", body={"text": "hi"}))
    await store.run(update)
    for _ in range(2):
        job = await store.run(lambda uow: uow.outbox.head(CHANNEL.id))
        await store.run(lambda uow: uow.outbox.claim(job.id))
    await store.run(update)  # a newer update of the claimed card
    await store.run(lambda uow: uow.outbox.release_claims([CHANNEL.id]))
    assert await store.run(lambda uow: uow.outbox.pending_count()) == 2, "the older update went"
    job = await store.run(lambda uow: uow.outbox.head(CHANNEL.id))
    assert (job.kind, job.body) == ("send_message", {"text": "hi"}), "claimable again, in order"


# Budgets: Teams' rate limits for every instance together ------------------------

SCOPES = [("send thread", ((2, 1.0),)), ("tenant t1", ((50, 1.0),))]


async def test_a_budget_window_fills_and_says_how_long_to_wait(store):
    reserve = lambda now: store.run(lambda uow: uow.budget.reserve(SCOPES, now, now + 10))
    first, wait = await reserve(0.0)
    assert len(first) == 2 and wait == 0, "one row per scope"
    second, _ = await reserve(0.1)
    assert await reserve(0.2) == ([], 1.0), "both calls in flight: they count for at least a second more"
    other_thread = [("send other", ((2, 1.0),)), SCOPES[1]]
    assert (await store.run(lambda uow: uow.budget.reserve(other_thread, 0.2, 10)))[1] == 0, "threads are apart"
    for ids, ended in ((first, 0.05), (second, 0.15)):
        await store.run(lambda uow: uow.budget.spent(ids, ended))
    assert (await reserve(0.2))[1] == pytest.approx(0.85), "until the first call's end leaves the window"
    assert (await reserve(1.06))[1] == 0
    await store.run(lambda uow: uow.budget.prune(1.0))
    assert (await reserve(1.06))[1] == 0, "the calls that ended before 1.0 are forgotten"
    assert (await reserve(1.07))[1] > 0


async def test_budgets_count_every_instances_calls_and_match_the_teams_table(database):
    """Two stores on one database (two instances) send whenever the budget allows, for 40
    simulated seconds, each call taking 10 ms: no window of Teams' table ever holds more,
    and the budget is used, not only respected."""
    stores = [await open_store(database), await open_store(database)]
    await stores[0].run(lambda uow: uow.conversations.upsert(CHANNEL, True))
    scopes = [("send thread", TEAMS_THREAD_WINDOWS)]
    now, sent = 0.0, []
    while now < 40:
        store = stores[len(sent) % 2]
        ids, wait = await store.run(lambda uow: uow.budget.reserve(scopes, now, now + 1))
        if wait:
            now += wait
            continue
        sent.append(now)
        now += 0.01
        await store.run(lambda uow: uow.budget.spent(ids, now))
    for opened in stores:
        await opened.close()
    for limit, span in TEAMS_THREAD_WINDOWS:
        for i, start in enumerate(sent):
            assert sum(1 for t in sent[i:] if t < start + span) <= limit, (limit, span)
    assert sum(1 for t in sent if t < 30) == 60, "the budget must be usable, not just respected"


# Render numbers, conditional timers and try-locks -----------------------------------

async def test_a_cards_shown_render_never_goes_back(store):
    card_id = await store.run(lambda uow: uow.cards.create(CHANNEL.id, "poll", "en", subject_id=1))
    versions = [await store.run(lambda uow: uow.cards.next_render(card_id)) for _ in range(3)]
    assert versions == [1, 2, 3]
    show = lambda version: store.run(lambda uow: uow.cards.show(card_id, version))
    assert [await show(2), await show(1), await show(2), await show(3)] == [True, False, False, True]


async def test_a_request_expires_and_an_approver_is_reminded_once(store):
    def copy(uow):
        approval_id = create_approval(uow)
        card_id = uow.cards.create(CHANNEL.id, "approval", "en", subject_id=approval_id)
        uow.approvals.add_copy(card_id, approval_id, ALEX.id)
        return approval_id, card_id

    approval_id, card_id = await store.run(copy)
    assert [await store.run(lambda uow: uow.approvals.mark_reminded(card_id)) for _ in range(2)] == [True, False]
    assert [await store.run(lambda uow: uow.approvals.expire(approval_id)) for _ in range(2)] == [True, False]
    assert (await store.run(lambda uow: uow.approvals.get(approval_id))).status == "expired"


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)  # SQLite's transactions never interleave
async def test_a_try_lock_is_refused_while_another_unit_of_work_holds_it(store):
    held, done = threading.Event(), threading.Event()

    def holder(uow):
        locked = uow.try_lock("timers")
        held.set()
        done.wait(10)
        return locked

    holding = asyncio.ensure_future(store.run(holder))
    await asyncio.to_thread(held.wait, 10)
    refused = await store.run(lambda uow: uow.try_lock("timers"))
    done.set()
    assert (await holding, refused) == (True, False)
    assert await store.run(lambda uow: uow.try_lock("timers")) is True, "free once the holder ended"


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
