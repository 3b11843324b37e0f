"""The demo municipality with what its public pages show beyond the seed: a poll its
residents vote in (a village too small to show), two rounds of service ratings and a
monitoring act with a photo; for tests/test_public_pages.py, the browser test and
bench/web.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.services import demo_data, monitoring, ratings, voting
from bot.core.services.ballot_text import parse_ballot_text
from bot.core.services.polls import OptionSpec, create_poll
from storage.models import Municipality, Poll, Resident
from storage.repos import Repos

#: voters per village in the poll: Sovetskoye's 2 are under SMALL_GROUP_MIN (5), and with
#: them Kachybek's 6 are hidden too (their sum would give Sovetskoye away)
VOTERS = {"Ak-Chiy": 7, "Kachybek": 6, "Sovetskoye": 2}
#: raters per village in each round: Sovetskoye's 3 are too few to show
RATERS = {"Ak-Chiy": 6, "Kachybek": 5, "Sovetskoye": 3}
#: the act's author: a community leader of the monitoring group (not a deputy)
ACT_AUTHOR = demo_data.MONITOR_PHONES[3]
ACT_TEXT = "The road to Kachybek is handed over: 4 km of gravel, 7 bridges"


@dataclass(frozen=True)
class PublicData:
    poll: Poll
    voters: list[Resident]
    author: Resident


async def adults_by_village(
    repos: Repos, municipality: Municipality, now: datetime
) -> dict[str, list[Resident]]:
    villages = {v.id: v.name for v in await repos.municipalities.villages(municipality.id)}
    found: dict[str, list[Resident]] = {}
    for resident in (await repos.residents.by_phones(municipality.id)).values():
        if resident.birth_year and now.year - resident.birth_year >= 20:
            found.setdefault(villages[resident.village_id], []).append(resident)
    return found


async def populate(repos: Repos, municipality: Municipality, *, now: datetime) -> PublicData:
    """A secret poll open from ``now`` for a week with its votes cast, two rating rounds
    and an act; the poll closes at ``now + 7 days``."""
    adults = await adults_by_village(repos, municipality, now)
    poll = await create_poll(
        repos, municipality, title="Which street first?", ballot_type="choose1",
        options=[OptionSpec("Lenin street"), OptionSpec("School street")],
        opens_at=now, closes_at=now + timedelta(days=7), now=now,
    )  # fmt: skip
    voters = []
    for village, count in VOTERS.items():
        for n, resident in enumerate(adults[village][100 : 100 + count]):
            ballot = parse_ballot_text(f"#{poll.id} {1 + n % 2}")
            await voting.cast(repos, municipality, resident, ballot, channel="sms", now=now)
            voters.append(resident)
    for round_name, score in (("2025", "3"), ("2026", "4")):
        await ratings.open_round(repos, municipality, round_name, ["Water", "Roads"], now=now)
        for village, count in RATERS.items():
            for resident in adults[village][200 : 200 + count]:
                await ratings.rate(repos, municipality, resident, "1", score, now=now)
                await ratings.rate(repos, municipality, resident, "2", "5", now=now)
    residents = await repos.residents.by_phones(municipality.id)
    author = residents[ACT_AUTHOR]
    roads = await repos.budget.project_by_code(municipality.id, "ROADS")
    assert roads is not None
    await monitoring.file_act(
        repos, municipality, author, roads.id, "handover", ACT_TEXT, now=now, photos=["ph-1"]
    )
    return PublicData(poll, voters, author)
