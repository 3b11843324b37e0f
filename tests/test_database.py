"""The storage seam itself (storage/db.py and storage/dialects/), the same on every backend:
what ``execute``, ``insert`` and ``insert_many`` return, rows, placeholders, transactions and
tasks sharing a connection."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.config import load_settings
from storage.db import Database, DatabaseUnavailable, connect, open_database, redact_url
from storage.dialects.postgres import numbered

NOW = "2026-11-25T04:00:00+00:00"


async def municipality(db: Database, slug: str = "ak-chiy") -> int:
    return await db.insert(
        "INSERT INTO municipalities (slug, name, created_at) VALUES (?, ?, ?) RETURNING id",
        (slug, "M", NOW),
    )


async def test_insert_returns_the_new_id(db: Database) -> None:
    first = await municipality(db, "one")
    second = await municipality(db, "two")
    assert (first, second) == (1, 2)
    village = await db.insert(
        "INSERT INTO villages (municipality_id, name) VALUES (?, ?) RETURNING id",
        (second, "Ak-Chiy"),
    )
    assert await db.fetchval("SELECT municipality_id FROM villages WHERE id = ?", (village,)) == 2


async def test_an_insert_counts_its_row_and_a_conflict_none(db: Database) -> None:
    assert await db.execute("INSERT INTO secrets (name, value) VALUES (?, ?)", ("k", "v")) == 1
    insert = "INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING"
    assert await db.execute(insert, ("k", "other")) == 0
    assert await db.fetchval("SELECT value FROM secrets WHERE name = ?", ("k",)) == "v"


async def test_update_and_delete_return_the_rows_changed(db: Database) -> None:
    await municipality(db, "one")
    await municipality(db, "two")
    assert await db.execute("UPDATE municipalities SET name = ?", ("N",)) == 2
    assert await db.execute("DELETE FROM municipalities WHERE slug = ?", ("one",)) == 1
    assert await db.execute("DELETE FROM municipalities WHERE slug = ?", ("none",)) == 0


async def test_insert_many_counts_only_new_rows_on_conflict(db: Database) -> None:
    m = await municipality(db)
    conflict = "ON CONFLICT (name) DO NOTHING"
    rows = [("a", "1"), ("b", "2")]
    assert await db.insert_many("secrets (name, value)", rows, on_conflict=conflict) == 2
    # one old key, one new, and one new key twice in the same batch
    rows = [("a", "x"), ("c", "3"), ("d", "4"), ("d", "5")]
    assert await db.insert_many("secrets (name, value)", rows, on_conflict=conflict) == 2
    assert await db.fetchval("SELECT value FROM secrets WHERE name = 'a'") == "1"
    assert await db.insert_many("secrets (name, value)", []) == 0
    villages = [(m, f"v{i}") for i in range(3)]
    assert await db.insert_many("villages (municipality_id, name)", villages) == 3
    await db.executemany(
        "UPDATE villages SET name = ? WHERE name = ?", [("w0", "v0"), ("w1", "v1"), ("x", "none")]
    )
    names = [r[0] for r in await db.fetchall("SELECT name FROM villages ORDER BY name")]
    assert names == ["v2", "w0", "w1"]


async def test_insert_many_and_executemany_are_all_or_nothing(db: Database) -> None:
    m = await municipality(db)
    with pytest.raises(Exception, match=r"(?i)unique"):
        await db.insert_many("villages (municipality_id, name)", [(m, "a"), (m, "b"), (m, "a")])
    assert await db.fetchval("SELECT COUNT(*) FROM villages") == 0
    await db.insert_many("villages (municipality_id, name)", [(m, "a"), (m, "b")])
    with pytest.raises(Exception, match=r"(?i)unique"):
        await db.executemany(
            "UPDATE villages SET name = ? WHERE name = ?", [("c", "a"), ("c", "b")]
        )
    names = [r[0] for r in await db.fetchall("SELECT name FROM villages ORDER BY name")]
    assert names == ["a", "b"]


async def test_executemany_takes_a_big_batch_quickly(db: Database) -> None:
    """An import or a broadcast enqueues thousands of rows in one call."""
    m = await municipality(db)
    rows = [(m, f"key:{i}", "sms", f"+996700{i:06d}", "hello", NOW, NOW, NOW) for i in range(6000)]
    into = (
        "outbox (municipality_id, dedupe_key, channel, address, body, next_attempt_at,"
        " created_at, updated_at)"
    )
    conflict = "ON CONFLICT (dedupe_key) DO NOTHING"
    started = time.perf_counter()
    assert await db.insert_many(into, rows, on_conflict=conflict) == 6000
    more = [*rows[-10:], (m, "key:new", *rows[0][2:])]
    assert await db.insert_many(into, more, on_conflict=conflict) == 1
    assert time.perf_counter() - started < 10
    assert await db.fetchval("SELECT COUNT(*) FROM outbox") == 6001


async def test_rows_by_index_by_name_and_as_dict(db: Database) -> None:
    await municipality(db)
    row = await db.fetchone("SELECT id, slug, name AS title FROM municipalities")
    assert row is not None
    assert (row[0], row["slug"], row["title"]) == (1, "ak-chiy", "M")
    assert dict(row) == {"id": 1, "slug": "ak-chiy", "title": "M"}
    assert tuple(row) == (1, "ak-chiy", "M")
    assert await db.fetchone("SELECT id FROM municipalities WHERE slug = ?", ("x",)) is None
    assert await db.fetchval("SELECT COUNT(*) FROM municipalities") == 1


async def test_booleans_and_big_integers(db: Database) -> None:
    await db.execute(
        "INSERT INTO polls (municipality_id, title, ballot_type, max_choices, opens_at,"
        " closes_at, budget, rule, changeable, created_at)"
        " VALUES (?, ?, 'choose1', 1, ?, ?, ?, 'totals', ?, ?)",
        (await municipality(db), "P", NOW, NOW, 12_000_000_000, False, NOW),
    )
    row = await db.fetchone(
        "SELECT budget, changeable, results_published FROM polls WHERE changeable = ?"
        " AND results_published = FALSE",
        (False,),
    )
    assert row is not None
    assert (row[0], bool(row[1]), bool(row[2])) == (12_000_000_000, False, False)


async def test_a_parameter_only_compared_with_null_is_cast(db: Database) -> None:
    """Nothing tells PostgreSQL the type of ``? IS NULL``: the SQL says it, on both engines."""
    m = await municipality(db)
    await db.insert_many("villages (municipality_id, name)", [(m, "a"), (m, "b")])
    query = (
        "SELECT COUNT(*) FROM villages WHERE (CAST(? AS BIGINT) IS NULL OR id = ?)"
        " AND (CAST(? AS TEXT) IS NOT NULL)"
    )
    assert await db.fetchval(query, (None, None, "x")) == 2
    assert await db.fetchval(query, (2, 2, "x")) == 1
    assert await db.fetchval(query, (2, 2, None)) == 0


def test_placeholders_inside_quotes_and_comments_stay() -> None:
    sql = "SELECT '?', \"a?\", x -- why?\n FROM t WHERE a = ? AND b = 'it''s ?' AND c = ?"
    assert numbered(sql) == (
        "SELECT '?', \"a?\", x -- why?\n FROM t WHERE a = $1 AND b = 'it''s ?' AND c = $2"
    )


async def test_question_marks_in_data_are_data(db: Database) -> None:
    await db.execute("INSERT INTO secrets (name, value) VALUES ('what?', ?)", ("why?",))
    assert await db.fetchval("SELECT value FROM secrets WHERE name = 'what?'") == "why?"


async def test_nested_transactions_join_the_outer_one(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction():
            await municipality(db, "outer")
            async with db.transaction():
                await municipality(db, "inner")
            raise RuntimeError("boom")
    assert await db.fetchval("SELECT COUNT(*) FROM municipalities") == 0
    async with db.transaction(), db.transaction():
        await municipality(db, "kept")
    assert await db.fetchval("SELECT COUNT(*) FROM municipalities") == 1


async def test_tasks_sharing_a_connection_do_not_slip_into_a_transaction(db: Database) -> None:
    """Another task's statement waits for a transaction to end instead of joining it (so a
    rollback does not take it along), and transactions of two tasks never overlap."""
    inside = asyncio.Event()
    release = asyncio.Event()

    async def failing() -> None:
        with pytest.raises(RuntimeError):
            async with db.transaction():
                await municipality(db, "rolled-back")
                inside.set()
                await release.wait()
                raise RuntimeError("boom")

    async def other() -> None:
        await inside.wait()
        await municipality(db, "kept")

    task = asyncio.ensure_future(failing())
    other_task = asyncio.ensure_future(other())
    await inside.wait()
    await asyncio.sleep(0.05)
    assert not other_task.done()  # waiting for the transaction
    release.set()
    await asyncio.gather(task, other_task)
    slugs = [r[0] for r in await db.fetchall("SELECT slug FROM municipalities ORDER BY slug")]
    assert slugs == ["kept"]

    async def claim(n: int) -> None:
        async with db.transaction():
            await municipality(db, f"t{n}")
            await asyncio.sleep(0.001)
            await db.execute("UPDATE municipalities SET name = ? WHERE slug = ?", ("x", f"t{n}"))

    await asyncio.gather(*(claim(n) for n in range(10)))
    assert await db.fetchval("SELECT COUNT(*) FROM municipalities WHERE name = 'x'") == 10


async def test_two_connections_see_each_others_commits(db: Database, db_url: str) -> None:
    async with connect(db_url) as other:
        await municipality(db)
        assert await other.fetchval("SELECT COUNT(*) FROM municipalities") == 1


def test_urls_are_shown_without_passwords() -> None:
    assert redact_url("postgresql://civic:s3cret@db:5432/civic") == (
        "postgresql://civic:***@db:5432/civic"
    )
    assert redact_url("postgresql://db/civic") == "postgresql://db/civic"
    assert redact_url("sqlite:///civic-bot.db") == "sqlite:///civic-bot.db"


async def test_an_unreachable_server_is_one_line_without_the_password() -> None:
    url = "postgresql://civic:s3cret@127.0.0.1:9/civic"  # port 9: nobody listens
    assert load_settings(database_url=url).database_url == url
    with pytest.raises(DatabaseUnavailable) as error:
        await open_database(url)
    message = str(error.value)
    assert "s3cret" not in message and "\n" not in message
    assert message.startswith("cannot connect to postgresql://civic:***@127.0.0.1:9/civic")


async def test_tasks_started_inside_a_transaction_take_part_in_it(db: Database) -> None:
    """What a transaction's body gathers runs in it: committed or rolled back together."""
    with pytest.raises(RuntimeError):
        async with db.transaction():
            await asyncio.gather(*(municipality(db, f"m{n}") for n in range(5)))
            raise RuntimeError("boom")
    assert await db.fetchval("SELECT COUNT(*) FROM municipalities") == 0
    async with db.transaction():
        await asyncio.gather(*(municipality(db, f"m{n}") for n in range(5)))
    assert await db.fetchval("SELECT COUNT(*) FROM municipalities") == 5
