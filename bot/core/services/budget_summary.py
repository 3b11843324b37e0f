"""What the budget means for one household (the printed summary staff once carried
to every house), and the details of one project.

Household share = the year's spending per registered resident × the household's
registered members.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime

from bot.core.clock import iso
from bot.core.rendering.templates import Renderer
from bot.core.services import audit
from bot.core.services.audit import CLI, Actor
from bot.core.services.errors import ServiceError
from bot.core.services.outbound import drafts_for, recipient_of
from storage.models import Budget, Funding, Municipality, PlanTotals, Project, Resident
from storage.repos import Repos

TOP_CATEGORIES = 3
PAGE = 2000


@dataclass(frozen=True)
class HouseholdSummary:
    budget: Budget
    revenue: int
    spending: int
    top_spending: list[tuple[str, int]]
    village: str
    village_spending: int
    village_lines: list[tuple[str, int]]
    population: int
    per_resident: int
    household_members: int
    household_share: int
    projects: list[tuple[Project, list[Funding]]]
    plans: list[PlanTotals]


@dataclass(frozen=True)
class ProjectDetails:
    project: Project
    village: str | None
    funding: list[Funding]
    acts: int


async def chart_lines(
    repos: Repos, budget: Budget
) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """``(name, amount)`` of the budget's revenue lines and of its spending lines."""
    revenue = await repos.budget.lines(budget.id, "revenue")
    spending = await repos.budget.lines(budget.id, "spending")
    return (
        [(name, amount) for name, _, amount in revenue],
        [(name, amount) for name, _, amount in spending],
    )


async def household_summary(
    repos: Repos, municipality: Municipality, resident: Resident, year: int | None = None
) -> HouseholdSummary:
    """The latest budget's summary, or ``year``'s (ServiceError if there is none)."""
    budget = await repos.budget.current(municipality.id, year)
    if budget is None:
        raise ServiceError("no_budget")
    village = await _village_view(repos, municipality, budget, resident.village_id)
    return await _for_household(repos, village, resident.household_id)


async def _village_view(
    repos: Repos, municipality: Municipality, budget: Budget, village_id: int
) -> HouseholdSummary:
    """Everything but the household's own figures (the same for a whole village)."""
    revenue = await repos.budget.lines(budget.id, "revenue")
    spending = await repos.budget.lines(budget.id, "spending")
    by_category: dict[str, int] = defaultdict(int)
    for name, _, amount in spending:
        by_category[name] += amount
    total_spending = sum(amount for _, _, amount in spending)
    village_lines = [(n, a) for n, v, a in spending if v == village_id]
    population = await repos.residents.count(municipality.id)
    villages = {v.id: v.name for v in await repos.municipalities.villages(municipality.id)}
    projects = [
        (project, await repos.budget.funding(project.id))
        for project in await repos.budget.projects(municipality.id, village_id, year=budget.year)
    ]
    return HouseholdSummary(
        budget=budget,
        revenue=sum(amount for _, _, amount in revenue),
        spending=total_spending,
        top_spending=sorted(by_category.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_CATEGORIES],
        village=villages[village_id],
        village_spending=sum(a for _, a in village_lines),
        village_lines=village_lines,
        population=population,
        per_resident=round(total_spending / population) if population else 0,
        household_members=0,
        household_share=0,
        projects=projects,
        plans=await repos.budget.plans(budget.id),
    )


async def _for_household(
    repos: Repos, village: HouseholdSummary, household_id: int
) -> HouseholdSummary:
    members = await repos.residents.household_size(household_id)
    share = round(village.spending * members / village.population) if village.population else 0
    return replace(village, household_members=members, household_share=share)


async def budget_years(repos: Repos, municipality: Municipality) -> list[int]:
    """The years that have a budget, oldest first."""
    return sorted({budget.year for budget in await repos.budget.versions(municipality.id)})


async def project_details(repos: Repos, municipality: Municipality, number: int) -> ProjectDetails:
    project = await repos.budget.project(municipality.id, number)
    if project is None:
        raise ServiceError("unknown_project")
    villages = {v.id: v.name for v in await repos.municipalities.villages(municipality.id)}
    return ProjectDetails(
        project=project,
        village=villages.get(project.village_id) if project.village_id else None,
        funding=await repos.budget.funding(project.id),
        acts=len(await repos.acts.for_project(project.id)),
    )


async def push_to_households(
    repos: Repos,
    renderer: Renderer,
    municipality: Municipality,
    *,
    now: datetime,
    actor: Actor = CLI,
) -> int:
    """Queue the summary once per household (to one member: Telegram-linked first)."""
    budget = await repos.budget.current(municipality.id)
    if budget is None:
        raise ServiceError("there is no budget to send: import one first")
    async with repos.db.transaction():
        queued = await _push(repos, renderer, municipality, budget, now)
        await audit.record(
            repos, municipality.id, actor, "budget pushed", now=now, object_kind="budget",
            object_id=budget.id, detail=f"{queued} message(s)",
        )  # fmt: skip
    return queued


async def _push(
    repos: Repos, renderer: Renderer, municipality: Municipality, budget: Budget, now: datetime
) -> int:
    views: dict[int, HouseholdSummary] = {}
    queued = 0
    for resident in await repos.residents.household_contacts(municipality.id):
        if resident.village_id not in views:
            views[resident.village_id] = await _village_view(
                repos, municipality, budget, resident.village_id
            )
        summary = await _for_household(repos, views[resident.village_id], resident.household_id)
        drafts = drafts_for(
            recipient_of(resident),
            municipality_id=municipality.id,
            key=f"budget:{budget.id}:household:{resident.household_id}",
            resident_in_key=False,
            render=lambda channel, language, s=summary: renderer.render(
                "budget", language, channel, summary=s
            ),
        )
        queued += await repos.outbox.enqueue(drafts, now=iso(now))
    return queued
