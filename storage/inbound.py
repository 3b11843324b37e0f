"""Inbound messages, recorded once each: the key to handling duplicates exactly once.

A message is known by (municipality, channel, provider id): each municipality has its own
bot, whose update ids count on their own, and its own numbers."""

from __future__ import annotations

from storage.db import Database


class AlreadyRecorded(Exception):
    """This message was recorded before (the provider delivered it again): raised inside
    the transaction that handled it once more, so that what the handling did rolls back."""


class InboundRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(
        self, *, municipality_id: int, channel: str, provider_id: str, now: str
    ) -> bool:
        """Record an arrival; False when this (municipality, channel, provider id) was
        seen before."""
        inserted = await self.db.executemany(
            "INSERT INTO inbound (municipality_id, channel, provider_id, received_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (municipality_id, channel, provider_id) DO NOTHING",
            [(municipality_id, channel, provider_id, now)],
        )
        return inserted == 1

    async def record_handled(
        self,
        *,
        municipality_id: int,
        channel: str,
        provider_id: str,
        now: str,
        resident_id: int | None,
        command: str | None,
        reply: str | None,
    ) -> None:
        """Record an arrival already handled, with its outcome, in one statement; raise
        :class:`AlreadyRecorded` when this (municipality, channel, provider id) was
        recorded before."""
        inserted = await self.db.executemany(
            "INSERT INTO inbound (municipality_id, channel, provider_id, received_at,"
            " resident_id, command, reply) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (municipality_id, channel, provider_id) DO NOTHING",
            [(municipality_id, channel, provider_id, now, resident_id, command, reply)],
        )
        if inserted != 1:
            raise AlreadyRecorded(provider_id)

    async def set_outcome(
        self,
        *,
        municipality_id: int,
        channel: str,
        provider_id: str,
        resident_id: int | None,
        command: str | None,
        reply: str | None,
    ) -> None:
        await self.db.execute(
            "UPDATE inbound SET resident_id = ?, command = ?, reply = ?"
            " WHERE municipality_id = ? AND channel = ? AND provider_id = ?",
            (resident_id, command, reply, municipality_id, channel, provider_id),
        )

    async def reply_to(self, *, municipality_id: int, channel: str, provider_id: str) -> str | None:
        return await self.db.fetchval(
            "SELECT reply FROM inbound"
            " WHERE municipality_id = ? AND channel = ? AND provider_id = ?",
            (municipality_id, channel, provider_id),
        )
