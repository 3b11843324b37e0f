"""Rate-limit state shared by several processes (see ``bot/outbox/limits.py``).

Times are seconds since the epoch as the workers' clocks tell them.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Database


@dataclass(frozen=True, slots=True)
class RecentSend:
    chat: str
    starts_at: float
    #: None while in flight
    completed_at: float | None


class RateLimitRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add_channel(self, channel: str) -> None:
        await self.db.execute(
            "INSERT INTO rate_channels (channel, paused_until) VALUES (?, 0)"
            " ON CONFLICT (channel) DO NOTHING",
            (channel,),
        )

    async def lock_channel(self, channel: str) -> float:
        """Inside a transaction: wait for other processes' reservations on ``channel``,
        keep them waiting until this one commits; return the channel's pause end."""
        value = await self.db.fetchval(
            f"SELECT paused_until FROM rate_channels WHERE channel = ?{self.db.dialect.for_update}",
            (channel,),
        )
        return float(value or 0.0)

    async def pause(self, channel: str, until: float) -> None:
        await self.db.execute(
            "UPDATE rate_channels SET paused_until = ? WHERE channel = ? AND paused_until < ?",
            (until, channel, until),
        )

    async def recent(
        self, channel: str, *, completed_after: float, started_after: float
    ) -> list[RecentSend]:
        """Sends still in flight (started after ``started_after``: older ones are from a
        process that died mid-send) or completed after ``completed_after``; older rows are
        deleted first."""
        await self.db.execute(
            "DELETE FROM rate_sends WHERE channel = ? AND (completed_at <= ? OR starts_at <= ?)",
            (channel, completed_after, started_after),
        )
        rows = await self.db.fetchall(
            "SELECT chat, starts_at, completed_at FROM rate_sends WHERE channel = ?", (channel,)
        )
        return [RecentSend(row[0], float(row[1]), row[2]) for row in rows]

    async def add(self, channel: str, chat: str, starts_at: float, *, worker_id: int) -> int:
        return await self.db.insert(
            "INSERT INTO rate_sends (channel, chat, starts_at, worker_id) VALUES (?, ?, ?, ?)"
            " RETURNING id",
            (channel, chat, starts_at, worker_id),
        )

    async def complete_abandoned(self, *, alive: set[int], at: float) -> int:
        """Sends still in flight for workers not in ``alive`` were cut short when their
        process died: count them completed ``at`` now (the provider may just have seen
        them), so that their chats are not held until they look stale."""
        gone = "TRUE"
        if alive:
            marks = ", ".join("?" for _ in alive)
            gone = f"(worker_id IS NULL OR worker_id NOT IN ({marks}))"
        return await self.db.execute(
            f"UPDATE rate_sends SET completed_at = ? WHERE completed_at IS NULL AND {gone}",
            (at, *alive),
        )

    async def complete(self, send_id: int, at: float) -> None:
        await self.db.execute("UPDATE rate_sends SET completed_at = ? WHERE id = ?", (at, send_id))
