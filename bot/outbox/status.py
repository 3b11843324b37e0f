"""Provider delivery reports move an outbox row forward, never back."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.core.clock import iso
from storage.outbox import STATUS_RANK
from storage.repos import Repos

log = logging.getLogger(__name__)


async def apply_status(
    repos: Repos,
    channel: str,
    provider_id: str,
    status: str | None,
    error: str | None,
    *,
    unsubscribed: bool,
    now: datetime,
) -> bool:
    """Apply a delivery report, already mapped to the outbox's ``status`` by its channel
    (None: a status that says nothing); ``unsubscribed``: the recipient opted out, and
    gets no more broadcasts. False when it is unknown, stale or out of order."""
    message = await repos.outbox.by_provider_id(channel, provider_id)
    if status is None or message is None:
        log.info("status %r for unknown %s message %s ignored", status, channel, provider_id)
        return False
    if STATUS_RANK[status] <= STATUS_RANK[message.status]:
        return False
    await repos.outbox.set_status(message.id, status, error, now=iso(now))
    if unsubscribed and message.resident_id is not None:
        await repos.residents.set_opted_out(message.resident_id, True, now=iso(now))
    return True
