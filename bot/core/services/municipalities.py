"""Creating municipalities and choosing the one a command is about."""

from __future__ import annotations

import re
from datetime import datetime

from bot.core.clock import iso
from bot.core.languages import LANGUAGES, spellings
from bot.core.services.errors import ServiceError
from storage.models import Municipality, Village
from storage.repos import Repos

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


async def create_municipality(
    repos: Repos,
    *,
    slug: str,
    name: str,
    villages: list[str],
    default_language: str,
    now: datetime,
) -> Municipality:
    if not _SLUG.match(slug):
        raise ServiceError(f"slug must be 2-63 lower-case letters, digits or '-', not {slug!r}")
    if default_language not in LANGUAGES:
        raise ServiceError(f"language must be one of {', '.join(LANGUAGES)}")
    names = [v.strip() for v in villages if v.strip()]
    if not names:
        raise ServiceError("a municipality needs at least one village")
    if len({n.casefold() for n in names}) != len(names):
        raise ServiceError("village names must be different")
    if await repos.municipalities.by_slug(slug):
        raise ServiceError(f"municipality {slug!r} already exists")
    async with repos.db.transaction():
        municipality_id = await repos.municipalities.create(
            slug=slug, name=name.strip() or slug, default_language=default_language, now=iso(now)
        )
        for village in names:
            await repos.municipalities.add_village(municipality_id=municipality_id, name=village)
    created = await repos.municipalities.by_id(municipality_id)
    assert created is not None
    return created


async def choose_municipality(repos: Repos, slug: str | None) -> Municipality:
    """The municipality named by ``slug``, or the only one when none is named."""
    if slug:
        found = await repos.municipalities.by_slug(slug)
        if found is None:
            raise ServiceError(f"no municipality {slug!r}")
        return found
    every = await repos.municipalities.all()
    if not every:
        raise ServiceError(
            "no municipality yet: create one with 'civic-bot municipality create'"
            " or load the demo with 'civic-bot init --demo'"
        )
    if len(every) > 1:
        slugs = ", ".join(m.slug for m in every)
        raise ServiceError(
            f"several municipalities: pass --municipality or set MUNICIPALITY (one of: {slugs})"
        )
    return every[0]


async def village_id(repos: Repos, municipality: Municipality, village: str | None) -> int | None:
    """The id of ``municipality``'s village named ``village`` (any case, any of its
    languages); None for no village (the whole municipality)."""
    if not village:
        return None
    for candidate in await repos.municipalities.villages(municipality.id):
        if village.casefold() in spellings(candidate.name):
            return candidate.id
    raise ServiceError(f"unknown village {village!r}")


async def villages(repos: Repos, municipality: Municipality) -> list[Village]:
    return await repos.municipalities.villages(municipality.id)
