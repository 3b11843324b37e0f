"""Addressing a message to a resident: which channel, and the outbox rows it takes.

Telegram when the resident has linked it and not blocked the bot, else SMS; an SMS
text longer than two segments is split into several messages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from bot.core.clock import iso
from bot.core.rendering.sms import split_for_sms
from storage.broadcasts import Recipient
from storage.models import OutboxDraft, Resident
from storage.repos import Repos


def recipient_of(resident: Resident) -> Recipient:
    return Recipient(
        resident.id,
        resident.phone,
        resident.telegram_user_id,
        resident.telegram_blocked,
        resident.language,
    )


def channel_of(recipient: Recipient) -> str:
    return "telegram" if recipient.telegram_user_id and not recipient.telegram_blocked else "sms"


def drafts_for(
    recipient: Recipient,
    *,
    municipality_id: int,
    key: str,
    render: Callable[[str, str], str],
    broadcast_id: int | None = None,
    buttons: Callable[[str], str] | None = None,
    resident_in_key: bool = True,
    private: bool = False,
) -> list[OutboxDraft]:
    """Outbox rows for one resident; ``render(channel, language)`` gives the text and
    ``buttons(language)`` the Telegram buttons (JSON), if any. ``private`` (e.g. a sign-in
    code): the body is kept sealed in the outbox (storage/outbox.py).

    Dedupe keys are ``<key>:resident:<id>`` (``:2``, ``:3`` for further SMS parts), the
    same whichever channel carries it: a resident told by SMS who links Telegram later is
    not told again when a job runs again (migration 0024 took the channel out of older
    keys). Without ``resident_in_key`` just ``<key>`` (e.g. one message per household,
    whoever receives it).
    """
    channel = channel_of(recipient)
    base = f"{key}:resident:{recipient.resident_id}" if resident_in_key else key
    body = render(channel, recipient.language)
    if channel == "telegram":
        markup = buttons(recipient.language) if buttons else None
        return [
            OutboxDraft(
                municipality_id,
                base,
                channel,
                str(recipient.telegram_user_id),
                body,
                recipient.resident_id,
                broadcast_id,
                markup,
                private=private,
            )
        ]
    return [
        OutboxDraft(
            municipality_id,
            base + (f":{n + 1}" if n else ""),
            channel,
            recipient.phone,
            part,
            recipient.resident_id,
            broadcast_id,
            private=private,
        )
        for n, part in enumerate(split_for_sms(body))
    ]


async def enqueue(repos: Repos, drafts: Sequence[OutboxDraft], *, now: datetime) -> int:
    """Queue the drafts whose dedupe key is new; return how many were new."""
    return await repos.outbox.enqueue(drafts, now=iso(now))
