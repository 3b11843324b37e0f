"""Migrations: the stairway (every earlier version upgrades to the same schema), idempotence."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.db import Database, connect
from storage.migrate import available, current_version, latest_version, migrate


async def schema(db: Database) -> list[tuple]:
    rows = await db.fetchall(
        "SELECT type, name, tbl_name, sql FROM sqlite_master"
        " WHERE name NOT LIKE 'sqlite_%' AND name != 'schema_version' ORDER BY type, name"
    )
    return [tuple(row) for row in rows]


async def test_migrations_are_numbered_without_gaps() -> None:
    versions = [m.version for m in available()]
    assert versions == list(range(1, len(versions) + 1))
    assert latest_version() >= 2


async def test_empty_to_latest_records_each_version(tmp_path: Path) -> None:
    async with connect(f"sqlite:///{tmp_path / 'a.db'}") as db:
        applied = await migrate(db)
        assert [m.version for m in applied] == list(range(1, latest_version() + 1))
        assert await current_version(db) == latest_version()
        recorded = await db.fetchall("SELECT version FROM schema_version ORDER BY version")
        assert [r[0] for r in recorded] == list(range(1, latest_version() + 1))


@pytest.mark.parametrize("start", range(0, latest_version() + 1))
async def test_stairway_from_each_version_ends_in_the_same_schema(
    tmp_path: Path, start: int
) -> None:
    async with connect(f"sqlite:///{tmp_path / 'fresh.db'}") as fresh:
        await migrate(fresh)
        expected = await schema(fresh)
    async with connect(f"sqlite:///{tmp_path / 'stair.db'}") as db:
        await migrate(db, target=start)
        assert await current_version(db) == start
        await migrate(db)
        assert await schema(db) == expected
        assert await current_version(db) == latest_version()


async def test_migrating_twice_changes_nothing(tmp_path: Path) -> None:
    async with connect(f"sqlite:///{tmp_path / 'a.db'}") as db:
        await migrate(db)
        before = await schema(db)
        assert await migrate(db) == []
        assert await schema(db) == before


async def test_connection_uses_wal_and_foreign_keys(tmp_path: Path) -> None:
    async with connect(f"sqlite:///{tmp_path / 'a.db'}") as db:
        await migrate(db)
        assert await db.fetchval("PRAGMA journal_mode") == "wal"
        assert await db.fetchval("PRAGMA foreign_keys") == 1
        with pytest.raises(Exception, match="FOREIGN KEY"):
            await db.execute("INSERT INTO villages (municipality_id, name) VALUES (999, 'x')")


async def test_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    async with connect(f"sqlite:///{tmp_path / 'a.db'}") as db:
        await migrate(db)
        with pytest.raises(RuntimeError):
            async with db.transaction():
                await db.execute(
                    "INSERT INTO municipalities (slug, name, created_at) VALUES ('x', 'X', 'now')"
                )
                raise RuntimeError("boom")
        assert await db.fetchval("SELECT COUNT(*) FROM municipalities") == 0
