"""What a failed delivery means for the resident.

A resident who blocked the bot on Telegram is marked unreachable there and the
message falls back to SMS to their phone; an SMS recipient who unsubscribed at the
carrier (Twilio error 21610) is opted out of broadcasts.
"""

from __future__ import annotations

import html
import logging
import re
from datetime import datetime

from bot.core.clock import iso
from bot.core.rendering.sms import split_for_sms
from bot.outbox.channel import PermanentFailure
from storage.models import OutboxDraft, OutboxMessage
from storage.repos import Repos

log = logging.getLogger(__name__)


async def after_permanent_failure(
    repos: Repos, message: OutboxMessage, failure: PermanentFailure, *, now: datetime
) -> None:
    if message.resident_id is None:
        return
    if failure.unsubscribed:
        await repos.residents.set_opted_out(message.resident_id, True, now=iso(now))
        log.info("resident %s unsubscribed from SMS: opted out", message.resident_id)
    elif failure.blocked and message.channel == "telegram":
        await repos.residents.set_telegram_blocked(message.resident_id, True, now=iso(now))
        resident = await repos.residents.by_id(message.resident_id)
        if resident is None:
            return
        log.info("resident %s blocked the bot: falling back to SMS", message.resident_id)
        await repos.outbox.enqueue(
            [
                OutboxDraft(
                    municipality_id=message.municipality_id,
                    dedupe_key=f"{message.dedupe_key}:sms-fallback:{n}",
                    channel="sms",
                    address=resident.phone,
                    body=part,
                    resident_id=resident.id,
                    broadcast_id=message.broadcast_id,
                )
                for n, part in enumerate(split_for_sms(plain_text(message.body)))
            ],
            now=iso(now),
        )


def plain_text(text: str) -> str:
    """Telegram HTML → the plain text an SMS can carry."""
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()
