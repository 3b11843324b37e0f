"""Text commands for budget transparency: BUDGET, PROJECT n, JOIN n, ACT / ACTS, R."""

from __future__ import annotations

from bot.core.rendering.templates import Paged
from bot.core.services import budget_summary, monitoring, problems, ratings
from bot.core.services.errors import Refused, ServiceError
from handlers.commands import parse_act_kind
from handlers.context import Context, Reply, page_number


def _number(text: str) -> int | None:
    word = text.strip().lstrip("#№")
    return int(word) if word.isdecimal() and len(word) < 10 else None


def _number_and_page(text: str) -> tuple[int | None, int]:
    """``5`` → (5, 1); ``5 2`` → (5, 2): an object's number and a page of its list."""
    parts = text.split()
    if not parts or len(parts) > 2:
        return None, 1
    return _number(parts[0]), page_number(parts[1] if len(parts) > 1 else None)


async def budget(ctx: Context) -> Reply:
    """``BUDGET``: the latest year's budget for the household; ``BUDGET 2015``: 2015's."""
    year = _number(ctx.args)
    try:
        summary = await budget_summary.household_summary(
            ctx.repos, ctx.municipality, ctx.resident, year
        )
    except ServiceError:
        years = await budget_summary.budget_years(ctx.repos, ctx.municipality)
        if year is None or not years:
            return Reply("budget_refused", {"code": "no_budget"})
        return Reply("budget_refused", {"code": "no_budget_year", "year": year, "years": years})
    return Reply("budget", {"summary": summary})


async def project(ctx: Context) -> Reply:
    """``PROJECT 1``; ``PROJECT 1 2``: the second page of its funding."""
    number, page = _number_and_page(ctx.args)
    if number is None:
        return Reply("budget_refused", {"code": "project_usage"})
    try:
        details = await budget_summary.project_details(ctx.repos, ctx.municipality, number)
    except ServiceError:
        return Reply("budget_refused", {"code": "unknown_project", "number": number})
    return Reply("project", {"details": details, "funding": Paged(details.funding, page)})


async def join(ctx: Context) -> Reply:
    number = _number(ctx.args)
    if number is None:
        return Reply("budget_refused", {"code": "join_usage"})
    try:
        problem, new = await problems.join_group(
            ctx.repos, ctx.municipality, ctx.resident, number, now=ctx.now
        )
    except ServiceError:
        return Reply("budget_refused", {"code": "unknown_problem", "number": number})
    return Reply("joined", {"problem": problem, "new": new})


async def act(ctx: Context) -> Reply:
    """``ACT 3 PURCHASE text``: a monitoring-group member files an act on project 3."""
    parts = ctx.args.split(maxsplit=2)
    number = _number(parts[0]) if parts else None
    kind = parse_act_kind(parts[1]) if len(parts) > 1 else None
    if number is None or kind is None:
        return Reply("budget_refused", {"code": "act_usage"})
    try:
        filed, act_id = await monitoring.file_act(
            ctx.repos, ctx.municipality, ctx.resident, number, kind,
            parts[2] if len(parts) > 2 else "", now=ctx.now,
        )  # fmt: skip
    except Refused as exc:
        return Reply("budget_refused", {"code": exc.code, "number": number})
    return Reply("act_filed", {"project": filed, "act_id": act_id, "kind": kind})


async def acts(ctx: Context) -> Reply:
    """``ACTS 5``; ``ACTS 5 2``: the second page."""
    number, page = _number_and_page(ctx.args)
    if number is None:
        return Reply("budget_refused", {"code": "acts_usage"})
    try:
        found, listed = await monitoring.acts_for(ctx.repos, ctx.municipality, number)
    except Refused:
        return Reply("budget_refused", {"code": "unknown_project", "number": number})
    return Reply("acts", {"project": found, "acts": Paged(listed, page)})


async def rate(ctx: Context) -> Reply:
    """``R 2 4``: service 2 gets 4 of 5. ``R`` alone lists the services (``R 2``: the
    next page of them by SMS)."""
    parts = ctx.args.split()
    try:
        if len(parts) < 2:
            services = await ratings.current_services(ctx.repos, ctx.municipality)
            page = page_number(parts[0] if parts else None)
            return Reply("rating_services", {"services": Paged(services, page)})
        if len(parts) != 2:
            return Reply("rate_refused", {"code": "usage"})
        service, score = await ratings.rate(
            ctx.repos, ctx.municipality, ctx.resident, parts[0], parts[1], now=ctx.now
        )
    except Refused as exc:
        return Reply("rate_refused", {"code": exc.code, **exc.details})
    return Reply("rated", {"service": service, "score": score})


HANDLERS = {
    "budget": budget, "project": project, "join": join, "act": act, "acts": acts, "rate": rate,
}  # fmt: skip
