"""Staff broadcasts: one outbox message per opted-in resident, on their channel.

(see :mod:`bot.core.services.outbound` for how the channel is chosen). The broadcast row and all
its outbox rows commit together, so a broadcast is either fully queued or not at all.
"""

from __future__ import annotations

import html
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.core.clock import iso
from bot.core.languages import spellings
from bot.core.rendering.templates import Renderer
from bot.core.services import audit
from bot.core.services.audit import Actor
from bot.core.services.errors import ServiceError
from bot.core.services.hearings import ANSWERS
from bot.core.services.outbound import channel_of, drafts_for
from bot.core.services.roles import require_staff
from storage.broadcasts import Recipient
from storage.models import Broadcast, Municipality, Resident
from storage.repos import Repos

MAX_BODY = 1600
PAGE = 5000


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


async def create_broadcast(
    repos: Repos,
    municipality: Municipality,
    *,
    body: str,
    now: datetime,
    author: Resident | None = None,
    via: str = "cli",
    village: str | None = None,
    invited: Invited | None = None,
    due: datetime | None = None,
    translations: Mapping[str, str] | None = None,
) -> Progress:
    """Queue the broadcast; ``author``: the staff member sending it (None: the command
    line's operator), on channel ``via`` (for the audit trail); to a ``village`` or to
    those ``invited`` to a hearing (else everyone); ``due``: not sent before then (its
    outbox rows' first attempt; cancel stops them meanwhile); ``translations``: the text
    a resident of that language gets instead of ``body``."""
    body = body.strip()
    if not body:
        raise ServiceError("the broadcast text is empty")
    if len(body) > MAX_BODY:
        raise ServiceError(f"the broadcast text is longer than {MAX_BODY} characters")
    if author is not None:
        await require_staff(repos, author)
    village_id = await _village_id(repos, municipality, village)
    stamp = iso(now)
    async with repos.db.transaction():
        broadcast_id = await repos.broadcasts.create(
            municipality_id=municipality.id,
            author_id=author.id if author else None,
            village_id=village_id,
            body=body,
            now=stamp,
        )
        recipients = 0
        async for page in _pages(repos, municipality, village_id, invited):
            drafts = [
                draft
                for recipient in page
                for draft in drafts_for(
                    recipient,
                    municipality_id=municipality.id,
                    key=f"broadcast:{broadcast_id}",
                    render=lambda channel, language: channel_text(
                        (translations or {}).get(language) or body, channel
                    ),
                    broadcast_id=broadcast_id,
                )
            ]
            await repos.outbox.enqueue(drafts, now=stamp, due=iso(due) if due else None)
            recipients += len(page)
        await repos.broadcasts.set_recipients(broadcast_id, recipients)
        await audit.record(
            repos, municipality.id, Actor(author.id if author else None, via), "broadcast",
            now=now, object_kind="broadcast", object_id=broadcast_id,
            detail=f"{recipients} recipient(s)" + (f", village {village}" if village_id else "")
            + (f", {invited}" if invited else "") + (f", due {iso(due)}" if due else ""),
        )  # fmt: skip
    return await progress(repos, broadcast_id)


#: the error a message of a cancelled broadcast carries (it fails: nobody gets it)
CANCELLED = "cancelled by staff"


def channel_text(text: str, channel: str) -> str:
    """A broadcast's text as ``channel`` carries it (Telegram: HTML, so escaped)."""
    return html.escape(text) if channel == "telegram" else text


async def cancel(
    repos: Repos,
    municipality: Municipality,
    broadcast_id: int,
    *,
    now: datetime,
    actor: Actor = audit.CLI,
) -> tuple[Progress, int]:
    """Stop what of a broadcast still waits in the outbox; the progress after, and how
    many messages will not go. What a worker holds or has sent is not called back."""
    found = await repos.broadcasts.get(broadcast_id)
    if found is None or found.municipality_id != municipality.id:
        raise ServiceError(f"no broadcast {broadcast_id}")
    async with repos.db.transaction():
        stopped = await repos.outbox.cancel_queued(broadcast_id, error=CANCELLED, now=iso(now))
        await audit.record(
            repos, municipality.id, actor, "broadcast cancelled", now=now,
            object_kind="broadcast", object_id=broadcast_id,
            detail=f"{stopped} message(s) not sent",
        )  # fmt: skip
    return await progress(repos, broadcast_id), stopped


async def audience(
    repos: Repos,
    municipality: Municipality,
    village: str | None = None,
    invited: Invited | None = None,
) -> dict[str, int]:
    """Who a broadcast would reach, before it goes: opted-in residents by channel
    (``telegram``, ``sms``), as :func:`create_broadcast` would address them."""
    village_id = await _village_id(repos, municipality, village)
    counts = dict.fromkeys(("telegram", "sms"), 0)
    async for page in _pages(repos, municipality, village_id, invited):
        for recipient in page:
            counts[channel_of(recipient)] += 1
    return counts


#: how long a BROADCAST waits for its author's confirmation (YES by SMS, or Confirm)
DRAFT_TTL = timedelta(minutes=10)


@dataclass(frozen=True)
class Proposal:
    """A BROADCAST awaiting its author's confirmation, and who it would reach."""

    draft_id: int
    counts: dict[str, int]

    @property
    def recipients(self) -> int:
        return sum(self.counts.values())


