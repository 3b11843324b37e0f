"""Check-in at a hearing's door, as the staff console shows it: find a person, check them
in (the rules are :func:`bot.core.services.attendance.check_in`'s: inside the check-in window
only), count walk-ins, and the live figures of the seed's attendance table (participants,
women, deputies, by village).

A refusal at the door is a :class:`Refused` with the reason the page explains: cancelled,
not_yet or closed (``details["at"]``: when the window opens or closed), unknown_person,
gender, village, name_too_long."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from bot.core.languages import spellings
from bot.core.services import attendance, hearings
from bot.core.services.attendance import CheckIn, CheckInWindow
from bot.core.services.errors import Refused
from storage.console import DoorMatch
from storage.models import Hearing, Municipality
from storage.repos import Repos

#: the most matches a search shows: a door needs a few, not the register
SEARCH_LIMIT = 20
MAX_QUERY = 100
MAX_NAME = 100


def _door_open(hearing: Hearing, window: CheckInWindow, now: datetime) -> None:
    """The console counts people inside the window only; a later correction needs a
    reason, given on the command line (``civic-bot hearing checkin --by --reason``)."""
    if hearing.status == "cancelled":
        raise Refused("cancelled")
    opens, closes = window.bounds(hearing)
    if now < opens:
        raise Refused("not_yet", at=opens)
    if now > closes:
        raise Refused("closed", at=closes)


@dataclass(frozen=True)
class VillageRow:
    village: str
    participants: int
    women: int
    deputies: int


@dataclass(frozen=True)
class Figures:
    participants: int
    women: int
    deputies: int
    by_village: list[VillageRow]


def _spellings(query: str) -> list[str]:
    """The ways a typed name may be written in the register (as typed, lower case, Title
    Case): case-insensitive matching of Cyrillic names on SQLite as on PostgreSQL."""
    return list(dict.fromkeys([query, query.lower(), query.title(), query.capitalize()]))


async def search(
    repos: Repos, municipality: Municipality, hearing: Hearing, query: str
) -> list[DoorMatch]:
    """People matching a name, part of a phone number or an RSVP code."""
    query = " ".join(query.split())[:MAX_QUERY]
    if not query:
        return []
    digits = re.sub(r"\D", "", query)
    numeric = query.replace(" ", "").lstrip("+").isdigit()
    names = [] if numeric else _spellings(query)
    return await repos.console.door_search(
        municipality_id=municipality.id,
        hearing_id=hearing.id,
        names=names,
        # a number typed the local way (0555 …) is stored +996555…
        phone_digits=digits.lstrip("0"),
        code=digits,
        limit=SEARCH_LIMIT,
    )


async def check_in_resident(
    repos: Repos,
    municipality: Municipality,
    hearing: Hearing,
    resident_id: int,
    *,
    now: datetime,
    window: CheckInWindow,
) -> CheckIn:
    """One tap: the resident found by :func:`search` is counted (once, however often)."""
    _door_open(hearing, window, now)
    resident = await repos.residents.by_id(resident_id)
    if resident is None or resident.municipality_id != municipality.id:
        raise Refused("unknown_person")
    return await attendance.check_in(
        repos, municipality, hearing, now=now, window=window, phone=resident.phone
    )


async def walk_in(
    repos: Repos,
    municipality: Municipality,
    hearing: Hearing,
    *,
    name: str,
    gender: str,
    village: str,
    deputy: bool,
    now: datetime,
    window: CheckInWindow,
) -> CheckIn:
    """Someone outside the register: counted by gender, village and role. The name is
    shown back to the person at the door and not stored (the attendance keeps figures)."""
    _door_open(hearing, window, now)
    if len(name.strip()) > MAX_NAME:
        raise Refused("name_too_long")
    if gender not in ("f", "m"):
        raise Refused("gender")
    # the console's list shows each village in the staff member's language
    villages = {
        spelling: v.id
        for v in await repos.municipalities.villages(municipality.id)
        for spelling in spellings(v.name)
    }
    if village.casefold() not in villages:
        raise Refused("village")
    await attendance.check_in(
        repos,
        municipality,
        hearing,
        now=now,
        window=window,
        walk_in_gender=gender,
        walk_in_role="deputy" if deputy else "resident",
        walk_in_village_id=villages[village.casefold()],
    )
    return CheckIn(name.strip() or None, True)


async def figures(repos: Repos, hearing: Hearing) -> Figures:
    """Participants, women and deputies, in all and by village, as of now."""
    report = await hearings.report(repos, hearing)
    people: Counter[str] = Counter()
    women: Counter[str] = Counter()
    deputies: Counter[str] = Counter()
    for attendee in await repos.hearings.attendance(hearing.id):
        place = attendee.village or "?"
        people[place] += 1
        women[place] += attendee.gender == "f"
        deputies[place] += attendee.role == "deputy"
    rows = [VillageRow(v, people[v], women[v], deputies[v]) for v in sorted(people)]
    return Figures(report.participants, report.women, sum(deputies.values()), rows)
