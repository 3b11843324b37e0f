"""Priority problems: residents propose, staff approve, reject (with a reason the
proposers receive) or merge duplicates (proposers and poll options follow)."""

from __future__ import annotations

from datetime import datetime

from bot.core.clock import iso
from bot.core.rendering.templates import Renderer
from bot.core.services import audit
from bot.core.services.audit import CLI, Actor
from bot.core.services.errors import ServiceError
from bot.core.services.outbound import drafts_for, recipient_of
from storage.models import Municipality, Problem, Resident
from storage.repos import Repos

MAX_PROBLEM = 500


async def propose(repos: Repos, resident: Resident, text: str, *, now: datetime) -> Problem:
    body = " ".join(text.split())
    if not body:
        raise ServiceError("empty")
    if len(body) > MAX_PROBLEM:
        raise ServiceError("too_long")
    async with repos.db.transaction():
        problem_id = await repos.problems.create(
            municipality_id=resident.municipality_id,
            village_id=resident.village_id,
            body=body,
            now=iso(now),
        )
        await repos.problems.add_proposer(problem_id, resident.id)
    problem = await repos.problems.get(resident.municipality_id, problem_id)
    assert problem is not None
    return problem


async def _pending(repos: Repos, municipality: Municipality, problem_id: int) -> Problem:
    problem = await repos.problems.get(municipality.id, problem_id)
    if problem is None:
        raise ServiceError(f"no problem {problem_id}")
    if problem.status != "pending" and problem.status != "approved":
        raise ServiceError(f"problem {problem_id} is already {problem.status}")
    return problem


async def approve(
    repos: Repos, municipality: Municipality, problem_id: int, *, now: datetime, actor: Actor = CLI
) -> Problem:
    problem = await _pending(repos, municipality, problem_id)
    async with repos.db.transaction():
        await repos.problems.decide(
            problem.id, "approved", reason=None, merged_into=None, now=iso(now)
        )
        await _audit(repos, municipality, actor, "problem approved", problem.id, now)
    return problem


async def _audit(
    repos: Repos,
    municipality: Municipality,
    actor: Actor,
    action: str,
    problem_id: int,
    now: datetime,
    detail: str = "",
) -> None:
    await audit.record(
        repos, municipality.id, actor, action, now=now, object_kind="problem",
        object_id=problem_id, detail=detail,
    )  # fmt: skip


async def reject(
    repos: Repos,
    municipality: Municipality,
    renderer: Renderer,
    problem_id: int,
    reason: str,
    *,
    now: datetime,
    actor: Actor = CLI,
) -> int:
    """Reject with a reason; each proposer is told through the outbox. Returns how many."""
    reason = reason.strip()
    if not reason:
        raise ServiceError("a rejection needs a reason the proposer will read")
    problem = await _pending(repos, municipality, problem_id)
    async with repos.db.transaction():
        await repos.problems.decide(
            problem.id, "rejected", reason=reason, merged_into=None, now=iso(now)
        )
        told = 0
        for resident_id in await repos.problems.proposers(problem.id):
            resident = await repos.residents.by_id(resident_id)
            if resident is None:
                continue
            drafts = drafts_for(
                recipient_of(resident),
                municipality_id=municipality.id,
                key=f"problem:{problem.id}:rejected",
                render=lambda channel, language: renderer.render(
                    "problem_rejected", language, channel, number=problem.id, reason=reason
                ),
            )
            await repos.outbox.enqueue(drafts, now=iso(now))
            told += 1
        await _audit(repos, municipality, actor, "problem rejected", problem.id, now, reason)
    return told


async def merge(
    repos: Repos,
    municipality: Municipality,
    source_id: int,
    target_id: int,
    *,
    now: datetime,
    actor: Actor = CLI,
) -> Problem:
    """Merge a duplicate into the surviving problem."""
    if source_id == target_id:
        raise ServiceError("a problem cannot be merged into itself")
    source = await _pending(repos, municipality, source_id)
    target = await _pending(repos, municipality, target_id)
    async with repos.db.transaction():
        await repos.problems.move_to(source.id, target.id)
        await repos.problems.decide(
            source.id, "merged", reason=None, merged_into=target.id, now=iso(now)
        )
        detail = f"into problem {target.id}"
        await _audit(repos, municipality, actor, "problem merged", source.id, now, detail)
    return target


async def approved(repos: Repos, municipality: Municipality) -> list[tuple[Problem, int]]:
    """Approved problems with their support (proposers), most supported first."""
    support = await repos.problems.support(municipality.id)
    problems = await repos.problems.by_status(municipality.id, "approved")
    return sorted(((p, support.get(p.id, 0)) for p in problems), key=lambda ps: (-ps[1], ps[0].id))


async def join_group(
    repos: Repos,
    municipality: Municipality,
    resident: Resident,
    problem_id: int,
    *,
    now: datetime,
) -> tuple[Problem, bool]:
    """Join the initiative group of an approved problem; False when already a member."""
    problem = await repos.problems.get(municipality.id, problem_id)
    if problem is None or problem.status != "approved":
        raise ServiceError("unknown_problem")
    return problem, await repos.problems.join(problem.id, resident.id, now=iso(now))
