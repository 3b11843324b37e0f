"""One holder per key at a time, the others served in the order they came."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Hashable


class KeyedLock:
    """A lock per key, made on first use and dropped once nobody holds or waits for it.

    ``asyncio.Lock`` serves its waiters first come, first served, and a free lock is taken
    without giving way to the event loop: whoever reaches :meth:`hold` first holds first.
    """

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, list[int]]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: Hashable | None) -> AsyncIterator[None]:
        """Hold ``key``'s lock for the block; ``None`` holds nothing."""
        if key is None:
            yield
            return
        lock, users = self._locks.setdefault(key, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if not users[0]:
                del self._locks[key]

    def __len__(self) -> int:
        """How many keys are held or waited for now."""
        return len(self._locks)
