"""Service ratings: staff open a round of services; residents rate each 1-5 (the last
rating counts); averages by service, village and round, and the trend across rounds."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from bot.core.clock import iso
from bot.core.languages import spellings
from bot.core.services import audit
from bot.core.services.audit import CLI, Actor
from bot.core.services.errors import Refused, ServiceError
from storage.models import Municipality, RatingService, Resident, Texts
from storage.repos import Repos


@dataclass(frozen=True)
class Average:
    count: int
    total: int

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0


async def open_round(
    repos: Repos,
    municipality: Municipality,
    name: str,
    services: list[str],
    *,
    now: datetime,
    actor: Actor = CLI,
) -> int:
    names = [s.strip() for s in services if s.strip()]
    if not name.strip():
        raise ServiceError("a rating round needs a name")
    if not names:
        raise ServiceError("a rating round needs at least one service")
    if len({n.casefold() for n in names}) != len(names):
        raise ServiceError("services must be different")
    async with repos.db.transaction():
        current = await repos.ratings.current_round(municipality.id)
        if current is not None:  # one round at a time: the new one replaces it
            await repos.ratings.close_round(current, now=iso(now))
        round_id = await repos.ratings.open_round(
            municipality.id, name.strip(), names, now=iso(now)
        )
        await audit.record(
            repos, municipality.id, actor, "rating round opened", now=now,
            object_kind="rating round", object_id=round_id, detail=f"{len(names)} service(s)",
        )  # fmt: skip
    return round_id


async def current_services(repos: Repos, municipality: Municipality) -> list[RatingService]:
    round_id = await repos.ratings.current_round(municipality.id)
    if round_id is None:
        raise Refused("no_round")
    return await repos.ratings.services(round_id)


async def own_scores(
    repos: Repos, resident: Resident, services: list[RatingService]
) -> dict[int, int]:
    """The resident's scores of the round's services (service id -> score), by whatever
    channel they rated: what a Telegram rating screen marks."""
    return await repos.ratings.scores_of(resident.id, [service.id for service in services])


async def rate(
    repos: Repos,
    municipality: Municipality,
    resident: Resident,
    service: str,
    score: str,
    *,
    now: datetime,
) -> tuple[RatingService, int]:
    services = await current_services(repos, municipality)
    chosen = next(
        (
            s
            for s in services
            if service == str(s.position) or service.casefold() in spellings(s.name)
        ),
        None,
    )
    if chosen is None:
        raise Refused("unknown_service", count=len(services))
    if not score.isdecimal() or not 1 <= int(score) <= 5:
        raise Refused("out_of_range")
    await repos.ratings.rate(chosen.id, resident.id, resident.village_id, int(score), now=iso(now))
    return chosen, int(score)


@dataclass(frozen=True)
class RatingResults:
    #: "<round id>. <name>" -> service -> village ("" for all villages) -> average
    rounds: dict[str, dict[str, dict[str, Average]]]

    def trend(self, service: str) -> list[tuple[str, float]]:
        """The service's average in every round that rated it, oldest first."""
        return [
            (round_name, services[service][""].mean)
            for round_name, services in self.rounds.items()
            if service in services
        ]


def _numbered(number: int, name: Texts) -> Texts:
    """``name`` as ``"<number>. <name>"`` in every language it has."""
    return Texts(f"{number}. {name}", {k: f"{number}. {v}" for k, v in name.versions.items()})


async def results(repos: Repos, municipality: Municipality) -> RatingResults:
    rounds: dict[str, dict[str, dict[str, Average]]] = {}
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for group in await repos.ratings.summary(municipality.id):
        round_name = _numbered(group.round_id, group.round_name)  # two may share a name
        service = group.service
        rounds.setdefault(round_name, {}).setdefault(service, {})[group.village or "?"] = Average(
            group.count, group.total
        )
        totals[(round_name, service)][0] += group.count
        totals[(round_name, service)][1] += group.total
    for (round_name, service), (count, total) in totals.items():
        rounds[round_name][service][""] = Average(count, total)
    return RatingResults(rounds)