async def propose(
    repos: Repos, municipality: Municipality, author: Resident, *, body: str, now: datetime
) -> Proposal:
    """Keep ``body`` as the author's draft (replacing one still open) and count who it
    would reach by channel; nothing is queued before :func:`confirm`."""
    await require_staff(repos, author)
    body = body.strip()
    if not body or len(body) > MAX_BODY:
        raise ServiceError("the broadcast text is empty or too long")
    counts = await audience(repos, municipality)
    draft_id = await repos.broadcasts.create_draft(
        municipality_id=municipality.id, author_id=author.id, body=body, now=iso(now)
    )
    return Proposal(draft_id, counts)


async def confirm(
    repos: Repos,
    municipality: Municipality,
    author: Resident,
    draft_id: int,
    *,
    now: datetime,
    via: str,
) -> Progress | None:
    """Queue the author's draft ``draft_id``; None if it is not theirs, was confirmed or
    dropped already (a double tap queues once) or waited longer than :data:`DRAFT_TTL`."""
    draft = await repos.broadcasts.get_draft(draft_id)
    if draft is None or draft.author_id != author.id:
        return None
    async with repos.db.transaction():
        if not await repos.broadcasts.close_draft(draft_id, now=iso(now)):
            return None
        if now - datetime.fromisoformat(draft.created_at) > DRAFT_TTL:
            return None
        return await create_broadcast(
            repos, municipality, body=draft.body, now=now, author=author, via=via
        )


async def drop(repos: Repos, author: Resident, draft_id: int, *, now: datetime) -> bool:
    """Cancel the author's draft: nothing is queued. False if it was no longer open."""
    draft = await repos.broadcasts.get_draft(draft_id)
    if draft is None or draft.author_id != author.id:
        return False
    return await repos.broadcasts.close_draft(draft_id, now=iso(now))


@dataclass(frozen=True)
class Invited:
    """A broadcast's audience: those invited to a hearing (``unanswered``: only who has
    not answered yet)."""

    hearing_id: int
    unanswered: bool = False

    def __str__(self) -> str:
        return f"{'unanswered' if self.unanswered else 'invited'} to hearing {self.hearing_id}"


async def _pages(
    repos: Repos, municipality: Municipality, village_id: int | None, invited: Invited | None
) -> AsyncIterator[list[Recipient]]:
    """The audience a page at a time: the village's (or everyone's) opted-in residents, or
    the opted-in residents invited to a hearing of this municipality."""
    if (
        invited is not None
        and await repos.hearings.get(municipality.id, invited.hearing_id) is None
    ):
        raise ServiceError(f"no hearing {invited.hearing_id}")
    after = 0
    while True:
        if invited is None:
            page = await repos.broadcasts.audience_page(
                municipality_id=municipality.id, village_id=village_id, after_id=after,
                limit=PAGE,
            )  # fmt: skip
        else:
            page = await repos.hearings.audience_page(
                invited.hearing_id, answers=None if invited.unanswered else ANSWERS,
                unanswered=True, after_id=after, limit=PAGE,
            )  # fmt: skip
        if not page:
            return
        yield page
        after = page[-1].resident_id


async def _village_id(repos: Repos, municipality: Municipality, village: str | None) -> int | None:
    if not village:
        return None
    every = await repos.municipalities.villages(municipality.id)
    villages = {spelling: v for v in every for spelling in spellings(v.name)}
    if village.casefold() not in villages:
        known = ", ".join(v.name for v in every)
        raise ServiceError(f"unknown village {village!r} (known: {known})")
    return villages[village.casefold()].id


async def progress(repos: Repos, broadcast_id: int) -> Progress:
    broadcast = await repos.broadcasts.get(broadcast_id)
    if broadcast is None:
        raise ServiceError(f"no broadcast {broadcast_id}")
    return Progress(broadcast, await repos.outbox.counts(broadcast_id))


#: The live progress message of a broadcast (Telegram HTML), edited in place as the
#: messages go out (``bot.channels.telegram.progress``).
PROGRESS_TEMPLATE = "broadcast_progress"
#: Rows updated up to this long before a look at the progress are looked at again at the
#: next one: a worker (another connection or process) may commit a row stamped just before
#: the read.
PROGRESS_SETTLE = timedelta(seconds=10)


def progress_figures(progress: Progress) -> dict[str, Any]:
    """The template data: the counts ``civic-bot broadcast status ID`` prints."""
    counts = progress.counts
    queued = counts.get("queued", 0) + counts.get("sending", 0)
    return {
        "id": progress.broadcast.id,
        "recipients": progress.broadcast.recipients,
        "messages": progress.messages,
        "queued": queued,
        "sent": counts.get("sent", 0),
        "delivered": counts.get("delivered", 0),
        "failed": counts.get("failed", 0) + counts.get("undelivered", 0),
        "done": queued == 0,
    }


async def render_progress(
    repos: Repos, renderer: Renderer, broadcast_id: int, language: str
) -> tuple[str, bool]:
    """The progress message as it should read now (Telegram HTML), and whether nothing
    waits any more (its Cancel button goes)."""
    figures = progress_figures(await progress(repos, broadcast_id))
    text = renderer.render(PROGRESS_TEMPLATE, language, "telegram", **figures)
    return text, figures["done"]


async def remember_progress_message(
    repos: Repos, broadcast_id: int, *, chat_id: int, message_id: int, text: str, now: datetime
) -> None:
    """The progress message was sent: keep where it is, for the editor to keep it current."""
    await repos.broadcasts.set_progress_message(
        broadcast_id,
        chat_id=chat_id,
        message_id=message_id,
        text=text,
        checked_at=iso(now - PROGRESS_SETTLE),
    )
