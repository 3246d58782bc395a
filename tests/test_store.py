"""SQLite's own settings the store relies on (the store's behaviour on both databases is
in test_store_contract.py)."""
from __future__ import annotations

import asyncio

from poll_bot.store.db import SqliteDatabase


async def test_wal_and_foreign_keys_are_on(tmp_path):
    db = await SqliteDatabase.open(str(tmp_path / "db.sqlite3"))
    pragmas = await db.run(lambda conn: [conn.execute(f"PRAGMA {p}").fetchone()[0]
                                         for p in ("journal_mode", "foreign_keys")])
    assert pragmas == ["wal", 1]
    await db.close()


async def test_concurrent_units_share_commits_and_a_failing_one_is_rolled_back_alone(tmp_path):
    """Group commit: units that wait while a commit is written go into one transaction together,
    each in a savepoint; every caller hears its own outcome, after the commit."""
    db = await SqliteDatabase.open(str(tmp_path / "db.sqlite3"))
    await db.run(lambda conn: conn.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
    transactions = []
    await db.run(lambda conn: conn.set_trace_callback(
        lambda sql: transactions.append(sql) if sql.startswith("BEGIN") else None))

    def insert(conn, n):
        conn.execute("INSERT INTO t (n) VALUES (?)", (n,))
        if n == 13:
            raise ValueError("unlucky")
        return n

    results = await asyncio.gather(*(db.run(insert, n) for n in range(50)), return_exceptions=True)

    assert [r for r in results if isinstance(r, Exception)] == [results[13]]
    assert isinstance(results[13], ValueError)
    assert [r for r in results if not isinstance(r, Exception)] == [n for n in range(50) if n != 13]
    stored = await db.run(lambda conn: [n for (n,) in conn.execute("SELECT n FROM t ORDER BY n")])
    assert stored == [n for n in range(50) if n != 13], "only the failing unit was rolled back"
    assert len(transactions) < 50, f"{len(transactions)} transactions for 50 concurrent units"
    await db.close()
