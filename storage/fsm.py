"""Telegram conversations in progress (aiogram FSM): a state and a JSON text per key.

The runtime side (``bot/channels/telegram/fsm_storage.py``) turns aiogram's keys and data
into these plain values; this module only stores them. Each call is one statement, so it joins the
caller's transaction if there is one and is atomic by itself if not.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Database

_KEY = "municipality_id, bot_id, chat_id, user_id, thread_id, business_connection_id, destiny"
_WHERE = " AND ".join(f"{column} = ?" for column in _KEY.split(", "))


def _upsert(column: str) -> str:
    """Set ``column`` (and ``updated_at``) of a key's row, inserting the row if need be."""
    return (
        f"INSERT INTO telegram_fsm ({_KEY}, {column}, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        f" ON CONFLICT ({_KEY}) DO UPDATE SET {column} = excluded.{column},"
        " updated_at = excluded.updated_at"
    )


_SET_STATE = _upsert("state")
_SET_DATA = _upsert("data")


@dataclass(frozen=True, slots=True)
class FsmKey:
    """aiogram's ``StorageKey`` within a municipality; a part Telegram leaves out is 0
    (``thread_id``) or "" (``business_connection_id``)."""

    municipality_id: int
    bot_id: int
    chat_id: int
    user_id: int
    thread_id: int
    business_connection_id: str
    destiny: str

    def values(self) -> tuple[int, int, int, int, int, str, str]:
        """The key's columns, in ``_KEY``'s order (``dataclasses.astuple`` deep-copies:
        too slow for the one lookup of every update)."""
        return (
            self.municipality_id,
            self.bot_id,
            self.chat_id,
            self.user_id,
            self.thread_id,
            self.business_connection_id,
            self.destiny,
        )


class FsmRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def state(self, key: FsmKey) -> str | None:
        """The state of ``key`` (None: none, or no row). aiogram asks it for every update:
        one lookup by primary key."""
        return await self.db.fetchval(
            f"SELECT state FROM telegram_fsm WHERE {_WHERE}", key.values()
        )

    async def data(self, key: FsmKey) -> str | None:
        """The JSON text of ``key``'s data (None: no row)."""
        return await self.db.fetchval(f"SELECT data FROM telegram_fsm WHERE {_WHERE}", key.values())

    async def set_state(self, key: FsmKey, state: str | None, *, now: str) -> None:
        await self.db.execute(_SET_STATE, (*key.values(), state, now))

    async def set_data(self, key: FsmKey, data: str, *, now: str) -> None:
        await self.db.execute(_SET_DATA, (*key.values(), data, now))

    async def delete_untouched(self, municipality_id: int, *, before: str) -> int:
        """Delete the municipality's rows last written before ``before``; return how many."""
        return await self.db.execute(
            "DELETE FROM telegram_fsm WHERE municipality_id = ? AND updated_at < ?",
            (municipality_id, before),
        )
