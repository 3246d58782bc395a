"""SQLite connection, migrations and transactions."""
from __future__ import annotations

import asyncio
import logging
import re
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import AsyncIterator

import aiosqlite

from ..resources import resource_dir

log = logging.getLogger(__name__)
_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


async def fetch_one(conn: aiosqlite.Connection, sql: str, params: tuple = ()) -> aiosqlite.Row | None:
    """One round trip to the database thread (a cursor costs three: execute, fetch, close)."""
    rows = await conn.execute_fetchall(sql, params)
    return rows[0] if rows else None


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def migration_files(folder: Path | None = None) -> list[tuple[int, Path]]:
    folder = folder or resource_dir("db")
    found = []
    for path in sorted(folder.iterdir()):
        match = _MIGRATION_NAME.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return found


class Database:
    """One aiosqlite connection; every unit of work runs under one lock.

    aiosqlite serialises statements on a single thread anyway; the lock keeps
    two coroutines' transactions from interleaving on that connection.
    """

    def __init__(self, conn: aiosqlite.Connection):
        self._conn = conn
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str) -> "Database":
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.execute("PRAGMA busy_timeout=5000")
        db = cls(conn)
        await db.migrate()
        return db

    async def close(self) -> None:
        await self._conn.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            await self._conn.execute("COMMIT")

    async def migrate(self, folder: Path | None = None) -> list[int]:
        """Apply every migration newer than the recorded version, one transaction each."""
        await self._conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        (current,) = await fetch_one(self._conn, "SELECT COALESCE(MAX(version), 0) FROM schema_version")
        applied = []
        for version, path in migration_files(folder):
            if version <= current:
                continue
            async with self.transaction() as conn:
                for statement in _split_sql(path.read_text()):
                    await conn.execute(statement)
                await conn.execute(
                    "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (version, utc_now())
                )
            log.info("applied migration %s", path.name)
            applied.append(version)
        return applied


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements (our migrations hold no ';' inside literals or triggers)."""
    without_comments = "\n".join(line.split("--", 1)[0] for line in script.splitlines())
    return [s.strip() for s in without_comments.split(";") if s.strip()]
