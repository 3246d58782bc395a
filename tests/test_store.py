"""SQLite's own settings the store relies on (the store's behaviour on both databases is
in test_store_contract.py)."""
from __future__ import annotations

from poll_bot.store.db import SqliteDatabase


async def test_wal_and_foreign_keys_are_on(tmp_path):
    db = await SqliteDatabase.open(str(tmp_path / "db.sqlite3"))
    pragmas = await db.run(lambda conn: [conn.execute(f"PRAGMA {p}").fetchone()[0]
                                         for p in ("journal_mode", "foreign_keys")])
    assert pragmas == ["wal", 1]
    await db.close()
