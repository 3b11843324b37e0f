"""The seed report's five public budget hearings, with their real counts, and its other
meetings (PRA sessions, village assemblies, trainings, working meetings).

The report counted participants, women and deputies at each hearing (shared/DOMAIN.md);
the demo records that many people at the door — real demo residents, deputies among
them — so that ``civic-bot hearing export`` reproduces the report's table.

Of its other meetings the report gives only the totals of 2012–2015: "26 events: 8 PRA
sessions, 5 hearings, 4 assemblies, 7 trainings, 3 working meetings; 1,284 participants,
388 women, 79 deputies". The per-kind counts add up to 27, not 26; the demo follows them
and the totals (``SEED_MEETINGS`` holds 22 meetings with 635 participants, 134 women and
52 deputies, the totals less the five hearings). How they spread over the years and the
figures of each are the demo's own.
"""

from __future__ import annotations

import random
from datetime import datetime, time
from zoneinfo import ZoneInfo

from bot.core.clock import iso
from bot.core.services.voting import age_group
from storage.models import Municipality, Resident
from storage.repos import Repos

#: (date, kind, participants, women, deputies or None where the report has "-")
SEED_HEARINGS = (
    ("2013-01-26", "execution", 111, 65, 7),
    ("2014-03-01", "execution", 103, 21, 5),
    ("2015-02-20", "execution", 200, 84, 11),
    ("2013-06-28", "formation", 122, 56, 4),
    ("2014-06-13", "formation", 113, 28, None),
)
#: (date, meeting, PRA age group, participants, women, deputies): the report's other
#: events of 2012–2015; its focus groups are not among them (it leaves them out of the 26)
SEED_MEETINGS = (
    ("2012-03-05", "pra", "18-35", 25, 6, 1),
    ("2012-03-06", "pra", "36-55", 24, 5, 1),
    ("2012-03-07", "pra", "55+", 22, 5, 1),
    ("2012-03-12", "pra", "18-35", 21, 4, 1),
    ("2012-04-14", "assembly", None, 80, 15, 8),
    ("2012-05-18", "training", None, 10, 2, 1),
    ("2013-02-15", "training", None, 15, 4, 1),
    ("2013-04-20", "assembly", None, 55, 10, 6),
    ("2013-05-22", "working", None, 18, 4, 3),
    ("2013-10-11", "training", None, 14, 4, 1),
    ("2014-02-14", "training", None, 13, 3, 1),
    ("2014-04-19", "assembly", None, 50, 9, 5),
    ("2014-05-23", "working", None, 15, 3, 3),
    ("2014-10-10", "training", None, 12, 3, 1),
    ("2015-01-12", "pra", "18-35", 24, 6, 1),
    ("2015-01-13", "pra", "36-55", 23, 5, 1),
    ("2015-01-14", "pra", "55+", 21, 4, 1),
    ("2015-01-19", "pra", "36-55", 20, 4, 1),
    ("2015-01-31", "assembly", None, 137, 30, 9),
    ("2015-02-13", "training", None, 12, 3, 1),
    ("2015-03-13", "training", None, 11, 2, 1),
    ("2015-04-24", "working", None, 13, 3, 3),
)
PLACE = "Ак-Чий айылдык клубу"
OFFICE = "Ак-Чий айыл өкмөтү"
STARTS = time(10, 0)
TZ = ZoneInfo("Asia/Bishkek")


async def ensure_seed_hearings(
    repos: Repos, municipality: Municipality, deputy_phones: list[str], *, now: datetime
) -> bool:
    """Record the five hearings once; True when they were created now.

    ``deputy_phones``: the council's deputies, the two women first.
    """
    if await repos.hearings.all(municipality.id):
        return False
    residents = await repos.residents.by_phones(municipality.id)
    deputies = [residents[p] for p in deputy_phones]
    rng = random.Random(2015)
    async with repos.db.transaction():
        for day, kind, participants, women, deputies_present in SEED_HEARINGS:
            starts = datetime.combine(datetime.fromisoformat(day).date(), STARTS, tzinfo=TZ)
            hearing_id = await repos.hearings.create(
                municipality_id=municipality.id,
                kind=kind,
                starts_at=iso(starts),
                place=PLACE,
                village_id=None,
                agenda="",
                now=iso(now),
                status="published",
                deputies_counted=deputies_present is not None,
            )
            await _attend(
                repos, hearing_id, starts, residents, deputies, rng,
                participants=participants, women=women, deputies_present=deputies_present,
            )  # fmt: skip
    return True


async def ensure_seed_meetings(
    repos: Repos, municipality: Municipality, deputy_phones: list[str], *, now: datetime
) -> bool:
    """Record the report's other meetings once (none of them yet); True when created now.

    A PRA session's people are of its age group; ``deputy_phones`` as for the hearings.
    """
    if any(h.meeting != "hearing" for h in await repos.hearings.all(municipality.id)):
        return False
    residents = await repos.residents.by_phones(municipality.id)
    deputies = [residents[p] for p in deputy_phones]
    rng = random.Random(2012)
    async with repos.db.transaction():
        for day, meeting, group, participants, women, deputies_present in SEED_MEETINGS:
            starts = datetime.combine(datetime.fromisoformat(day).date(), STARTS, tzinfo=TZ)
            hearing_id = await repos.hearings.create(
                municipality_id=municipality.id,
                kind="formation",
                starts_at=iso(starts),
                place=OFFICE if meeting in ("training", "working") else PLACE,
                village_id=None,
                agenda="",
                now=iso(now),
                status="published",
                meeting=meeting,
                age_group=group,
            )
            of_age = {
                p: r for p, r in residents.items()
                if group is None or age_group(r.birth_year, starts.year) == group
            }  # fmt: skip
            await _attend(
                repos, hearing_id, starts, of_age, [d for d in deputies if d in of_age.values()],
                rng, participants=participants, women=women, deputies_present=deputies_present,
            )  # fmt: skip
    return True


async def _attend(
    repos: Repos,
    hearing_id: int,
    starts: datetime,
    residents: dict[str, Resident],
    deputies: list[Resident],
    rng: random.Random,
    *,
    participants: int,
    women: int,
    deputies_present: int | None,
) -> None:
    """Check in ``participants`` adults of ``residents``, ``women`` of them women and
    ``deputies_present`` deputies (all of ``deputies``, or fewer: the first men)."""
    count = deputies_present or 0
    present = deputies if count == len(deputies) else [d for d in deputies if d.gender == "m"]
    present = present[:count]
    adults = [
        r for r in residents.values()
        if r not in deputies and r.birth_year and starts.year - r.birth_year >= 18
    ]  # fmt: skip
    other_women = women - sum(1 for d in present if d.gender == "f")
    others = participants - len(present) - other_women
    chosen = (
        present
        + rng.sample([r for r in adults if r.gender == "f"], other_women)
        + rng.sample([r for r in adults if r.gender == "m"], others)
    )
    for resident in chosen:
        await repos.hearings.check_in(
            hearing_id,
            resident_id=resident.id,
            gender=resident.gender,
            role="deputy" if resident in present else "resident",
            village_id=resident.village_id,
            birth_year=resident.birth_year,
            now=iso(starts),
        )
