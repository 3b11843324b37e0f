"""Group commit: inbound messages that arrive together are handled in one transaction.

Each inbound SMS is recorded, handled and its outcome written all or nothing, and
transactions on a connection take turns: one at a time, each a few statements, each
statement a round trip to the database thread and a turn of the event loop. Under load
that chain of turns, not the work, set the pace (``bench/inbound.py``: ~700 SMS/s).

:class:`GroupCommit` takes the messages queued while one batch is being handled as the
next batch, and handles all of them in one transaction, concurrently: their statements
queue up on the connection together (``storage/db.py``: pipelined) and one COMMIT makes
them durable. Each caller gets its own result once the batch has committed.

- Messages of one sender (the ``key``) are handled one after another, in arrival order,
  so that ``LANG RU`` then ``ME`` answers in Russian; other senders' run side by side.
- If a message's handling raises, the whole batch is rolled back and each of its
  messages is handled again in a transaction of its own: one bad message costs the
  others nothing, and the one that fails again gets its error.

Work must do nothing but database work (the transaction stays open while it runs): a
reply to send elsewhere is returned, and sent after the commit. :meth:`GroupCommit.run`
is not for a caller inside a transaction of the same connection (it would wait for
that transaction to end).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from storage.db import Database

log = logging.getLogger(__name__)

Work = Callable[[], Awaitable[Any]]


@dataclass
class _Item:
    key: str
    work: Work
    done: asyncio.Future[Any] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class _BatchFailed(Exception):
    """Some work of the batch raised: roll the batch back."""


class GroupCommit:
    def __init__(self, db: Database, *, max_batch: int = 64) -> None:
        self._db = db
        self._max_batch = max_batch
        self._queue: list[_Item] = []
        self._draining: asyncio.Task[None] | None = None

    async def run(self, key: str, work: Work) -> Any:
        """Run ``work`` in a transaction shared with the work queued with it; return its
        result once that transaction has committed (or raise what it raised)."""
        item = _Item(key, work)
        # a caller that went away (a dropped request) leaves no unretrieved error behind
        item.done.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._queue.append(item)
        if self._draining is None or self._draining.done():
            # a context of its own: the batches are nobody's transaction but their own
            self._draining = asyncio.get_running_loop().create_task(
                self._drain(), context=contextvars.Context()
            )
        return await asyncio.shield(item.done)

    async def _drain(self) -> None:
        while self._queue:
            # Statements outside a transaction woken by the last COMMIT go first (they
            # are queued before this BEGIN): batches back to back must not starve them.
            await asyncio.sleep(0)
            batch = self._queue[: self._max_batch]
            del self._queue[: self._max_batch]
            try:
                async with self._db.transaction():
                    results = await self._together(batch)
            except _BatchFailed as failed:
                if len(batch) == 1:  # it was alone already: that is its answer
                    batch[0].done.set_exception(failed.__cause__ or failed)
                    continue
                log.info("a batch of %s rolled back: handling each on its own", len(batch))
                for item in batch:
                    await self._alone(item)
            except Exception as exc:  # BEGIN or COMMIT failed: nothing was kept
                for item in batch:
                    item.done.set_exception(exc)
            else:
                for item, result in zip(batch, results, strict=True):
                    item.done.set_result(result)

    async def _together(self, batch: list[_Item]) -> list[Any]:
        """Every item's result, in order; each sender's items one after another."""
        results: dict[int, Any] = {}
        by_key: dict[str, list[int]] = {}
        for n, item in enumerate(batch):
            by_key.setdefault(item.key, []).append(n)

        async def in_turn(positions: list[int]) -> None:
            for n in positions:
                results[n] = await batch[n].work()

        outcomes = await asyncio.gather(
            *(in_turn(positions) for positions in by_key.values()), return_exceptions=True
        )
        failure = next((o for o in outcomes if isinstance(o, BaseException)), None)
        if failure is not None:
            raise _BatchFailed from failure
        return [results[n] for n in range(len(batch))]

    async def _alone(self, item: _Item) -> None:
        try:
            async with self._db.transaction():
                result = await item.work()
        except Exception as exc:
            item.done.set_exception(exc)
        else:
            item.done.set_result(result)
