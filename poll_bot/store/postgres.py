"""PostgreSQL through psycopg 3: the same units of work as on SQLite, on a pool of
synchronous connections.

Each unit of work runs on a worker thread in one READ COMMITTED transaction and
is run again from the start when PostgreSQL aborts it for a deadlock or a
serialization failure. READ COMMITTED lets concurrent transactions interleave,
so the units of work that read and then write take row locks (`row_lock`) or a
per-key lock (`lock`) where that matters.

The repositories' SQL is written once: `?` placeholders become `%s` here, and
rows read by position, by column name and by unpacking, like sqlite3.Row.
"""
from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

import psycopg
from psycopg import errors, sql
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool

from ..resources import resource_dir
from .db import CommitBatches, migration_files, utc_now

log = logging.getLogger(__name__)
T = TypeVar("T")
POOL_SIZE = 10
ATTEMPTS = 5  # a unit of work aborted for a deadlock or serialization failure runs again, up to this
_RETRYABLE = (errors.SerializationFailure, errors.DeadlockDetected)
_PG_OVERRIDE = re.compile(r"^(\d{3})_[a-z0-9_]+\.pg\.sql$")
_MIGRATION_LOCK = 0x706F6C6C  # "poll": the advisory lock key migrations run under
RELISTEN_SECONDS = 1.0


class Row(tuple):
    """A result row: row[0], row["name"], and `(a, b) = row`."""

    def __new__(cls, values: Iterable[Any], names: dict[str, int]) -> "Row":
        row = super().__new__(cls, values)
        row._names = names
        return row

    def __getitem__(self, key):
        if isinstance(key, str):
            return super().__getitem__(self._names[key])
        return super().__getitem__(key)


def _row_factory(cursor: psycopg.Cursor) -> Callable[[Iterable[Any]], Row]:
    # The names straight from the result: `cursor.description` builds a Column (and looks up its
    # type) for every column of every statement, a tenth of the bot's CPU per vote in a profile.
    result = cursor.pgresult
    names = {result.fname(i).decode(): i for i in range(result.nfields)} if result else {}
    return lambda values: Row(values, names)


@functools.lru_cache(maxsize=2048)
def to_psycopg(sql: str) -> str:
    """`?` placeholders (outside string literals) become `%s`, and a literal `%` becomes `%%`."""
    out, quoted = [], False
    for char in sql:
        if char == "'":
            quoted = not quoted
        if char == "%":
            out.append("%%")
        elif char == "?" and not quoted:
            out.append("%s")
        else:
            out.append(char)
    return "".join(out)


class Result:
    """A statement sent in pipeline mode: its rows and row count are waited for only when read, so
    statements whose results nobody reads (locks, most writes) share a round trip with the next."""

    def __init__(self, cursor: psycopg.Cursor, pipeline: psycopg.Pipeline):
        self._cursor = cursor
        self._pipeline = pipeline

    @property
    def rowcount(self) -> int:
        if self._cursor.pgresult is None:  # not yet received
            self._pipeline.sync()
        return self._cursor.rowcount

    def fetchone(self) -> Row | None:
        return self._cursor.fetchone()

    def fetchall(self) -> list[Row]:
        return self._cursor.fetchall()

    def __iter__(self):
        return iter(self._cursor)


class Connection:
    """A psycopg connection with the surface the repositories use (sqlite3's)."""

    def __init__(self, conn: psycopg.Connection, pipeline: psycopg.Pipeline | None = None):
        self._conn = conn
        self._pipeline = pipeline
        self.batches = CommitBatches()  # what this transaction's unit collected for before_commit

    def execute(self, sql: str, params: Iterable[Any] = ()) -> psycopg.Cursor | Result:
        cursor = self._conn.execute(to_psycopg(sql), tuple(params))
        return Result(cursor, self._pipeline) if self._pipeline else cursor

    def executemany(self, sql: str, params: Iterable[Iterable[Any]]) -> None:
        with self._conn.cursor() as cursor:
            cursor.executemany(to_psycopg(sql), [tuple(p) for p in params])

    def execute_script(self, script: str) -> None:
        """A whole migration as written: no placeholders, and PL/pgSQL bodies hold ';'."""
        self._conn.execute(script)


def postgres_migrations(folder: Path | None = None) -> list[tuple[int, Path]]:
    """pg/NNN_baseline.sql (the schema up to NNN in PostgreSQL's dialect), then each later
    migration of the shared folder, or its NNN_name.pg.sql where PostgreSQL needs its own."""
    folder = folder or resource_dir("db")
    baseline = migration_files(folder / "pg")[-1]
    overrides = {}
    for path in folder.iterdir():
        match = _PG_OVERRIDE.match(path.name)
        if match:
            overrides[int(match.group(1))] = path
    later = [(version, overrides.get(version, path)) for version, path in migration_files(folder)
             if version > baseline[0]]
    return [baseline, *later]


