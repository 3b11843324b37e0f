"""``KeyedLock``: one holder per key, waiters in the order they came, nothing kept."""

from __future__ import annotations

import asyncio

import pytest

from bot.runtime.keyed_lock import KeyedLock


async def test_holders_of_one_key_follow_each_other_in_arrival_order() -> None:
    locks, order = KeyedLock(), []
    release = asyncio.Event()

    async def hold(key: int | None, name: str, wait: bool = False) -> None:
        async with locks.hold(key):
            order.append(f"{name} in")
            if wait:
                await release.wait()
            order.append(f"{name} out")

    first = asyncio.create_task(hold(1, "a", wait=True))
    await asyncio.sleep(0)
    rest = [asyncio.create_task(hold(1, name)) for name in "bcd"]
    await asyncio.create_task(hold(2, "other"))  # another key is not held up
    await asyncio.create_task(hold(None, "nobody"))  # nor is a sender unknown
    assert order == ["a in", "other in", "other out", "nobody in", "nobody out"]
    release.set()
    await asyncio.gather(first, *rest)
    assert order[5:] == ["a out", "b in", "b out", "c in", "c out", "d in", "d out"]
    assert len(locks) == 0


async def test_a_holder_that_fails_lets_the_next_one_in() -> None:
    locks = KeyedLock()
    with pytest.raises(RuntimeError):
        async with locks.hold("k"):
            raise RuntimeError("handler failed")
    async with locks.hold("k"):
        assert len(locks) == 1
    assert len(locks) == 0
