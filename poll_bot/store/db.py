"""The database behind the store: SQLite (embedded, the default) or PostgreSQL.

SQLite goes through aiosqlite: a unit of work is a plain function run on aiosqlite's database thread inside
BEGIN IMMEDIATE ... COMMIT. Awaiting every statement separately cost a thread
hop each (about 100 µs) while the transaction was open, which capped a vote at
about 1,250 transactions/s; one hop per transaction removes that ceiling and,
because the thread runs one function at a time, needs no lock. With
synchronous=FULL each COMMIT waits for the disk, so units arriving meanwhile
share the next transaction (group commit), each in a savepoint of its own.
"""
from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import re
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Protocol, TypeVar

import aiosqlite

from ..resources import resource_dir

log = logging.getLogger(__name__)
_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
T = TypeVar("T")


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def placeholders(values: list | tuple) -> str:
    """`?, ?, ?` for an `IN (...)` over these values. An empty list gives `NULL`: `x IN (NULL)`
    matches nothing on both databases, and PostgreSQL refuses `IN ()`."""
    return ",".join("?" * len(values)) or "NULL"


def fetch_one(conn: sqlite3.Connection, sql: str, params: tuple = ()) -> sqlite3.Row | None:
    return conn.execute(sql, params).fetchone()


def row_lock(conn: Any, clause: str) -> str:
    """`clause` (FOR UPDATE, FOR SHARE ...) to append to a SELECT on PostgreSQL. SQLite needs
    none: its transactions hold the database's one write lock from BEGIN IMMEDIATE on."""
    return "" if isinstance(conn, sqlite3.Connection) else " " + clause


def hold(conn: Any, key: str, shared: bool = False) -> None:
    """Hold `key` until the transaction ends (PostgreSQL; SQLite's transactions never interleave).
    Shared holders wait only for an exclusive one, and it for all of them."""
    if not isinstance(conn, sqlite3.Connection):
        conn.execute(f"SELECT pg_advisory_xact_lock{'_shared' if shared else ''}(hashtextextended(?, 0))", (key,))


def migration_files(folder: Path | None = None) -> list[tuple[int, Path]]:
    folder = folder or resource_dir("db")
    found = []
    for path in sorted(folder.iterdir()):
        match = _MIGRATION_NAME.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return found


class Database(Protocol):
    """What the Store needs of a database. `run` calls `work(connection, *args)` in one
    transaction; the connection has sqlite3's `execute`/`executemany` and rows that read
    by position and by column name."""
    name: str  # for the log: the file, or the server and database (never a password)
    errors: tuple[type[Exception], ...]  # what it raises when the database itself fails
    shared: bool  # other instances may use the database at the same time

    async def run(self, work: Callable[..., T], *args: Any) -> T: ...

    def before_commit(self, conn: Any, key: object, item: Any, finish: Callable[[Any, list], None]) -> None:
        """Collect `item` under `key` in the transaction running on `conn`; just before it commits,
        `finish(conn, items)` runs once for each key with everything collected under it."""

    def lock(self, conn: Any, key: str) -> None:
        """Hold `key` until the transaction ends (serialises units of work on one key)."""

    def try_lock(self, conn: Any, key: str) -> bool:
        """Hold `key` until the transaction ends if nobody else holds it; False if somebody does."""

    def announce(self, conn: Any, channel: str, messages: list[str]) -> None:
        """Tell the other instances' `listen` on `channel` these messages, once the transaction commits."""

    async def listen(self, channel: str, heard: Callable[[str], None]) -> None:
        """Call `heard` with each message announced on `channel`, until cancelled."""

    async def migrate(self, folder: Path | None = None) -> list[int]: ...

    async def close(self) -> None: ...


async def open_database(path: str, url: str = "") -> Database:
    """PostgreSQL when a postgresql:// URL is given, else the SQLite file at `path`."""
    if url:
        from .postgres import PostgresDatabase  # psycopg loads only when it is used
        return await PostgresDatabase.open(url)
    return await SqliteDatabase.open(path)


@dataclass
class _Unit:
    """A unit of work waiting for the next transaction, and who waits for its outcome."""
    work: Callable[..., Any]
    args: tuple
    context: contextvars.Context
    outcome: asyncio.Future


