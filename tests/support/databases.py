"""The two databases the bot runs on, as the tests see them: a fresh database per
test, its configuration for the app (or a subprocess's environment), and a
second connection to read and change what the bot stored.

PostgreSQL is a throwaway server: initdb'd in a temporary directory (as the
`postgres` user when running as root, since initdb refuses root) from Debian's
`postgresql` package, on a free loopback port, and removed at the end.
Each test gets a database of its own, migrated and empty: one a finished test
emptied, else a new copy of a migrated template (copying takes far longer than emptying).
"""
from __future__ import annotations

import asyncio
import glob
import itertools
import os
import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import psycopg

from poll_bot.store.postgres import PostgresDatabase, to_psycopg
from tests.support.net import free_port

TEMPLATE = "poll_bot_template"


class SqliteTestDatabase:
    name = "sqlite"
    integrity_error = sqlite3.IntegrityError

    def __init__(self, path: Path):
        self.path = path

    def config(self) -> dict[str, str]:
        return {"DB_PATH": str(self.path), "DATABASE_URL": ""}

    def env(self) -> dict[str, str]:
        return {"POLL_BOT_DB": str(self.path), "POLL_BOT_DATABASE_URL": ""}

    def rows(self, sql: str, *args: Any) -> list[tuple]:
        with sqlite3.connect(self.path) as conn:
            return conn.execute(sql, args).fetchall()

    def execute(self, sql: str, *args: Any) -> None:
        with sqlite3.connect(self.path) as conn:
            conn.execute(sql, args)

    def tables(self) -> list[str]:
        """The bot's tables (not the migrations' record, nor SQLite's own)."""
        return [r[0] for r in self.rows("SELECT name FROM sqlite_master WHERE type = 'table'")
                if r[0] not in ("schema_version", "sqlite_sequence")]

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Another connection holds the whole database until the block ends."""
        locker = sqlite3.connect(self.path, isolation_level=None)
        try:
            locker.execute("BEGIN EXCLUSIVE")
            yield
        finally:
            locker.execute("ROLLBACK")
            locker.close()


class PostgresTestDatabase:
    name = "postgres"
    integrity_error = psycopg.errors.IntegrityError

    def __init__(self, url: str):
        self.url = url

    def config(self) -> dict[str, str]:
        return {"DATABASE_URL": self.url}

    def env(self) -> dict[str, str]:
        return {"POLL_BOT_DATABASE_URL": self.url}

    def rows(self, sql: str, *args: Any) -> list[tuple]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            return conn.execute(to_psycopg(sql), args).fetchall()

    def execute(self, sql: str, *args: Any) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(to_psycopg(sql), args)

    def tables(self) -> list[str]:
        return [r[0] for r in self.rows("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                if r[0] != "schema_version"]

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Another connection holds the outbox (what /healthz reads) until the block ends."""
        with psycopg.connect(self.url) as locker:
            locker.execute("LOCK TABLE outbox IN ACCESS EXCLUSIVE MODE")
            yield
            locker.rollback()


class SqliteBackend:
    name = "sqlite"

    def __init__(self, folder: Path):
        self._folder = folder
        self._count = itertools.count()

    def new_database(self) -> SqliteTestDatabase:
        """A new file: the bot migrates it when it opens it."""
        return SqliteTestDatabase(self._folder / f"bot{next(self._count)}.sqlite3")

    def new_empty_database(self) -> SqliteTestDatabase:
        """A file with no tables, in WAL mode as the bot leaves it. (Two connections turning
        a new file to WAL at the same moment can fail with "database is locked"; SQLite
        serves one process, so only its restarts share a file.)"""
        db = self.new_database()
        with sqlite3.connect(db.path) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
        return db

    def close(self) -> None:
        pass


class PostgresBackend:
    """Databases on the session's server for one test; given back when it ends."""
    name = "postgres"

    def __init__(self, server: "PostgresServer"):
        self._server = server
        self._migrated: list[str] = []
        self._empty: list[str] = []

    def new_database(self) -> PostgresTestDatabase:
        """Migrated, with no rows."""
        name = self._server.take_database()
        self._migrated.append(name)
        return PostgresTestDatabase(self._server.url(name))

    def new_empty_database(self) -> PostgresTestDatabase:
        """Not even migrated."""
        name = self._server.create_database("template0")
        self._empty.append(name)
        return PostgresTestDatabase(self._server.url(name))

    def close(self) -> None:
        for name in self._migrated:
            self._server.give_back(name)
        for name in self._empty:
            self._server.drop_database(name)


class PostgresServer:
    def __init__(self, bin_dir: Path, data_dir: Path, port: int, user: str | None):
        self._bin = bin_dir
        self._data = data_dir
        self.port = port
        self._user = user  # who runs the server: 'postgres' when we are root
        self._names = itertools.count()
        self._clean: list[str] = []  # migrated databases with no rows, ready for a test

    @classmethod
    def start(cls, durable: bool = False) -> "PostgresServer":
        """durable: every commit flushed to disk, as in production (the benchmark); the tests'
        server need not survive a crash."""
        bin_dir = _postgres_bin()
        root = Path(tempfile.mkdtemp(prefix="poll-bot-pg-"))
        user = "postgres" if os.geteuid() == 0 else None
        if user:
            shutil.chown(root, user)
        server = cls(bin_dir, root / "data", free_port(), user)
        try:
            server._run("initdb", "-D", str(server._data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                        "--locale=C")
            settings = {"listen_addresses": "127.0.0.1", "port": server.port, "unix_socket_directories": "",
                        "max_connections": 200, "deadlock_timeout": "100ms"}
            if not durable:
                settings.update(fsync="off", synchronous_commit="off", full_page_writes="off")
            options = " ".join(f"-c {key}={value}" for key, value in settings.items())
            server._run("pg_ctl", "start", "-w", "-D", str(server._data), "-l", str(root / "server.log"),
                        "-o", options)
            server._create_template()
        except BaseException:
            server.stop()
            raise
        return server

    @property
    def pid(self) -> int:
        """The postmaster's process id (its first line of postmaster.pid)."""
        return int((self._data / "postmaster.pid").read_text().split()[0])

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, template: str = TEMPLATE) -> str:
        name = f"test_{next(self._names)}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return name

    def take_database(self) -> str:
        return self._clean.pop() if self._clean else self.create_database()

    def give_back(self, name: str) -> None:
        """Delete every row (the audit's trigger and foreign keys off) and restart the ids."""
        with psycopg.connect(self.url(name)) as conn:
            conn.execute("SET LOCAL session_replication_role = replica")
            tables = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                                  " AND tablename != 'schema_version'").fetchall()
            for (table,) in tables:
                conn.execute(f'DELETE FROM "{table}"')
            conn.execute("SELECT setval(pg_get_serial_sequence(table_name, column_name), 1, false)"
                         " FROM information_schema.columns WHERE table_schema = 'public' AND is_identity = 'YES'")
        self._clean.append(name)

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if (self._data / "postmaster.pid").exists():
            self._run("pg_ctl", "stop", "-w", "-m", "immediate", "-D", str(self._data))
        shutil.rmtree(self._data.parent, ignore_errors=True)

    def _create_template(self) -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{TEMPLATE}"')

        async def migrate() -> None:
            db = await PostgresDatabase.open(self.url(TEMPLATE))
            await db.close()

        asyncio.run(migrate())

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self._bin / tool), *args]
        if self._user:
            command = ["runuser", "-u", self._user, "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=self._data.parent)


def _postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql (make test does)")
    return Path(found[-1]).parent
