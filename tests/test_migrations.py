"""Migrations: the stairway (every earlier version upgrades to the same schema), idempotence,
on every backend (SQLite; PostgreSQL when TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.core.services import ballot_upgrade, demo_data, poll_results
from bot.core.services.ballot_upgrade import legacy_voter_key
from bot.core.services.errors import ServiceError
from storage.db import Database, connect
from storage.migrate import available, current_version, latest_version, migrate
from storage.repos import Repos
from tests.conftest import FakeClock
from tests.processes import TEST_BALLOT_KEY


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


async def test_outbox_keys_lose_their_channel_and_no_one_is_told_twice(db_url: str) -> None:
    """0021: ``<key>:resident:<id>:<channel>[:n]`` becomes ``<key>:resident:<id>[:n]``; a
    Telegram row whose SMS twin took the key keeps its old one."""
    version = next(m.version for m in available() if m.name == "outbox_key_without_channel")
    keys = [
        "poll:1:announce:resident:7:sms", "poll:1:announce:resident:7:telegram",
        "poll:1:announce:resident:8:sms", "poll:1:announce:resident:8:sms:2",
        "poll:1:announce:resident:9:telegram", "budget:1:household:3",
        "telegram:1:update:5:reply:1",
    ]  # fmt: skip
    async with connect(db_url) as db:
        await migrate(db, target=version - 1)
        await db.execute(
            "INSERT INTO municipalities (slug, name, created_at) VALUES ('m', 'M', '')"
        )
        for key in keys:
            await db.execute(
                "INSERT INTO outbox (municipality_id, dedupe_key, channel, address, body,"
                " next_attempt_at, created_at, updated_at)"
                " VALUES (1, ?, 'sms', 'a', 'b', '', '', '')",
                (key,),
            )
        await migrate(db)
        rows = await db.fetchall("SELECT dedupe_key FROM outbox ORDER BY id")
    assert [row[0] for row in rows] == [
        "poll:1:announce:resident:7", "poll:1:announce:resident:7:telegram",
        "poll:1:announce:resident:8", "poll:1:announce:resident:8:2",
        "poll:1:announce:resident:9", "budget:1:household:3",
        "telegram:1:update:5:reply:1",
    ]  # fmt: skip


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


async def test_no_ballot_key_stays_in_a_database(new_db_url: Callable[[], str]) -> None:
    """Migration 0012 made a ballot key in the database; 0013 removes it where no ballots
    were made under it, and keeps it for sealing them where some were
    (bot/core/services/ballot_upgrade.py)."""
    for with_ballot in (False, True):
        async with connect(new_db_url()) as db:
            await migrate(db, 12)
            assert await db.fetchval("SELECT COUNT(*) FROM secrets") == 1
            if with_ballot:
                await db.execute(
                    "INSERT INTO municipalities (slug, name, created_at) VALUES ('x', 'X', 'now')"
                )
                poll_id = await db.insert(
                    "INSERT INTO polls (municipality_id, title, ballot_type, max_choices,"
                    " opens_at, closes_at, rule, created_at)"
                    " SELECT id, 'P', 'choose1', 1, 'a', 'b', 'totals', 'now' FROM municipalities"
                    " RETURNING id"
                )
                await db.execute(
                    "INSERT INTO ballots (poll_id, voter_key) VALUES (?, 'k')", (poll_id,)
                )
            await migrate(db)
            assert await db.fetchval("SELECT COUNT(*) FROM secrets") == int(with_ballot)


async def test_ballots_of_an_earlier_version_are_sealed_once_the_key_is_set(
    db_url: str, clock: FakeClock
) -> None:
    """A deployment upgrading with ballots under the stored key: without BALLOT_KEY it is
    refused with one line; with it each ballot is sealed into its voter's turnout row
    (paper and imported ones into the box), counted the same, and the key is gone."""
    async with connect(db_url) as db:
        # an upgraded database as migration 0013 leaves it when ballots were there: the old
        # rows and the stored key (the demo data needs the latest schema)
        await migrate(db)
        old = Repos(db)
        demo, _ = await demo_data.ensure_demo(old, now=clock.now())
        stored_key = "0123456789abcdef" * 4
        await db.execute(
            "INSERT INTO secrets (name, value) VALUES ('ballot-key', ?)", (stored_key,)
        )
        poll_id = await old.polls.create(
            municipality_id=demo.id, title="Old", ballot_type="choose1", max_choices=1,
            village_id=None, min_age=18, opens_at="2026-01-01", closes_at="2026-02-01",
            budget=None, rule="totals", changeable=True, now="2026-01-01",
        )  # fmt: skip
        await old.polls.add_options(poll_id, [("A", None, None), ("B", None, None)])
        a, b = [o.id for o in await old.polls.options(poll_id)]
        people = [await old.residents.by_phone(demo.id, f"+99670000000{n}") for n in (1, 3, 4)]
        votes = [(people[0], "sms", a), (people[1], "telegram", b), (people[2], "paper", b)]
        for n, (person, channel, option) in enumerate(votes):
            assert person is not None
            await db.execute(
                "INSERT INTO turnout (poll_id, resident_id, channel, cast_at) VALUES (?, ?, ?, ?)",
                (poll_id, person.id, channel, f"2026-01-0{n + 2}"),
            )
            await old_ballot(db, poll_id, legacy_voter_key(stored_key, poll_id, person.id), option)
        await old_ballot(db, poll_id, "pb:1", a)  # an imported election's ballot
        with pytest.raises(ServiceError, match="set BALLOT_KEY"):
            await ballot_upgrade.seal_legacy(Repos(db))
        repos = Repos(db, TEST_BALLOT_KEY)
        assert await ballot_upgrade.seal_legacy(repos) == 4
        assert await ballot_upgrade.seal_legacy(repos) == 0  # once
        for table in ("ballots", "ballot_choices", "secrets"):
            assert await db.fetchval(f"SELECT COUNT(*) FROM {table}") == 0
        assert people[0] is not None and people[1] is not None and people[2] is not None
        first = await repos.polls.own_ballot(poll_id, people[0].id)
        assert first is not None and (first[0], first[1] and first[1].choices) == ("sms", {a: 1})
        assert await repos.polls.own_ballot(poll_id, people[2].id) == ("paper", None)
        assert await repos.polls.box_count(poll_id) == 2
        cast = await db.fetchall("SELECT cast_at FROM turnout ORDER BY cast_at")
        assert [row[0] for row in cast] == ["2026-01-02", "2026-01-03", "2026-01-04"]
        poll = await repos.polls.get(demo.id, poll_id)
        assert poll is not None
        results = await poll_results.compute(repos, poll, now=clock.now())
        assert {r.option.label: r.votes for r in results.options} == {"A": 2, "B": 2}


async def old_ballot(db: Database, poll_id: int, voter_key: str, option_id: int) -> None:
    """A ballot as stored before migration 0013."""
    ballot_id = await db.insert(
        "INSERT INTO ballots (poll_id, voter_key, village_id, gender, age_group)"
        " VALUES (?, ?, NULL, 'f', '36-55') RETURNING id",
        (poll_id, voter_key),
    )
    await db.execute(
        "INSERT INTO ballot_choices (ballot_id, option_id, weight) VALUES (?, ?, 1)",
        (ballot_id, option_id),
    )


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


async def test_polls_keep_their_rule_and_may_count_no_skip_with_a_tie_chain(db_url: str) -> None:
    """0020: the rule's CHECK is rebuilt with its column, on a table others refer to; an
    existing poll keeps its rule, options and turnout, and breaks ties as before."""
    async with connect(db_url) as db:
        await migrate(db, 19)
        await db.execute(
            "INSERT INTO municipalities (slug, name, created_at) VALUES ('a', 'A', 'now')"
        )
        poll = (
            "INSERT INTO polls (municipality_id, title, ballot_type, max_choices, opens_at,"
            " closes_at, budget, rule, created_at) VALUES (1, 'P', 'approval', 2, 'a', 'b',"
            " 100, ?, 'now') RETURNING id"
        )
        with pytest.raises(Exception, match=r"(?i)check"):
            await db.insert(poll, ("greedy-no-skip",))
        old = await db.insert(poll, ("mes",))
        await db.execute(
            "INSERT INTO poll_options (poll_id, position, label, cost) VALUES (?, 1, 'x', 60)",
            (old,),
        )
        await migrate(db)
        new = await db.insert(poll, ("greedy-no-skip",))
        await db.insert(poll, ("greedy-custom",))
        with pytest.raises(Exception, match=r"(?i)check"):
            await db.insert(poll, ("greedy-sometimes",))
        repos = Repos(db)
        kept, added = await repos.polls.get(1, old), await repos.polls.get(1, new)
        assert kept is not None and added is not None
        assert (kept.rule, kept.ties, kept.budget) == ("mes", ("cost", "id"), 100)
        assert [o.label for o in await repos.polls.options(old)] == ["x"]
        assert added.rule == "greedy-no-skip"
        with pytest.raises(Exception, match=r"(?i)foreign key"):
            await db.execute(
                "INSERT INTO poll_options (poll_id, position, label) VALUES (999, 1, 'y')"
            )
