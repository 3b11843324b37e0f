"""The staff console's first page: what is on today and ahead."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from bot.core.clock import iso
from storage.models import Hearing, Municipality, Poll
from storage.repos import Repos


@dataclass(frozen=True)
class Today:
    #: hearings from the start of today on (municipality's time zone), not cancelled
    hearings: list[Hearing]
    open_polls: list[Poll]
    #: messages waiting for their provider, by channel
    backlog: dict[str, int]


async def today(repos: Repos, municipality: Municipality, *, now: datetime, tz: ZoneInfo) -> Today:
    midnight = datetime.combine(now.astimezone(tz).date(), time(0), tzinfo=tz)
    hearings = [
        h
        for h in await repos.hearings.all(municipality.id)
        if h.status != "cancelled" and h.starts_at >= iso(midnight)
    ]
    return Today(
        hearings=hearings,
        open_polls=await repos.polls.open_at(municipality.id, iso(now)),
        backlog=await repos.outbox.backlog(municipality.id),
    )
