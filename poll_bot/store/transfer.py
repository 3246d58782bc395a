"""`poll-bot migrate --to postgresql://...`: copy a SQLite database into an empty PostgreSQL one.

Generic over tables: whatever tables the SQLite schema holds (read from
sqlite_master, so a later migration's tables come along) are copied with every
column and id as they are, parents before the tables that reference them, in
one PostgreSQL transaction. Nothing is copied unless all of it is.
"""
from __future__ import annotations

import sqlite3
from contextlib import closing
from graphlib import TopologicalSorter

import psycopg
from psycopg import sql

# The migrations' own record: both databases were migrated by this version of the bot before the copy.
NOT_COPIED = ("schema_version",)


class CopyRefused(Exception):
    """The copy cannot go ahead; nothing was written."""


def copy_sqlite_to_postgres(path: str, url: str) -> dict[str, int]:
    """Copy every table of the SQLite file at `path` (which must exist) into the PostgreSQL database
    at `url`, which must hold no rows (migrations applied is fine). Returns the rows copied per table."""
    with closing(sqlite3.connect(path)) as source, psycopg.connect(url) as target:
        source.execute("BEGIN")  # one snapshot of the source for the whole copy
        tables = _tables(source)
        _check_target(source, target, tables)
        copied = {table: _copy_table(source, target, table) for table in tables}
        _advance_identities(source, target, tables)
        target.commit()
    return copied


def _tables(source: sqlite3.Connection) -> list[str]:
    """The bot's tables, each after the tables its foreign keys point to."""
    names = [name for (name,) in source.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        if name not in NOT_COPIED]
    parents = {name: {row[2] for row in source.execute(f'PRAGMA foreign_key_list("{name}")')} - {name}
               for name in names}
    return list(TopologicalSorter(parents).static_order())


def _check_target(source: sqlite3.Connection, target: psycopg.Connection, tables: list[str]) -> None:
    """Same schema version, every table and column there, and no rows in any table of the bot.
    The tables stay locked against writers until the copy commits."""
    versions = [_schema_version(source.execute), _schema_version(target.execute)]
    if versions[0] != versions[1]:
        raise CopyRefused(f"the SQLite database is at schema version {versions[0]} and PostgreSQL at {versions[1]}")
    target_tables = {name for (name,) in target.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")} - set(NOT_COPIED)
    missing = [t for t in tables if t not in target_tables]
    if missing:
        raise CopyRefused(f"PostgreSQL has no table {', '.join(missing)}")
    target.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(
        sql.SQL(", ").join(sql.Identifier(t) for t in sorted(target_tables))))
    filled = [t for t in sorted(target_tables)
              if target.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(t))).fetchone()[0]]
    if filled:
        raise CopyRefused(f"the PostgreSQL database is not empty (rows in {', '.join(filled)}); "
                          "the copy goes only into a database that holds no rows")
    for table in tables:
        columns = {name for (name,) in target.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = %s", (table,))}
        absent = [c for c in _columns(source, table) if c not in columns]
        if absent:
            raise CopyRefused(f"PostgreSQL's table {table} has no column {', '.join(absent)}")


def _schema_version(execute) -> int:
    return execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]


def _columns(source: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in source.execute(f'PRAGMA table_info("{table}")')]


def _copy_table(source: sqlite3.Connection, target: psycopg.Connection, table: str) -> int:
    """COPY keeps the ids: it writes identity columns as given (like OVERRIDING SYSTEM VALUE).
    The audit's trigger guards updates and deletes only, so inserting its rows passes it."""
    columns = _columns(source, table)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns))
    count = 0
    with target.cursor().copy(statement) as copy:
        for row in source.execute(f'SELECT * FROM "{table}"'):
            copy.write_row(row)
            count += 1
    return count


def _advance_identities(source: sqlite3.Connection, target: psycopg.Connection, tables: list[str]) -> None:
    """Each identity column's next value comes after every id the SQLite database ever handed out
    (AUTOINCREMENT remembers deleted ones in sqlite_sequence), so new rows never reuse an id."""
    handed_out = dict(source.execute("SELECT name, seq FROM sqlite_sequence")) if source.execute(
        "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone() else {}
    identities = target.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND is_identity = 'YES'").fetchall()
    for table, column in identities:
        if table not in tables:
            continue
        (highest,) = target.execute(sql.SQL("SELECT COALESCE(MAX({}), 0) FROM {}").format(
            sql.Identifier(column), sql.Identifier(table))).fetchone()
        last = max(highest, handed_out.get(table, 0))
        if last > 0:
            target.execute("SELECT setval(pg_get_serial_sequence(%s, %s), %s)", (table, column, last))
