"""The console's residents: search (by phone, or by a part of the name), view, correct
(audit-logged), roles (the same grant and revoke as ``civic-bot staff``).

Search: a phone in any usual form is found through the register's unique (municipality,
phone) index; a name is matched as typed and with each word capitalised (the register
writes names so; SQLite's case folding is ASCII-only, so Cyrillic case is handled here).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.clock import iso
from bot.core.phones import InvalidPhone, normalize_phone
from bot.core.services import audit, roles
from bot.core.services.audit import Actor
from bot.core.services.errors import Refused
from bot.core.services.register_import import GENDERS, MAX_NAME, OLDEST_BIRTH_YEAR
from storage.models import ROLES, Municipality, Resident, ResidentCard
from storage.repos import Repos

#: residents a search shows at most
MOST_FOUND = 50
#: the shortest part of a name searched for
SHORTEST = 2


@dataclass(frozen=True)
class Correction:
    name: str
    gender: str
    birth_year: str


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def search(repos: Repos, municipality: Municipality, query: str) -> list[Resident]:
    """At most :data:`MOST_FOUND` residents; a query shorter than :data:`SHORTEST` finds
    nobody (:class:`Refused` ``short``)."""
    query = " ".join(query.split())
    if len(query) < SHORTEST:
        raise Refused("short")
    if any(ch.isdigit() for ch in query) and not any(ch.isalpha() for ch in query):
        try:
            phone = normalize_phone(query)
        except InvalidPhone:
            raise Refused("bad_phone") from None
        found = await repos.residents.by_phone(municipality.id, phone)
        return [found] if found else []
    patterns = {_like(query), _like(query.title())}
    return await repos.residents.search(municipality.id, sorted(patterns), limit=MOST_FOUND)


async def card(repos: Repos, municipality: Municipality, resident_id: int) -> ResidentCard | None:
    resident = await repos.residents.by_id(resident_id)
    if resident is None or resident.municipality_id != municipality.id:
        return None
    return await repos.residents.card(resident_id)


async def correct(
    repos: Repos, resident: Resident, form: Correction, *, now: datetime, actor: Actor
) -> bool:
    """Correct the name, gender and birth year (the register import's rules); audit-logged
    with the fields changed (not their values). False when nothing changed."""
    name = form.name
    if not name or len(name) > MAX_NAME:
        raise Refused("bad_name")
    gender = GENDERS.get(form.gender.casefold())
    if gender is None:
        raise Refused("bad_gender")
    birth_year = None
    if form.birth_year:
        if not (form.birth_year.isascii() and form.birth_year.isdecimal()) or not (
            OLDEST_BIRTH_YEAR <= int(form.birth_year) <= now.year
        ):
            raise Refused("bad_birth_year")
        birth_year = int(form.birth_year)
    changed = [
        column
        for column, old, new in (
            ("name", resident.name, name),
            ("gender", resident.gender, gender),
            ("birth_year", resident.birth_year, birth_year),
        )
        if old != new
    ]
    if not changed:
        return False
    async with repos.db.transaction():
        await repos.residents.correct(
            resident.id, name=name, gender=gender, birth_year=birth_year, now=iso(now)
        )
        await audit.record(
            repos, resident.municipality_id, actor, "resident corrected", now=now,
            object_kind="resident", object_id=resident.id, detail=", ".join(changed),
        )  # fmt: skip
    return True


async def change_role(
    repos: Repos, municipality: Municipality, resident: Resident, role: str, grant: bool, *,
    now: datetime, actor: Actor, actor_roles: frozenset[str],
) -> bool:  # fmt: skip
    """Grant or revoke a role as ``civic-bot staff grant|revoke`` does; only an admin may.
    False when nothing changed."""
    if "admin" not in actor_roles:
        raise Refused("admin_only")
    if role not in ROLES:
        raise Refused("bad_role")
    change = roles.grant if grant else roles.revoke
    return await change(repos, municipality, resident.phone, role, now=now, actor=actor)
