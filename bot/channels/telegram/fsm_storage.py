"""aiogram's FSM storage in the project's database: Telegram forms and ballot drafts survive
a restart of ``civic-bot run`` and are seen by every process on one database.

Rows are keyed by aiogram's ``StorageKey`` within the municipality the bot serves
(``storage/fsm.py``, table ``telegram_fsm``). Data is a JSON object; data that would
not come back from JSON exactly as given (a tuple, an ``int`` key, a set) is refused at
the write, so a handler cannot depend on what only the in-memory storage kept.

Transactions: each call is one statement through :class:`storage.db.Database`, which
joins the current task's transaction (a handler's ``async with repos.db.transaction()``)
and otherwise waits for another task's transaction to end. The storage never takes the
dispatcher's lock (``DatabaseMiddleware``): aiogram reads the state before that
middleware runs, and handlers write it while holding the lock, which is not re-entrant.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey

from bot.core.clock import Clock, iso
from storage.fsm import FsmKey, FsmRepo
from storage.models import Municipality

log = logging.getLogger(__name__)


class DatabaseStorage(BaseStorage):
    """FSM state and data per key in ``telegram_fsm``; ``updated_at`` from ``clock``."""

    def __init__(
        self,
        repo: FsmRepo,
        municipality: Callable[[], Awaitable[Municipality]],
        clock: Clock,
    ) -> None:
        self._repo = repo
        self._municipality = municipality
        self._clock = clock

    async def _key(self, key: StorageKey) -> FsmKey:
        municipality = await self._municipality()
        return FsmKey(
            municipality_id=municipality.id,
            bot_id=key.bot_id,
            chat_id=key.chat_id,
            user_id=key.user_id,
            thread_id=key.thread_id or 0,
            business_connection_id=key.business_connection_id or "",
            destiny=key.destiny,
        )

    async def get_state(self, key: StorageKey) -> str | None:
        return await self._repo.state(await self._key(key))

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        name = state.state if isinstance(state, State) else state
        await self._repo.set_state(await self._key(key), name, now=iso(self._clock.now()))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        text = await self._repo.data(await self._key(key))
        return {} if text is None else json.loads(text)

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        text = encode(data)
        await self._repo.set_data(await self._key(key), text, now=iso(self._clock.now()))

    async def close(self) -> None:
        """Nothing to close: the database belongs to whoever opened it."""


def encode(data: Mapping[str, Any]) -> str:
    """``data`` as JSON text; ValueError if it would not read back equal to ``data``."""
    plain = dict(data)
    text = json.dumps(plain, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    back = json.loads(text)
    changed = sorted(str(name) for name, value in plain.items() if back.get(name) != value)
    if changed:  # named, not shown: drafts hold what residents typed
        raise ValueError(
            f"FSM data {changed} would not read back from JSON as given"
            " (str keys only, lists not tuples)"
        )
    return text


async def forget_stale(repo: FsmRepo, municipality: Municipality, clock: Clock, days: int) -> int:
    """Delete the forms and drafts nobody touched for ``days`` days; return how many."""
    before = iso(clock.now() - timedelta(days=days))
    deleted = await repo.delete_untouched(municipality.id, before=before)
    if deleted:
        log.info("telegram drafts untouched for %s days deleted: %s", days, deleted)
    return deleted