class SqliteDatabase:
    errors = (sqlite3.Error,)  # what it raises when the database itself fails
    shared = False  # one process: SQLite's write lock is local to its machine

    def __init__(self, conn: aiosqlite.Connection, name: str):
        self._conn = conn
        self._batches = CommitBatches()  # of the transaction being written (one at a time)
        self.name = name
        self._waiting: list[_Unit] = []
        self._committer: asyncio.Task | None = None  # the task writing the waiting units, while there are any

    @classmethod
    async def open(cls, path: str) -> "SqliteDatabase":
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(path, isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            for pragma in ("busy_timeout=5000", "journal_mode=WAL", "foreign_keys=ON", "synchronous=FULL"):
                await conn.execute(f"PRAGMA {pragma}")
            db = cls(conn, path)
            await db.migrate()
        except BaseException:
            await conn.close()  # also when a signal cancels the startup: its thread would keep the process
            raise
        return db

    async def close(self) -> None:
        await self._conn.close()

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """Run `work(connection, *args)` on the database thread, all of it or none of it, and return
        once it is committed. Group commit: units that arrive while a commit is being written to
        disk go into the next transaction together, each under a savepoint of its own, so one
        fsync serves them all; a unit that fails is rolled back alone."""
        unit = _Unit(work, args, contextvars.copy_context(), asyncio.get_running_loop().create_future())
        self._waiting.append(unit)
        if self._committer is None:
            self._committer = asyncio.get_running_loop().create_task(self._commit_waiting())
        return await unit.outcome

    async def _commit_waiting(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    # aiosqlite's public calls each queue one statement; _execute queues a whole function.
                    outcomes = await self._conn._execute(_in_transaction, self._conn._conn, batch, self._batches)
                except Exception as error:  # BEGIN or COMMIT failed: nothing of the batch is stored
                    outcomes = [_Failed(error)] * len(batch)
                for unit, outcome in zip(batch, outcomes):
                    if not unit.outcome.done():  # else its caller stopped waiting
                        outcome.settle(unit.outcome)
        finally:
            self._committer = None

    def before_commit(self, conn: sqlite3.Connection, key: object, item: Any,
                      finish: Callable[[Any, list], None]) -> None:
        self._batches.add(key, item, finish)

    def lock(self, conn: sqlite3.Connection, key: str) -> None:
        """Nothing to do: BEGIN IMMEDIATE already gives each transaction the one write lock."""

    def try_lock(self, conn: sqlite3.Connection, key: str) -> bool:
        return True  # the transaction holds the one write lock already

    def announce(self, conn: sqlite3.Connection, channel: str, messages: list[str]) -> None:
        """Nobody else to tell: one process uses the file."""

    async def listen(self, channel: str, heard: Callable[[str], None]) -> None:
        """Nothing to hear (see announce)."""

    async def migrate(self, folder: Path | None = None) -> list[int]:
        """Apply every migration newer than the recorded version, one transaction each."""
        await self._conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        applied = []
        for version, path in migration_files(folder):
            if await self.run(_apply_migration, version, path.read_text()):
                log.info("applied migration %s", path.name)
                applied.append(version)
        return applied


def backup(source: str, target: str) -> None:
    """A consistent copy of the database, also while the bot writes to it: SQLite's online
    backup copies one snapshot (in WAL mode the bot's writes go on meanwhile) into a
    temporary file, which takes the target's name only once it is complete."""
    if not Path(source).is_file():
        raise FileNotFoundError(f"there is no database at {source}")
    if Path(target).resolve() == Path(source).resolve():
        raise ValueError("the backup must go to another file than the database")
    partial = Path(f"{target}.partial")
    try:
        with closing(sqlite3.connect(source)) as live, closing(sqlite3.connect(partial)) as copy:
            live.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, without -wal and -shm
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)


@dataclass(frozen=True)
class _Done:
    value: Any

    def settle(self, outcome: asyncio.Future) -> None:
        outcome.set_result(self.value)


@dataclass(frozen=True)
class _Failed:
    error: Exception

    def settle(self, outcome: asyncio.Future) -> None:
        outcome.set_exception(self.error)


class CommitBatches:
    """What the units of one transaction collected for `before_commit`, in order."""

    def __init__(self) -> None:
        self._entries: list[tuple[object, Any, Callable[[Any, list], None]]] = []

    def add(self, key: object, item: Any, finish: Callable[[Any, list], None]) -> None:
        self._entries.append((key, item, finish))

    def mark(self) -> int:
        return len(self._entries)

    def drop_since(self, mark: int) -> None:
        """Forget what a unit that was rolled back collected."""
        del self._entries[mark:]

    def finish(self, conn: Any) -> None:
        entries, self._entries = self._entries, []
        batches: dict[object, tuple[Callable[[Any, list], None], list]] = {}
        for key, item, finish in entries:
            batches.setdefault(key, (finish, []))[1].append(item)
        for finish, items in batches.values():
            finish(conn, items)


def _in_transaction(conn: sqlite3.Connection, batch: list[_Unit], batches: CommitBatches) -> list[_Done | _Failed]:
    """One transaction for the batch; each unit in a savepoint, in its caller's context (so its log
    lines carry the caller's turn ids)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        outcomes = [_in_savepoint(conn, unit, batches) for unit in batch]
        batches.finish(conn)
    except BaseException:
        batches.drop_since(0)
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return outcomes


def _in_savepoint(conn: sqlite3.Connection, unit: _Unit, batches: CommitBatches) -> _Done | _Failed:
    conn.execute("SAVEPOINT unit")
    collected = batches.mark()
    try:
        value = unit.context.run(unit.work, conn, *unit.args)
    except Exception as error:
        conn.execute("ROLLBACK TO unit")
        conn.execute("RELEASE unit")
        batches.drop_since(collected)
        return _Failed(error)
    conn.execute("RELEASE unit")
    return _Done(value)


def _apply_migration(conn: sqlite3.Connection, version: int, script: str) -> bool:
    """Apply it unless it is recorded already (another process may have just done so)."""
    (current,) = fetch_one(conn, "SELECT COALESCE(MAX(version), 0) FROM schema_version")
    if version <= current:
        return False
    for statement in _split_sql(script):
        conn.execute(statement)
    conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (version, utc_now()))
    return True


def _split_sql(script: str) -> list[str]:
    """Split a migration into whole statements (a trigger's body holds several ';')."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        if line.lstrip().startswith("--"):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        raise ValueError(f"incomplete SQL statement at the end of a migration: {buffer.strip()[:60]}")
    return statements
