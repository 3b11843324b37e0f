"""Inbound messages, recorded once each (:mod:`storage.inbound`): what the handlers may
do with the record, through the services as everything else they do with storage."""

from __future__ import annotations

from datetime import datetime

from bot.core.clock import iso
from storage.inbound import AlreadyRecorded
from storage.repos import Repos

__all__ = ["AlreadyRecorded", "record_handled"]


async def record_handled(
    repos: Repos,
    *,
    municipality_id: int,
    channel: str,
    provider_id: str,
    now: datetime,
    resident_id: int | None,
    command: str | None,
    reply: str,
) -> None:
    """Inside the transaction that handled it: record an inbound message with its
    outcome; raise :class:`AlreadyRecorded` (the transaction must roll back) if it was
    handled before. A message recorded on arrival and not yet handled (a Telegram update
    the webhook recorded before feeding it) is this one: its record is completed."""
    await repos.inbound.record_handled(
        municipality_id=municipality_id,
        channel=channel,
        provider_id=provider_id,
        now=iso(now),
        resident_id=resident_id,
        command=command,
        reply=reply,
    )
