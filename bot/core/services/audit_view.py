"""The audit trail as the staff console shows it: newest first, a page at a time, between
two local dates; who by name (staff members are named to staff; residents stay ids)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.clock import iso
from bot.core.services.errors import Refused
from storage.models import AuditEntry, Municipality
from storage.repos import Repos

PAGE = 50


@dataclass(frozen=True)
class AuditFilter:
    """The filter as typed: local dates ``YYYY-MM-DD`` (either may be empty), and the id
    the next page starts below."""

    since: str = ""
    until: str = ""
    before: str = ""


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    #: the staff members' names by resident id
    names: dict[int, str]
    #: where the next (older) page starts; None on the last page
    next_before: int | None


def _day(text: str) -> date | None:
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise Refused("bad_date") from None
    if len(text) != 10 or not 2000 <= day.year <= 2999:
        raise Refused("bad_date")
    return day


def _midnight(day: date, tz: ZoneInfo) -> str:
    return iso(datetime.combine(day, time(0), tzinfo=tz))


async def browse(
    repos: Repos, municipality: Municipality, wanted: AuditFilter, *, tz: ZoneInfo
) -> AuditPage:
    since, until = _day(wanted.since), _day(wanted.until)
    if since and until and until < since:
        raise Refused("dates_reversed")
    before = int(wanted.before) if wanted.before.isdigit() and len(wanted.before) < 10 else None
    entries = await repos.audit.page(
        municipality_id=municipality.id,
        since=_midnight(since, tz) if since else None,
        until=_midnight(until + timedelta(days=1), tz) if until else None,
        before_id=before,
        limit=PAGE + 1,
    )
    names = {}
    for actor in {e.actor_id for e in entries[:PAGE] if e.actor_id is not None}:
        resident = await repos.residents.by_id(actor)
        names[actor] = resident.name if resident else str(actor)
    more = len(entries) > PAGE
    return AuditPage(entries[:PAGE], names, entries[PAGE - 1].id if more else None)
