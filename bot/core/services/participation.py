"""The yearly participation report the seed opens with: how many events of each kind were
held in a year (or in every year: the seed's "26 events: 8 PRA sessions, 5 hearings...")
and how many people took part (women, deputies, by village and age group), from the
attendance counted at each event (:func:`bot.core.services.hearings.report`); a page of
the staff console and a CSV through the one CSV writer.

Events are the municipality's meetings of every kind (hearings, PRA sessions, focus
groups, assemblies, trainings, working meetings) that were not cancelled, by the year of
their local date. Deputies are summed over the events that counted them; an event that
did not (an old report's "–") is named in ``deputies_uncounted``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.rendering.spreadsheet import csv_text
from bot.core.services import hearings
from bot.core.services.errors import Refused
from bot.core.services.hearings import MEETINGS, Report
from storage.models import Hearing, Municipality
from storage.repos import Repos

COLUMNS = ["date", "meeting", "kind", "age_group", "place", "participants", "women", "deputies"]
#: the ``year`` that asks for every year at once
ALL_YEARS = "all"


@dataclass(frozen=True)
class YearReport:
    #: None: every year
    year: int | None
    #: every year with an event, latest first (the page's choice)
    years: list[int]
    events: list[Report]
    #: events per kind of meeting, in the order of ``MEETINGS``, kinds held only
    by_meeting: dict[str, int]
    #: the hearings among them by budget stage (formation, execution)
    by_kind: dict[str, int]
    participants: int
    women: int
    deputies: int
    #: events where nobody counted the deputies
    deputies_uncounted: int
    by_village: dict[str, int]
    by_age_group: dict[str, int]


def _year(hearing: Hearing, tz: ZoneInfo) -> int:
    return datetime.fromisoformat(hearing.starts_at).astimezone(tz).year


async def year_report(
    repos: Repos, municipality: Municipality, year: str, *, tz: ZoneInfo, now: datetime
) -> YearReport:
    """The report of ``year`` (digits; ``all``: every year; empty: the latest year with an
    event, else this year)."""
    held = [h for h in await repos.hearings.all(municipality.id) if h.status != "cancelled"]
    years = sorted({_year(h, tz) for h in held}, reverse=True)
    chosen: int | None
    if not year:
        chosen = years[0] if years else now.astimezone(tz).year
    elif year == ALL_YEARS:
        chosen = None
    elif year.isascii() and year.isdecimal() and len(year) == 4:
        chosen = int(year)
    else:
        raise Refused("bad_year", year=year)
    events = [
        await hearings.report(repos, h) for h in held if chosen in (None, _year(h, tz))
    ]  # fmt: skip
    meetings = Counter(e.hearing.meeting for e in events)
    villages: Counter[str] = Counter()
    ages: Counter[str] = Counter()
    for event in events:
        villages.update(event.by_village)
        ages.update(event.by_age_group)
    return YearReport(
        year=chosen,
        years=years,
        events=events,
        by_meeting={m: meetings[m] for m in MEETINGS if meetings[m]},
        by_kind=dict(Counter(e.hearing.kind for e in events if e.hearing.meeting == "hearing")),
        participants=sum(e.participants for e in events),
        women=sum(e.women for e in events),
        deputies=sum(e.deputies or 0 for e in events),
        deputies_uncounted=sum(1 for e in events if e.deputies is None),
        by_village=dict(sorted(villages.items())),
        by_age_group=dict(ages),
    )


def year_csv(report: YearReport, tz: ZoneInfo) -> str:
    """One row per event (a hearing's budget stage; a PRA session's age group), then the
    total: its events by kind of meeting (deputies "–" where nobody counted them)."""
    rows: list[list[object]] = [
        [
            f"{datetime.fromisoformat(e.hearing.starts_at).astimezone(tz):%Y-%m-%d}",
            e.hearing.meeting, e.hearing.kind if e.hearing.meeting == "hearing" else "",
            e.hearing.age_group or "", e.hearing.place, e.participants, e.women,
            "–" if e.deputies is None else e.deputies,
        ]
        for e in report.events
    ]  # fmt: skip
    events = f"{len(report.events)} events" + "".join(
        f"; {meeting} {count}" for meeting, count in report.by_meeting.items()
    )
    rows.append([year_name(report), events, "", "", "", report.participants, report.women,
                 report.deputies])  # fmt: skip
    return csv_text(COLUMNS, rows)


def year_name(report: YearReport) -> str:
    """The year as a link or file names it: its digits, or ``all``."""
    return ALL_YEARS if report.year is None else str(report.year)
