"""The durable outbox: enqueue with dedupe keys, claim due rows, record outcomes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from storage.db import Database, Row
from storage.models import OutboxDraft, OutboxMessage
from storage.sealing import SealBroken, Sealer, is_sealed

#: the sealing purpose of private outbox bodies (a reply that may name a vote)
PRIVATE = "outbox"
#: private bodies are padded to this many bytes (a Telegram text is at most 4,096 characters)
PRIVATE_PAD = 4096

_COLUMNS = (
    "id, municipality_id, dedupe_key, resident_id, broadcast_id, channel, address, body,"
    " status, attempts, provider_id, error, reply_markup, verify_since, media"
)

#: provider statuses only move forward along this order (failures are final)
STATUS_RANK = {
    "queued": 0,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "undelivered": 3,
    "failed": 3,
}


#: the first due time of a reply to a person: ahead of every bulk row (a broadcast's rows
#: are due when queued), so that the worker's next claim takes it first
AHEAD = "2000-01-01T00:00:00.000+00:00"

#: the due rows of one municipality's channel, oldest due first: walks ``outbox_claim``
CLAIM_DUE = (
    f"SELECT {_COLUMNS} FROM outbox WHERE status = 'queued' AND municipality_id = ?"
    " AND channel = ? AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?"
)


class OutboxRepo:
    """A draft marked ``private`` (a reply a handler could not send at once, e.g. the
    receipt of a vote) is kept sealed with the ballot key, bound to its dedupe key, and
    opened only when read for sending: a copy of the database does not show it beside the
    chat it goes to. Without the key (no vote can be cast) it is kept as it is."""

    def __init__(self, db: Database, sealer: Sealer | None = None) -> None:
        self.db = db
        self._sealer = sealer

    def _body(self, draft: OutboxDraft) -> str:
        if not draft.private or self._sealer is None:
            return draft.body
        return self._sealer.seal(
            PRIVATE, draft.body.encode(), bound_to=draft.dedupe_key, pad=PRIVATE_PAD
        )

    def _message(self, row: Row) -> OutboxMessage:
        """The row as a message, a sealed body opened. One that does not open (the key is
        gone or changed) reads as empty: the provider refuses it and the row fails, rather
        than the sealed text reaching a person or the worker stopping on it."""
        message = OutboxMessage(*row)
        if not is_sealed(message.body):
            return message
        try:
            if self._sealer is None:
                raise SealBroken("no ballot key")
            body = self._sealer.open(PRIVATE, message.body, bound_to=message.dedupe_key)
        except SealBroken:
            return replace(message, body="")
        return replace(message, body=body.decode())

    async def enqueue(
        self, drafts: Sequence[OutboxDraft], *, now: str, due: str | None = None
    ) -> int:
        """Insert drafts whose dedupe key is new; return how many were new. ``due``: when
        they are first due (default ``now``); rows are taken in order of it, so a reply
        due at :data:`AHEAD` goes before a broadcast's rows queued earlier."""
        return await self.db.insert_many(
            "outbox (municipality_id, dedupe_key, resident_id, broadcast_id, channel, address,"
            " body, reply_markup, media, next_attempt_at, created_at, updated_at)",
            [
                (
                    d.municipality_id,
                    d.dedupe_key,
                    d.resident_id,
                    d.broadcast_id,
                    d.channel,
                    d.address,
                    self._body(d),
                    d.reply_markup,
                    d.media,
                    due or now,
                    now,
                    now,
                )
                for d in drafts
            ],
            on_conflict="ON CONFLICT (dedupe_key) DO NOTHING",
        )

    async def claim_due(
        self,
        *,
        municipality_id: int,
        channel: str,
        now: str,
        limit: int,
        worker_id: int | None = None,
    ) -> list[OutboxMessage]:
        """Mark up to ``limit`` due rows of one municipality's ``channel`` as sending
        (claimed by ``worker_id``) and return them, oldest due first. Where several
        processes share the outbox, rows another worker is claiming right now are skipped:
        no row is claimed twice."""
        async with self.db.transaction():
            rows = await self.db.fetchall(
                CLAIM_DUE + self.db.dialect.skip_locked, (municipality_id, channel, now, limit)
            )
            if rows:
                ids = ", ".join("?" for _ in rows)
                await self.db.execute(
                    "UPDATE outbox SET status = 'sending', attempts = attempts + 1,"
                    f" claimed_by = ?, updated_at = ? WHERE id IN ({ids})",
                    (worker_id, now, *(row["id"] for row in rows)),
                )
        # as they now are in the table: sending, one more attempt
        return [
            replace(self._message(row), status="sending", attempts=row["attempts"] + 1)
            for row in rows
        ]

    async def mark_sent(self, message_id: int, provider_id: str | None, *, now: str) -> None:
        await self.db.execute(
            "UPDATE outbox SET status = 'sent', provider_id = ?, error = NULL,"
            " verify_since = NULL, updated_at = ? WHERE id = ? AND status = 'sending'",
            (provider_id, now, message_id),
        )

    async def mark_retry(
        self, message_id: int, *, at: str, error: str, now: str, verify_since: str | None = None
    ) -> None:
        """Back to the queue until ``at``. ``verify_since``: this attempt's outcome is
        unknown (see :attr:`OutboxMessage.verify_since`); an earlier one stays unknown."""
        await self.db.execute(
            "UPDATE outbox SET status = 'queued', next_attempt_at = ?, error = ?, updated_at = ?,"
            " verify_since = COALESCE(verify_since, ?) WHERE id = ?",
            (at, error, now, verify_since, message_id),
        )

    async def mark_failed(self, message_id: int, *, error: str, now: str) -> None:
        await self.db.execute(
            "UPDATE outbox SET status = 'failed', error = ?, updated_at = ? WHERE id = ?",
            (error, now, message_id),
        )

    async def register_worker(self, worker_id: int) -> None:
        """``worker_id`` claims rows from now on: it counts as alive for as long as this
        connection is open (where several processes share the outbox)."""
        if self.db.dialect.hold_lock is not None:
            await self.db.execute(self.db.dialect.hold_lock, (worker_id,))

    async def live_workers(self) -> set[int] | None:
        """The ids of the workers alive now, by the locks :meth:`register_worker` took;
        None with one writer (SQLite), where every worker but the caller is gone."""
        held_locks = self.db.dialect.held_locks
        if held_locks is None:
            return None
        return {row[0] for row in await self.db.fetchall(held_locks)}

    async def requeue_in_flight(
        self, *, now: str, worker_id: int | None = None, alive: set[int] | None = None
    ) -> int:
        """After a crash: rows caught mid-send by a worker that is gone go back to the
        queue, to be verified with the provider before they are sent again (see
        :attr:`OutboxMessage.verify_since`: they were claimed at ``updated_at``).
        ``worker_id``'s own rows stay, and those of the workers in ``alive`` (see
        :meth:`live_workers`; None: every other worker is gone)."""
        mine = -1 if worker_id is None else worker_id
        requeue = (
            "UPDATE outbox SET status = 'queued', verify_since = COALESCE(verify_since,"
            " updated_at), updated_at = ? WHERE status = 'sending' AND "
        )
        if alive is None:
            return await self.db.execute(
                requeue + "(claimed_by IS NULL OR claimed_by <> ?)", (now, mine)
            )
        claimers = await self.db.fetchall(
            "SELECT DISTINCT claimed_by FROM outbox WHERE status = 'sending'"
            " AND claimed_by IS NOT NULL"
        )
        gone = [row[0] for row in claimers if row[0] not in alive and row[0] != mine]
        marks = ", ".join("?" for _ in gone) or "NULL"
        return await self.db.execute(
            requeue + f"(claimed_by IS NULL OR claimed_by IN ({marks}))", (now, *gone)
        )

    async def requeue(self, message_ids: Sequence[int], *, now: str) -> int:
        """Hand claimed rows back untouched (a worker stopping before it sent them)."""
        if not message_ids:
            return 0
        marks = ", ".join("?" for _ in message_ids)
        return await self.db.execute(
            f"UPDATE outbox SET status = 'queued', updated_at = ? WHERE status = 'sending'"
            f" AND id IN ({marks})",
            (now, *message_ids),
        )

    async def by_provider_id(self, channel: str, provider_id: str) -> OutboxMessage | None:
        row = await self.db.fetchone(
            f"SELECT {_COLUMNS} FROM outbox WHERE channel = ? AND provider_id = ?",
            (channel, provider_id),
        )
        return None if row is None else self._message(row)

    async def set_status(
        self, message_id: int, status: str, error: str | None, *, now: str
    ) -> None:
        await self.db.execute(
            "UPDATE outbox SET status = ?, error = COALESCE(?, error), updated_at = ? WHERE id = ?",
            (status, error, now, message_id),
        )

    async def by_key(self, dedupe_key: str) -> OutboxMessage | None:
        row = await self.db.fetchone(
            f"SELECT {_COLUMNS} FROM outbox WHERE dedupe_key = ?", (dedupe_key,)
        )
        return None if row is None else self._message(row)

    async def cancel_queued(self, broadcast_id: int, *, error: str, now: str) -> int:
        """Fail the broadcast's messages still waiting (not those a worker holds or has
        sent); how many."""
        return await self.db.execute(
            "UPDATE outbox SET status = 'failed', error = ?, updated_at = ?"
            " WHERE broadcast_id = ? AND status = 'queued'",
            (error, now, broadcast_id),
        )

    async def counts(self, broadcast_id: int) -> dict[str, int]:
        rows = await self.db.fetchall(
            "SELECT status, COUNT(*) FROM outbox WHERE broadcast_id = ? GROUP BY status",
            (broadcast_id,),
        )
        return {row[0]: row[1] for row in rows}

    async def pending(self) -> int:
        return int(
            await self.db.fetchval(
                "SELECT COUNT(*) FROM outbox WHERE status IN ('queued', 'sending')"
            )
        )

    async def backlog(self, municipality_id: int) -> dict[str, int]:
        """Messages of a municipality not yet handed to their provider, by channel."""
        rows = await self.db.fetchall(
            "SELECT channel, COUNT(*) FROM outbox WHERE municipality_id = ?"
            " AND status IN ('queued', 'sending') GROUP BY channel ORDER BY channel",
            (municipality_id,),
        )
        return {row[0]: int(row[1]) for row in rows}
