"""The demo municipality, modelled on the seed report (``shared/DOMAIN.md``).

Three villages, 648 households, 3,728 residents with synthetic Kyrgyz names,
12 staff (4 women), 11 deputies (2 women), a 7-person monitoring group
(3 women, 3 deputies, 4 community leaders), the report's five budget hearings and its
other meetings (PRA sessions, assemblies, trainings, working meetings), its
2012 priorities, projects and joint action plan, its initiative groups, the monitoring
group's acts on the excavator and the rating of services by 100 residents.
Generated from a fixed seed, so every demo database is the same; created once per
database.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from bot.core.clock import iso
from bot.core.services.demo_budget import ensure_demo_budget
from bot.core.services.demo_groups import ensure_demo_groups
from bot.core.services.demo_hearings import ensure_seed_hearings, ensure_seed_meetings
from bot.core.services.municipalities import create_municipality
from storage.models import Municipality, Texts
from storage.repos import Repos

SLUG = "ak-chiy"
NAME = "Ak-Chiy ayil aimak"
#: village -> (household code prefix, households)
VILLAGES = {"Ak-Chiy": ("AC", 280), "Kachybek": ("KB", 190), "Sovetskoye": ("SV", 178)}
#: the villages' names in Kyrgyz and Russian (the keys above are the English, Latin ones)
VILLAGE_NAMES = {
    "Ak-Chiy": Texts("Ak-Chiy", {"ky": "Ак-Чий", "ru": "Ак-Чий", "en": "Ak-Chiy"}),
    "Kachybek": Texts("Kachybek", {"ky": "Качыбек", "ru": "Качыбек", "en": "Kachybek"}),
    "Sovetskoye": Texts("Sovetskoye", {"ky": "Советское", "ru": "Советское", "en": "Sovetskoye"}),
}
RESIDENTS = 3728
FIRST_PHONE = 996700000001

RESIDENT_PHONE = "+996700000001"
ADMIN_PHONE = "+996700000002"
STAFF_PHONES = [f"+9967000000{n:02d}" for n in range(2, 14)]  # 12; the first is also admin
DEPUTY_PHONES = [f"+9967000000{n:02d}" for n in range(14, 25)]  # 11
MONITOR_PHONES = [  # 3 deputies and 4 community leaders
    "+996700000014",
    "+996700000016",
    "+996700000017",
    "+996700000025",
    "+996700000026",
    "+996700000027",
    "+996700000028",
]
WOMEN = {
    *STAFF_PHONES[1:5],  # 4 of 12 staff
    *DEPUTY_PHONES[:2],  # 2 of 11 deputies
    "+996700000025",
    "+996700000026",  # with deputy 14: 3 of 7 monitors
}
ROLE_HOLDERS = set(STAFF_PHONES) | set(DEPUTY_PHONES) | set(MONITOR_PHONES)
UNKNOWN_PHONE = "+996700999999"

_MALE = [
    "Айбек",
    "Азамат",
    "Бакыт",
    "Бекжан",
    "Болот",
    "Данияр",
    "Жаныбек",
    "Жээнбек",
    "Замир",
    "Исмаил",
    "Канат",
    "Кубан",
    "Курманбек",
    "Мирлан",
    "Нурлан",
    "Нурбек",
    "Руслан",
    "Самат",
    "Талант",
    "Тилек",
    "Улан",
    "Эрлан",
    "Эрмек",
    "Асан",
]
_FEMALE = [
    "Айгүл",
    "Айжан",
    "Айпери",
    "Асель",
    "Бермет",
    "Гүлнара",
    "Динара",
    "Жазгүл",
    "Жылдыз",
    "Зарина",
    "Калыйча",
    "Мээрим",
    "Назгүл",
    "Нургүл",
    "Айзада",
    "Салтанат",
    "Чолпон",
    "Элмира",
    "Айнура",
    "Гүлмира",
    "Бүбүсара",
    "Уулкан",
]
_FAMILY_ROOTS = [
    "Абдыкадыр",
    "Асанбек",
    "Бакиров",
    "Жумабек",
    "Кадыр",
    "Мамбет",
    "Осмон",
    "Сатыбалды",
    "Токтогул",
    "Турдубек",
    "Үсөн",
    "Шаршен",
    "Эсенкул",
    "Орозбек",
    "Кыдыралы",
    "Абылкасым",
    "Чыңгыз",
    "Тынай",
    "Ыбырай",
    "Бообек",
]


@dataclass(frozen=True)
class DemoPerson:
    phone: str
    name: str
    gender: str
    birth_year: int
    household: str
    language: str


def _surname(root: str, gender: str) -> str:
    base = root.removesuffix("ов")
    return f"{base}ов" if gender == "m" else f"{base}ова"


def generate() -> tuple[list[tuple[str, str, str]], list[DemoPerson]]:
    """Households ``(code, village, address)`` and residents, the same on every call."""
    rng = random.Random(2012)
    households: list[tuple[str, str, str]] = []
    for village, (prefix, count) in VILLAGES.items():
        streets = [f"{rng.choice(_FAMILY_ROOTS)} көчөсү" for _ in range(6)]
        for n in range(1, count + 1):
            households.append((f"{prefix}-{n:03d}", village, f"{rng.choice(streets)}, {n}"))
    sizes = [1] * len(households)
    for index in rng.choices(range(len(households)), k=RESIDENTS - len(households)):
        sizes[index] += 1
    families = [rng.choice(_FAMILY_ROOTS) for _ in households]
    people: list[DemoPerson] = []
    number = FIRST_PHONE
    for (code, village, _), size, family in zip(households, sizes, families, strict=True):
        for member in range(size):
            phone = f"+{number}"
            number += 1
            gender = rng.choice("fm")
            if phone in ROLE_HOLDERS:
                gender = "f" if phone in WOMEN else "m"
            first = rng.choice(_FEMALE if gender == "f" else _MALE)
            head_or_official = member == 0 or phone in ROLE_HOLDERS
            born = rng.randint(1950, 1990) if head_or_official else rng.randint(1945, 2008)
            language = "ru" if village == "Sovetskoye" and rng.random() < 0.3 else "ky"
            if phone == RESIDENT_PHONE:
                language = "ky"
            people.append(
                DemoPerson(
                    phone, f"{first} {_surname(family, gender)}", gender, born, code, language
                )
            )
    return households, people


async def ensure_demo(repos: Repos, *, now: datetime) -> tuple[Municipality, bool]:
    """Create the demo municipality unless it exists; True when it was created now."""
    existing = await repos.municipalities.by_slug(SLUG)
    if existing is not None:
        await ensure_seed_hearings(repos, existing, DEPUTY_PHONES, now=now)
        await ensure_seed_meetings(repos, existing, DEPUTY_PHONES, now=now)
        await ensure_demo_budget(repos, existing, now=now)
        await ensure_demo_groups(repos, existing)
        return existing, False
    households, people = generate()
    async with repos.db.transaction():
        municipality = await create_municipality(
            repos,
            slug=SLUG,
            name=NAME,
            villages=list(VILLAGE_NAMES.values()),
            default_language="ky",
            now=now,
        )
        village_ids = {v.name: v.id for v in await repos.municipalities.villages(municipality.id)}
        await repos.households.insert_many(
            municipality.id,
            [(code, village_ids[village], address) for code, village, address in households],
        )
        by_code = await repos.households.by_code(municipality.id)
        await repos.residents.insert_many(
            municipality.id,
            [
                (
                    p.phone,
                    p.name,
                    p.gender,
                    p.birth_year,
                    by_code[p.household].village_id,
                    by_code[p.household].id,
                    p.language,
                )
                for p in people
            ],
            now=iso(now),
        )
        ids = await repos.residents.by_phones(municipality.id)
        grants = (
            [(phone, "staff") for phone in STAFF_PHONES]
            + [(ADMIN_PHONE, "admin")]
            + [(phone, "deputy") for phone in DEPUTY_PHONES]
            + [(phone, "monitor") for phone in MONITOR_PHONES]
        )
        for phone, role in grants:
            await repos.roles.grant(
                municipality_id=municipality.id, resident_id=ids[phone].id, role=role, now=iso(now)
            )
        await ensure_seed_hearings(repos, municipality, DEPUTY_PHONES, now=now)
        await ensure_seed_meetings(repos, municipality, DEPUTY_PHONES, now=now)
        await ensure_demo_budget(repos, municipality, now=now)
        await ensure_demo_groups(repos, municipality)
    return municipality, True
