"""Staff broadcasts: one outbox message per opted-in resident, on their channel.

Telegram when the resident has linked it (and not blocked the bot), else SMS; a long
text is split into SMS parts of at most two segments each. The broadcast row and all
its outbox rows commit together, so a broadcast is either fully queued or not at all.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime

from bot.clock import iso
from bot.rendering.sms import split_for_sms
from bot.services.errors import ServiceError
from storage.broadcasts import Recipient
from storage.models import Broadcast, Municipality, OutboxDraft, Resident
from storage.repos import Repos

MAX_BODY = 1600
PAGE = 5000
STAFF_ROLES = {"staff", "admin"}


class NotStaff(ServiceError):
    """Only staff may broadcast."""


@dataclass(frozen=True)
class Progress:
    broadcast: Broadcast
    counts: dict[str, int]

    @property
    def messages(self) -> int:
        return sum(self.counts.values())

    def __str__(self) -> str:
        c = self.counts
        return (
            f"broadcast {self.broadcast.id}: {self.broadcast.recipients} recipients,"
            f" {self.messages} messages: queued {c.get('queued', 0) + c.get('sending', 0)},"
            f" sent {c.get('sent', 0)}, delivered {c.get('delivered', 0)},"
            f" failed {c.get('failed', 0) + c.get('undelivered', 0)}"
        )


async def require_staff(repos: Repos, resident: Resident) -> None:
    """Checked on every staff call, not only when a menu is shown."""
    if not await repos.roles.of(resident.id) & STAFF_ROLES:
        raise NotStaff("only municipal staff may do this")


def drafts_for(
    recipient: Recipient,
    *,
    municipality_id: int,
    key: str,
    body: str,
    broadcast_id: int | None = None,
) -> list[OutboxDraft]:
    """The outbox rows that bring ``body`` (plain text) to one resident."""
    base = f"{key}:resident:{recipient.resident_id}"
    if recipient.telegram_user_id and not recipient.telegram_blocked:
        return [
            OutboxDraft(
                municipality_id,
                f"{base}:telegram",
                "telegram",
                str(recipient.telegram_user_id),
                html.escape(body),
                recipient.resident_id,
                broadcast_id,
            )
        ]
    return [
        OutboxDraft(
            municipality_id,
            f"{base}:sms" + (f":{n + 1}" if n else ""),
            "sms",
            recipient.phone,
            part,
            recipient.resident_id,
            broadcast_id,
        )
        for n, part in enumerate(split_for_sms(body))
    ]


async def create_broadcast(
    repos: Repos,
    municipality: Municipality,
    *,
    body: str,
    now: datetime,
    author: Resident | None = None,
    village: str | None = None,
) -> Progress:
    body = body.strip()
    if not body:
        raise ServiceError("the broadcast text is empty")
    if len(body) > MAX_BODY:
        raise ServiceError(f"the broadcast text is longer than {MAX_BODY} characters")
    if author is not None:
        await require_staff(repos, author)
    village_id = None
    if village:
        villages = {
            v.name.casefold(): v for v in await repos.municipalities.villages(municipality.id)
        }
        if village.casefold() not in villages:
            known = ", ".join(v.name for v in villages.values())
            raise ServiceError(f"unknown village {village!r} (known: {known})")
        village_id = villages[village.casefold()].id
    stamp = iso(now)
    async with repos.db.transaction():
        broadcast_id = await repos.broadcasts.create(
            municipality_id=municipality.id,
            author_id=author.id if author else None,
            village_id=village_id,
            body=body,
            now=stamp,
        )
        recipients, after = 0, 0
        while page := await repos.broadcasts.audience_page(
            municipality_id=municipality.id, village_id=village_id, after_id=after, limit=PAGE
        ):
            drafts = [
                draft
                for recipient in page
                for draft in drafts_for(
                    recipient,
                    municipality_id=municipality.id,
                    key=f"broadcast:{broadcast_id}",
                    body=body,
                    broadcast_id=broadcast_id,
                )
            ]
            await repos.outbox.enqueue(drafts, now=stamp)
            recipients += len(page)
            after = page[-1].resident_id
        await repos.broadcasts.set_recipients(broadcast_id, recipients)
    return await progress(repos, broadcast_id)


async def progress(repos: Repos, broadcast_id: int) -> Progress:
    broadcast = await repos.broadcasts.get(broadcast_id)
    if broadcast is None:
        raise ServiceError(f"no broadcast {broadcast_id}")
    return Progress(broadcast, await repos.outbox.counts(broadcast_id))
