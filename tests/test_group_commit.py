"""Group commit (storage/group_commit.py) on a real database: work that arrives together
shares one transaction, yet each caller gets its own result, its own error, and sees its
writes committed."""

from __future__ import annotations

import asyncio

import pytest

from storage.db import Database, connect
from storage.group_commit import GroupCommit

NOW = "2026-11-25T04:00:00.000+00:00"


async def add(db: Database, slug: str) -> int:
    return await db.insert(
        "INSERT INTO municipalities (slug, name, created_at) VALUES (?, ?, ?) RETURNING id",
        (slug, slug, NOW),
    )


async def slugs(db: Database) -> list[str]:
    return [r[0] for r in await db.fetchall("SELECT slug FROM municipalities ORDER BY slug")]


async def test_work_queued_together_commits_together_and_each_gets_its_result(
    db: Database, db_url: str
) -> None:
    batches = GroupCommit(db)
    transactions = 0
    begin = db._begin

    async def counted_begin() -> None:
        nonlocal transactions
        transactions += 1
        await begin()

    db._begin = counted_begin  # type: ignore[method-assign]
    ids = await asyncio.gather(
        *(batches.run(f"sender{n}", lambda n=n: add(db, f"m{n:02}")) for n in range(20))
    )
    assert len(set(ids)) == 20
    assert transactions == 1  # all 20 were queued before the first batch began
    async with connect(db_url) as other:  # committed: another connection sees them
        assert len(await slugs(other)) == 20


async def test_one_failing_message_costs_the_others_nothing(db: Database) -> None:
    batches = GroupCommit(db)

    async def fails() -> None:
        await add(db, "half-done")
        raise RuntimeError("boom")

    work = [lambda n=n: add(db, f"ok{n}") for n in range(5)]
    work.insert(2, fails)
    results = await asyncio.gather(
        *(batches.run(f"sender{n}", w) for n, w in enumerate(work)), return_exceptions=True
    )
    assert isinstance(results[2], RuntimeError)
    assert all(isinstance(r, int) for n, r in enumerate(results) if n != 2)
    assert await slugs(db) == ["ok0", "ok1", "ok2", "ok3", "ok4"]  # nothing half done


async def test_one_senders_messages_are_handled_in_arrival_order(db: Database) -> None:
    batches = GroupCommit(db)
    seen: list[str] = []

    async def step(name: str, pause: float) -> str:
        await asyncio.sleep(pause)  # the first message is the slow one
        seen.append(name)
        return name

    results = await asyncio.gather(
        batches.run("x", lambda: step("warm-up", 0)),
        batches.run("same", lambda: step("first", 0.02)),
        batches.run("same", lambda: step("second", 0)),
        batches.run("other", lambda: step("other", 0)),
    )
    assert results == ["warm-up", "first", "second", "other"]
    assert seen.index("first") < seen.index("second")
    assert seen.index("other") < seen.index("first")  # other senders do not wait


async def test_a_commit_that_fails_fails_every_caller(db: Database) -> None:
    batches = GroupCommit(db)
    await batches.run("warm", lambda: add(db, "before"))
    commit = db._commit

    async def broken() -> None:
        raise OSError("disk full")

    db._commit = broken  # type: ignore[method-assign]
    results = await asyncio.gather(
        *(batches.run(f"s{n}", lambda n=n: add(db, f"lost{n}")) for n in range(3)),
        return_exceptions=True,
    )
    db._commit = commit  # type: ignore[method-assign]
    assert all(isinstance(r, OSError) for r in results)
    assert await slugs(db) == ["before"]  # rolled back, and the connection works on
    await batches.run("after", lambda: add(db, "after"))
    assert await slugs(db) == ["after", "before"]


async def test_work_that_fails_alone_fails_once_with_its_own_error(db: Database) -> None:
    batches = GroupCommit(db)
    runs = 0

    async def fails() -> None:
        nonlocal runs
        runs += 1
        await add(db, "half-done")
        raise LookupError("no such poll")

    with pytest.raises(LookupError, match="no such poll"):
        await batches.run("sender", fails)
    assert runs == 1
    assert await slugs(db) == []
