"""What the seed report has beyond the budget: the initiative groups, the monitoring
group's acts on the excavator, and the service rating of 100 residents averaging 3.6.

The report names the groups and the problems each took, the four things the monitoring
group checked on the excavator, and the rating's size and average; the dates, the
services rated and how the 100 answers spread are synthetic (fixed, the same in every
demo database).
"""

from __future__ import annotations

import random

from storage.models import Municipality, Texts
from storage.repos import Repos

#: group -> the 2012 priorities it took (their numbers)
GROUPS = (
    (Texts("Kelechek", {"ky": "Келечек", "ru": "Келечек", "en": "Kelechek"}), (1, 2)),
    (Texts("Umut", {"ky": "Умут", "ru": "Умут", "en": "Umut"}), (3, 4, 5)),
    (Texts("Aikyn", {"ky": "Айкын", "ru": "Айкын", "en": "Aikyn"}), (6,)),
)
#: the acts a monitor wrote on the excavator: (kind, day, text)
EXCAVATOR_ACTS = (
    ("tender", "2014-05-12", "Тендер ачык өттү: 3 сунуш келди, эң арзан сунуш тандалды"),
    ("purchase", "2014-06-20", "Экскаватор 2 500 000 сомго сатып алынды, документтери туура"),
    ("handover", "2014-07-01", "Экскаватор айыл өкмөтүнүн балансына өткөрүлдү"),
    ("use", "2014-09-15", "Иш графиги: жолдорду жана арык тармагын оңдоо, график сакталууда"),
)
ACT_AUTHOR = "+996700000025"  # a community leader of the monitoring group
RATING_ROUND = Texts(
    "Service evaluation 2015",
    {"ky": "Кызматтарды баалоо 2015", "ru": "Оценка услуг 2015", "en": "Service evaluation 2015"},
)
#: service -> the sum of its 100 scores (averages 3.9, 3.7, 3.5, 3.3: together 3.6)
RATED_SERVICES = (
    (Texts("Schools", {"ky": "Мектептер", "ru": "Школы", "en": "Schools"}), 390),
    (Texts("Health posts", {"ky": "ФАПтар", "ru": "ФАПы", "en": "Health posts"}), 370),
    (Texts("Street lighting", {"ky": "Көчө жарыгы", "ru": "Уличное освещение",
                               "en": "Street lighting"}), 350),
    (Texts("Roads", {"ky": "Жолдор", "ru": "Дороги", "en": "Roads"}), 330),
)  # fmt: skip
RATERS = 100
RATING_OPENED_AT = "2015-04-01T04:00:00.000+00:00"
RATED_AT = "2015-04-15T04:00:00.000+00:00"


def scores(total: int, rng: random.Random) -> list[int]:
    """``RATERS`` scores of 1..5 adding up to ``total``, spread a little."""
    base, extra = divmod(total, RATERS)
    spread = [base + 1] * extra + [base] * (RATERS - extra)
    for _ in range(RATERS // 2):
        up, down = rng.randrange(RATERS), rng.randrange(RATERS)
        if up != down and spread[up] < 5 and spread[down] > 1:
            spread[up] += 1
            spread[down] -= 1
    rng.shuffle(spread)
    return spread


async def ensure_demo_groups(repos: Repos, municipality: Municipality) -> bool:
    """Record the groups, acts and rating once (after the budget); True when created now."""
    if await repos.problems.groups(municipality.id):
        return False
    excavator = await repos.budget.project_by_code(municipality.id, "EXCAVATOR")
    assert excavator is not None, "the demo budget comes first"
    residents = await repos.residents.by_phones(municipality.id)
    rng = random.Random(2015_3_6)
    async with repos.db.transaction():
        for name, problems in GROUPS:
            await repos.problems.add_group(municipality.id, name, list(problems))
        for kind, day, body in EXCAVATOR_ACTS:
            await repos.acts.add(
                municipality_id=municipality.id, project_id=excavator.id,
                author_id=residents[ACT_AUTHOR].id, kind=kind, body=body, photos=(),
                now=f"{day}T05:00:00.000+00:00",
            )  # fmt: skip
        round_id = await repos.ratings.open_round(
            municipality.id, RATING_ROUND, [s for s, _ in RATED_SERVICES], now=RATING_OPENED_AT
        )
        adults = sorted(
            (r for r in residents.values() if r.birth_year and r.birth_year <= 1997),
            key=lambda r: r.id,
        )
        raters = rng.sample(adults, RATERS)
        services = await repos.ratings.services(round_id)
        for service, (_, total) in zip(services, RATED_SERVICES, strict=True):
            for rater, score in zip(raters, scores(total, rng), strict=True):
                await repos.ratings.rate(
                    service.id, rater.id, rater.village_id, score, now=RATED_AT
                )
        await repos.ratings.close_round(round_id, now=RATED_AT)
    return True
