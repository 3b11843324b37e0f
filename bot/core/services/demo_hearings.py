"""The seed report's five public budget hearings, with their real counts.

The report counted participants, women and deputies at each hearing (shared/DOMAIN.md);
the demo records that many people at the door — real demo residents, deputies among
them — so that ``civic-bot hearing export`` reproduces the report's table.
"""

from __future__ import annotations

import random
from datetime import datetime, time
from zoneinfo import ZoneInfo

from bot.core.clock import iso
from storage.models import Municipality
from storage.repos import Repos

#: (date, kind, participants, women, deputies or None where the report has "-")
SEED_HEARINGS = (
    ("2013-01-26", "execution", 111, 65, 7),
    ("2014-03-01", "execution", 103, 21, 5),
    ("2015-02-20", "execution", 200, 84, 11),
    ("2013-06-28", "formation", 122, 56, 4),
    ("2014-06-13", "formation", 113, 28, None),
)
PLACE = "Ак-Чий айылдык клубу"
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
            # all 11 deputies include both women; fewer: the men
            count = deputies_present or 0
            present = deputies if count == len(deputies) else deputies[2 : 2 + count]
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
    return True