class PostgresDatabase:
    errors = (psycopg.Error,)  # what it raises when the database itself fails
    shared = True

    def __init__(self, pool: ConnectionPool, name: str, url: str):
        self._pool = pool
        self._threads = ThreadPoolExecutor(POOL_SIZE, thread_name_prefix="postgres")
        self._url = url
        self.name = name

    @classmethod
    async def open(cls, url: str) -> "PostgresDatabase":
        pool = ConnectionPool(url, min_size=1, max_size=POOL_SIZE, open=False, configure=_configure,
                              kwargs={"autocommit": True})
        await asyncio.get_running_loop().run_in_executor(None, functools.partial(pool.open, wait=True))
        db = cls(pool, postgres_name(url), url)
        await db.migrate()
        return db

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._threads, self._pool.close)
        self._threads.shutdown()

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """Run `work(connection, *args)` as one transaction on a pooled connection, in a copy of the
        caller's context (so its log lines carry the caller's turn ids)."""
        return await self._in_thread(work, args, True)

    async def _in_thread(self, work: Callable[..., T], args: tuple, pipelined: bool) -> T:
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(self._threads, context.run, self._run, work, args,
                                                                pipelined)

    def _run(self, work: Callable[..., T], args: tuple, pipelined: bool) -> T:
        for _ in range(ATTEMPTS - 1):
            try:
                return self._transaction(work, args, pipelined)
            except _RETRYABLE as error:
                log.info("transaction aborted (%s); running it again", error.sqlstate)
        return self._transaction(work, args, pipelined)

    def _transaction(self, work: Callable[..., T], args: tuple, pipelined: bool) -> T:
        """In pipeline mode: BEGIN, and every statement until one whose result is read, go to the
        server together, and COMMIT follows the last one (a vote's ten statements wait for the
        server only where their results are read).
        An error surfaces at the next read or at the commit, and fails the unit all the same.
        Migrations run unpipelined: a script of several statements needs the simple query protocol."""
        with self._pool.connection() as conn, conn.pipeline() if pipelined else nullcontext() as pipeline, \
                conn.transaction():
            connection = Connection(conn, pipeline)
            result = work(connection, *args)
            connection.batches.finish(connection)
            return result

    def before_commit(self, conn: Connection, key: object, item: Any, finish: Callable[[Any, list], None]) -> None:
        conn.batches.add(key, item, finish)

    def lock(self, conn: Connection, key: str) -> None:
        """Queued, not waited for (a round trip saved): in pipeline mode every statement after it
        runs on the server once the lock is held, so whatever the unit reads next, and decides
        on, comes from after it."""
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", (key,))

    def try_lock(self, conn: Connection, key: str) -> bool:
        (locked,) = conn.execute("SELECT pg_try_advisory_xact_lock(hashtextextended(?, 0))", (key,)).fetchone()
        return locked

    def announce(self, conn: Connection, channel: str, messages: list[str]) -> None:
        """NOTIFY inside the transaction: PostgreSQL delivers it only if and when it commits."""
        conn.execute("SELECT pg_notify(?, m) FROM unnest(?::text[]) AS m", (channel, messages))

    async def listen(self, channel: str, heard: Callable[[str], None]) -> None:
        """LISTEN on a connection of its own, outside the pool and straight to PostgreSQL (a
        pooler in transaction mode passes no notifications on). After a failure it connects
        again; whatever was announced meanwhile is found by the pipeline's sweep."""
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self._url, autocommit=True) as conn:
                    await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    async for notice in conn.notifies():
                        heard(notice.payload)
            except psycopg.Error as error:
                log.warning("listening on %s failed (%s); again in %g s", channel, error, RELISTEN_SECONDS)
            await asyncio.sleep(RELISTEN_SECONDS)

    async def migrate(self, folder: Path | None = None) -> list[int]:
        """Apply every migration newer than the recorded version, one transaction each, under
        an advisory lock: instances starting together apply each migration once."""
        applied = []
        for version, path in postgres_migrations(folder):
            if await self._in_thread(_apply_migration, (version, path.read_text()), False):
                log.info("applied migration %s", path.name)
                applied.append(version)
        return applied


def postgres_name(url: str) -> str:
    """The server and database, for the log (never the password)."""
    parts = conninfo_to_dict(url)
    return f"postgresql {parts.get('host', '')}:{parts.get('port', '')}/{parts.get('dbname', '')}"


def _configure(conn: psycopg.Connection) -> None:
    conn.isolation_level = psycopg.IsolationLevel.READ_COMMITTED
    conn.row_factory = _row_factory


def _apply_migration(conn: Connection, version: int, script: str) -> bool:
    conn.execute("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
    (current,) = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()
    if version <= current:
        return False
    conn.execute_script(script)
    conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (version, utc_now()))
    return True
