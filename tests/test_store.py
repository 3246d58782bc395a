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
    async with db.transaction() as conn:
        rows = await (await conn.execute("SELECT version FROM schema_version ORDER BY version")).fetchall()
    assert [r[0] for r in rows] == versions
    assert await db.migrate() == []
    await db.close()
    db = await Database.open(path)
    assert await db.migrate() == []
    await db.close()


async def test_wal_and_foreign_keys_are_on(tmp_path):
    db = await Database.open(str(tmp_path / "db.sqlite3"))
    async with db.transaction() as conn:
        assert (await (await conn.execute("PRAGMA journal_mode")).fetchone())[0] == "wal"
        assert (await (await conn.execute("PRAGMA foreign_keys")).fetchone())[0] == 1
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
    async with db.transaction() as conn:
        tables = {r[0] for r in await (await conn.execute("SELECT name FROM sqlite_master")).fetchall()}
        (version,) = await (await conn.execute("SELECT MAX(version) FROM schema_version")).fetchone()
    assert "half_done" not in tables
    assert version == migration_files()[-1][0]
    await db.close()


async def test_a_failed_unit_of_work_leaves_nothing_behind(tmp_path):
    store = await Store.open(str(tmp_path / "db.sqlite3"))
    with pytest.raises(RuntimeError):
        async with store.transaction() as uow:
            await uow.activities.first_time("a1")
            raise RuntimeError("boom")
    async with store.transaction() as uow:
        assert await uow.activities.first_time("a1") is True
    await store.close()
