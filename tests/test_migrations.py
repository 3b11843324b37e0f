"""Migrations: the stairway (every earlier version upgrades to the same schema), idempotence,
on every backend (SQLite; PostgreSQL when TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from storage.db import Database, connect
from storage.migrate import available, current_version, latest_version, migrate


async def schema(db: Database) -> list[tuple]:
    """Tables, columns, constraints and indexes as the engine reports them."""
    if db.dialect.name == "sqlite":
        rows = await db.fetchall(
            "SELECT type, name, tbl_name, sql FROM sqlite_master"
            " WHERE name NOT LIKE 'sqlite_%' AND name != 'schema_version' ORDER BY type, name"
        )
        return [tuple(row) for row in rows]
    columns = await db.fetchall(
        "SELECT table_name, ordinal_position, column_name, data_type, is_nullable,"
        " column_default, is_identity FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name != 'schema_version'"
        " ORDER BY table_name, ordinal_position"
    )
    constraints = await db.fetchall(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE connamespace = current_schema()::regnamespace"
        " AND conrelid::regclass::text != 'schema_version' ORDER BY 1, 2"
    )
    indexes = await db.fetchall(
        "SELECT tablename, indexname, indexdef FROM pg_indexes"
        " WHERE schemaname = current_schema() AND tablename != 'schema_version' ORDER BY 1, 2"
    )
    return [("column", *row) for row in columns] + [
        (kind, *row) for kind, rows in (("constraint", constraints), ("index", indexes))
        for row in rows
    ]  # fmt: skip


async def test_migrations_are_numbered_without_gaps() -> None:
    versions = [m.version for m in available()]
    assert versions == list(range(1, len(versions) + 1))
    assert latest_version() >= 2


async def test_empty_to_latest_records_each_version(db_url: str) -> None:
    async with connect(db_url) as db:
        applied = await migrate(db)
        assert [m.version for m in applied] == list(range(1, latest_version() + 1))
        assert await current_version(db) == latest_version()
        recorded = await db.fetchall("SELECT version FROM schema_version ORDER BY version")
        assert [r[0] for r in recorded] == list(range(1, latest_version() + 1))


@pytest.mark.parametrize("start", range(0, latest_version() + 1))
async def test_stairway_from_each_version_ends_in_the_same_schema(
    new_db_url: Callable[[], str], start: int
) -> None:
    async with connect(new_db_url()) as fresh:
        await migrate(fresh)
        expected = await schema(fresh)
    assert expected
    async with connect(new_db_url()) as db:
        await migrate(db, target=start)
        assert await current_version(db) == start
        await migrate(db)
        assert await schema(db) == expected
        assert await current_version(db) == latest_version()


async def test_migrating_twice_changes_nothing(db_url: str) -> None:
    async with connect(db_url) as db:
        await migrate(db)
        before = await schema(db)
        assert await migrate(db) == []
        assert await schema(db) == before


async def test_processes_starting_together_migrate_once(db_url: str) -> None:
    """Several `civic-bot run` processes may start at once (on PostgreSQL they take turns)."""
    async with connect(db_url) as one, connect(db_url) as two:
        applied = await asyncio.gather(migrate(one), migrate(two))
        versions = sorted(m.version for each in applied for m in each)
        assert versions == list(range(1, latest_version() + 1))
        assert await current_version(one) == latest_version()


async def test_connection_uses_wal_and_foreign_keys(tmp_path: Path) -> None:
    async with connect(f"sqlite:///{tmp_path / 'a.db'}") as db:
        await migrate(db)
        assert await db.fetchval("PRAGMA journal_mode") == "wal"
        assert await db.fetchval("PRAGMA foreign_keys") == 1


async def test_foreign_keys_are_enforced(db_url: str) -> None:
    async with connect(db_url) as db:
        await migrate(db)
        with pytest.raises(Exception, match=r"(?i)foreign key"):
            await db.execute("INSERT INTO villages (municipality_id, name) VALUES (999, 'x')")


async def test_failed_transaction_leaves_nothing(db_url: str) -> None:
    async with connect(db_url) as db:
        await migrate(db)
        with pytest.raises(RuntimeError):
            async with db.transaction():
                await db.execute(
                    "INSERT INTO municipalities (slug, name, created_at) VALUES ('x', 'X', 'now')"
                )
                raise RuntimeError("boom")
        assert await db.fetchval("SELECT COUNT(*) FROM municipalities") == 0


async def test_the_ballot_key_is_made_with_the_schema_and_kept(
    db_url: str, new_db_url: Callable[[], str]
) -> None:
    """64 random hex digits from the server's source; a database that had a key keeps it."""
    async with connect(db_url) as db:
        await migrate(db, 11)
        await db.execute("INSERT INTO secrets (name, value) VALUES ('ballot-key', 'old-key')")
        await migrate(db)
        kept = await db.fetchval("SELECT value FROM secrets WHERE name = 'ballot-key'")
    assert kept == "old-key"
    keys = []
    for _ in range(2):
        async with connect(new_db_url()) as fresh:
            await migrate(fresh)
            keys.append(await fresh.fetchval("SELECT value FROM secrets WHERE name = 'ballot-key'"))
    assert all(len(key) == 64 and int(key, 16) >= 0 for key in keys)
    assert keys[0] != keys[1]


async def test_inbound_records_are_kept_and_made_per_municipality(db_url: str) -> None:
    """0015: what was recorded stays (a duplicate is still one); the same provider id
    may now come to another municipality."""
    insert = (
        "INSERT INTO inbound (municipality_id, channel, provider_id, reply, received_at)"
        " VALUES (?, 'telegram', '900001', ?, 'now')"
    )
    async with connect(db_url) as db:
        await migrate(db, 14)
        for slug in ("a", "b"):
            await db.execute(
                "INSERT INTO municipalities (slug, name, created_at) VALUES (?, ?, 'now')",
                (slug, slug.upper()),
            )
        await db.execute(insert, (1, "answer"))
        await migrate(db)
        await db.execute(insert, (2, "another"))
        with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
            await db.execute(insert, (1, "again"))
        rows = await db.fetchall("SELECT municipality_id, reply FROM inbound ORDER BY id")
    assert [tuple(row) for row in rows] == [(1, "answer"), (2, "another")]
