"""Broadcasts and their audience, read page by page (never the whole register at once)."""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Database
from storage.models import Broadcast

_COLUMNS = (
    "id, municipality_id, author_id, village_id, body, recipients, progress_chat_id,"
    " progress_message_id"
)


@dataclass(frozen=True, slots=True)
class Recipient:
    resident_id: int
    phone: str
    telegram_user_id: int | None
    telegram_blocked: bool
    language: str


@dataclass(frozen=True, slots=True)
class ProgressMessage:
    """A broadcast's progress message in its author's Telegram chat."""

    broadcast_id: int
    chat_id: int
    message_id: int
    #: the text last shown (None until the first one is recorded)
    text: str | None
    #: the author's language (the municipality's default if the author is gone)
    language: str


@dataclass(frozen=True, slots=True)
class BroadcastDraft:
    """A staff member's BROADCAST before they confirm it (not queued yet)."""

    id: int
    author_id: int
    body: str
    created_at: str


class BroadcastRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create_draft(
        self, *, municipality_id: int, author_id: int, body: str, now: str
    ) -> int:
        """A new draft for ``author_id``; their drafts still open are closed (replaced)."""
        await self.close_drafts(author_id, now=now)
        return await self.db.insert(
            "INSERT INTO broadcast_drafts (municipality_id, author_id, body, created_at)"
            " VALUES (?, ?, ?, ?) RETURNING id",
            (municipality_id, author_id, body, now),
        )

    async def open_draft(self, author_id: int) -> BroadcastDraft | None:
        """The author's draft awaiting confirmation, if any."""
        row = await self.db.fetchone(
            "SELECT id, author_id, body, created_at FROM broadcast_drafts"
            " WHERE author_id = ? AND closed_at IS NULL ORDER BY id DESC LIMIT 1",
            (author_id,),
        )
        return None if row is None else BroadcastDraft(*row)

    async def get_draft(self, draft_id: int) -> BroadcastDraft | None:
        """An open draft by id (None once closed)."""
        row = await self.db.fetchone(
            "SELECT id, author_id, body, created_at FROM broadcast_drafts"
            " WHERE id = ? AND closed_at IS NULL",
            (draft_id,),
        )
        return None if row is None else BroadcastDraft(*row)

    async def close_draft(self, draft_id: int, *, now: str) -> bool:
        """Close an open draft (to queue it, or dropped); False if it was closed
        already: a second tap of Confirm finds it so and queues nothing."""
        changed = await self.db.execute(
            "UPDATE broadcast_drafts SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
            (now, draft_id),
        )
        return changed > 0

    async def close_drafts(self, author_id: int, *, now: str) -> None:
        await self.db.execute(
            "UPDATE broadcast_drafts SET closed_at = ? WHERE author_id = ? AND closed_at IS NULL",
            (now, author_id),
        )

    async def create(
        self,
        *,
        municipality_id: int,
        author_id: int | None,
        village_id: int | None,
        body: str,
        now: str,
    ) -> int:
        return await self.db.insert(
            "INSERT INTO broadcasts (municipality_id, author_id, village_id, body, created_at)"
            " VALUES (?, ?, ?, ?, ?) RETURNING id",
            (municipality_id, author_id, village_id, body, now),
        )

    async def set_recipients(self, broadcast_id: int, recipients: int) -> None:
        await self.db.execute(
            "UPDATE broadcasts SET recipients = ? WHERE id = ?", (recipients, broadcast_id)
        )

    async def get(self, broadcast_id: int) -> Broadcast | None:
        row = await self.db.fetchone(
            f"SELECT {_COLUMNS} FROM broadcasts WHERE id = ?", (broadcast_id,)
        )
        return None if row is None else Broadcast(*row)

    async def audience_page(
        self,
        *,
        municipality_id: int,
        village_id: int | None,
        after_id: int,
        limit: int,
        born: tuple[int, int] | None = None,
    ) -> list[Recipient]:
        """Opted-in residents (of one village, or all; born in the years ``born`` from and
        to, or any) with ids above ``after_id``."""
        first, last = born or (None, None)
        rows = await self.db.fetchall(
            "SELECT id, phone, telegram_user_id, telegram_blocked, language FROM residents"
            " WHERE municipality_id = ? AND opted_out = FALSE AND id > ?"
            " AND (CAST(? AS BIGINT) IS NULL OR village_id = ?)"
            " AND (CAST(? AS BIGINT) IS NULL OR birth_year BETWEEN ? AND ?) ORDER BY id LIMIT ?",
            (municipality_id, after_id, village_id, village_id, first, first, last, limit),
        )
        return [Recipient(row[0], row[1], row[2], bool(row[3]), row[4]) for row in rows]

    async def set_progress_message(
        self, broadcast_id: int, *, chat_id: int, message_id: int, text: str, checked_at: str
    ) -> None:
        """Where the author watches progress, and the text it shows."""
        await self.db.execute(
            "UPDATE broadcasts SET progress_chat_id = ?, progress_message_id = ?,"
            " progress_text = ?, progress_checked_at = ? WHERE id = ?",
            (chat_id, message_id, text, checked_at, broadcast_id),
        )

    async def set_progress_shown(self, broadcast_id: int, *, text: str, checked_at: str) -> None:
        """The progress message now shows ``text``, read from rows as of ``checked_at``."""
        await self.db.execute(
            "UPDATE broadcasts SET progress_text = ?, progress_checked_at = ? WHERE id = ?",
            (text, checked_at, broadcast_id),
        )

    async def progress_due(self, municipality_id: int) -> list[ProgressMessage]:
        """Progress messages whose outbox rows changed at or after their last check."""
        rows = await self.db.fetchall(
            "SELECT b.id, b.progress_chat_id, b.progress_message_id, b.progress_text,"
            " COALESCE(r.language, m.default_language)"
            " FROM broadcasts b JOIN municipalities m ON m.id = b.municipality_id"
            " LEFT JOIN residents r ON r.id = b.author_id"
            " WHERE b.municipality_id = ? AND b.progress_message_id IS NOT NULL"
            " AND (b.progress_checked_at IS NULL OR EXISTS (SELECT 1 FROM outbox o"
            " WHERE o.broadcast_id = b.id AND o.updated_at >= b.progress_checked_at))"
            " ORDER BY b.id",
            (municipality_id,),
        )
        return [ProgressMessage(row[0], row[1], row[2], row[3], row[4]) for row in rows]
