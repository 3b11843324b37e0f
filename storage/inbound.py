"""Inbound messages, recorded once each: the key to handling duplicates exactly once.

A message is known by (municipality, channel, provider id): each municipality has its own
bot, whose update ids count on their own, and its own numbers.

The reply recorded to answer a repeated delivery is sealed (storage/sealing.py) when the
ballot key is set: a ballot's receipt names the choice, and the row names the resident
(or the Telegram chat). Without the key no ballot can be cast, and replies are kept as
they are.
"""

from __future__ import annotations

from storage.db import Database
from storage.sealing import SealBroken, Sealer, is_sealed

#: the sealing purpose of recorded replies
REPLY = "reply"
#: replies are padded to this many bytes: a receipt's length does not tell its option
#: (an SMS reply is a few hundred bytes, a Telegram answer with its buttons a few KB)
REPLY_PAD = 4096


class AlreadyRecorded(Exception):
    """This message was recorded before (the provider delivered it again): raised inside
    the transaction that handled it once more, so that what the handling did rolls back."""


def _bound_to(municipality_id: int, channel: str, provider_id: str) -> str:
    """What a sealed reply belongs to: it cannot be moved to another message's row."""
    return f"{municipality_id}:{channel}:{provider_id}"


class InboundRepo:
    def __init__(self, db: Database, sealer: Sealer | None = None) -> None:
        self.db = db
        self._sealer = sealer

    def _seal(
        self, municipality_id: int, channel: str, provider_id: str, reply: str | None
    ) -> str | None:
        if not reply or self._sealer is None:
            return reply
        return self._sealer.seal(
            REPLY,
            reply.encode(),
            bound_to=_bound_to(municipality_id, channel, provider_id),
            pad=REPLY_PAD,
        )

    async def record(
        self, *, municipality_id: int, channel: str, provider_id: str, now: str
    ) -> bool:
        """Record an arrival; False when this (municipality, channel, provider id) was
        seen before."""
        inserted = await self.db.execute(
            "INSERT INTO inbound (municipality_id, channel, provider_id, received_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (municipality_id, channel, provider_id) DO NOTHING",
            (municipality_id, channel, provider_id, now),
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
        handled before. A row recorded on arrival and not handled yet (NULL reply: a
        Telegram update the webhook recorded before feeding it to the dispatcher, whose
        text command records it) is completed instead."""
        sealed = self._seal(municipality_id, channel, provider_id, reply)
        inserted = await self.db.execute(
            "INSERT INTO inbound (municipality_id, channel, provider_id, received_at,"
            " resident_id, command, reply) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (municipality_id, channel, provider_id) DO UPDATE"
            " SET resident_id = excluded.resident_id, command = excluded.command,"
            " reply = excluded.reply WHERE inbound.reply IS NULL",
            (municipality_id, channel, provider_id, now, resident_id, command, sealed),
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
        """The outcome of an arrival recorded by :meth:`record`, unless what handled it
        recorded its own (:meth:`record_handled`)."""
        await self.db.execute(
            "UPDATE inbound SET resident_id = ?, command = ?, reply = ?"
            " WHERE municipality_id = ? AND channel = ? AND provider_id = ?"
            " AND reply IS NULL",
            (
                resident_id,
                command,
                self._seal(municipality_id, channel, provider_id, reply),
                municipality_id,
                channel,
                provider_id,
            ),
        )

    async def seen(self, *, municipality_id: int, channel: str, provider_id: str) -> bool:
        """Whether this (municipality, channel, provider id) was recorded."""
        found = await self.db.fetchval(
            "SELECT 1 FROM inbound WHERE municipality_id = ? AND channel = ? AND provider_id = ?",
            (municipality_id, channel, provider_id),
        )
        return found is not None

    async def reply_to(self, *, municipality_id: int, channel: str, provider_id: str) -> str | None:
        """The recorded reply, opened; "" (no answer again) if it cannot be opened (the
        ballot key changed or is not set)."""
        reply = await self.db.fetchval(
            "SELECT reply FROM inbound"
            " WHERE municipality_id = ? AND channel = ? AND provider_id = ?",
            (municipality_id, channel, provider_id),
        )
        if reply is None or not is_sealed(reply):
            return reply
        if self._sealer is None:
            return ""
        try:
            opened = self._sealer.open(
                REPLY, reply, bound_to=_bound_to(municipality_id, channel, provider_id)
            )
        except SealBroken:
            return ""
        return opened.decode()
