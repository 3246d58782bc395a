"""Migrations and the SQLite settings the store relies on."""
from __future__ import annotations

import shutil

import pytest

from poll_bot.store import Store
from poll_bot.store.db import Database, migration_files


async def test_migrations_are_recorded_and_rerunning_is_a_no_op(tmp_path):
    path = str(tmp_path / "db.sqlite3")
    db = await Database.open(path)
    versions = [v for v, _ in migration_files()]
    rows = await db.run(lambda conn: conn.execute("SELECT version FROM schema_version ORDER BY version").fetchall())
    assert [r[0] for r in rows] == versions
    assert await db.migrate() == []
    await db.close()
    db = await Database.open(path)
    assert await db.migrate() == []
    await db.close()


async def test_wal_and_foreign_keys_are_on(tmp_path):
    db = await Database.open(str(tmp_path / "db.sqlite3"))
    pragmas = await db.run(lambda conn: [conn.execute(f"PRAGMA {p}").fetchone()[0]
                                         for p in ("journal_mode", "foreign_keys")])
    assert pragmas == ["wal", 1]
    await db.close()


async def test_a_failing_migration_rolls_back_alone(tmp_path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    for _, path in migration_files():
        shutil.copy(path, folder / path.name)
    (folder / "900_broken.sql").write_text("CREATE TABLE half_done (x INTEGER);\nTHIS IS NOT SQL;\n")
    db = await Database.open(str(tmp_path / "db.sqlite3"))
    with pytest.raises(Exception):
        await db.migrate(folder)
    tables = await db.run(lambda conn: {r[0] for r in conn.execute("SELECT name FROM sqlite_master")})
    (version,) = await db.run(lambda conn: conn.execute("SELECT MAX(version) FROM schema_version").fetchone())
    assert "half_done" not in tables
    assert version == migration_files()[-1][0]
    await db.close()


async def test_a_failed_unit_of_work_leaves_nothing_behind(tmp_path):
    store = await Store.open(str(tmp_path / "db.sqlite3"))

    def half_done(uow):
        uow.activities.first_time("a1", "c1")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await store.run(half_done)
    assert await store.run(lambda uow: uow.activities.first_time("a1", "c1")) is True
    await store.close()
