"""Provider delivery reports move an outbox row forward, never back."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.clock import iso
from bot.delivery.twilio_sender import UNSUBSCRIBED
from storage.outbox import STATUS_RANK
from storage.repos import Repos

log = logging.getLogger(__name__)

#: Twilio's message statuses → the outbox's
TWILIO_STATUS = {
    "accepted": "sent",
    "scheduled": "sent",
    "queued": "sent",
    "sending": "sent",
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "failed",
}


async def apply_sms_status(
    repos: Repos, sid: str, provider_status: str, error_code: str | None, *, now: datetime
) -> bool:
    """Apply a status callback; False when it is unknown, stale or out of order."""
    status = TWILIO_STATUS.get(provider_status)
    message = await repos.outbox.by_provider_id("sms", sid)
    if status is None or message is None:
        log.info("status %r for unknown SMS %s ignored", provider_status, sid)
        return False
    if STATUS_RANK[status] <= STATUS_RANK[message.status]:
        return False
    error = f"twilio {error_code}" if error_code else None
    await repos.outbox.set_status(message.id, status, error, now=iso(now))
    if error_code == str(UNSUBSCRIBED) and message.resident_id is not None:
        await repos.residents.set_opted_out(message.resident_id, True, now=iso(now))
    return True
