"""``civic-bot budget|project|rating ...``: budget transparency for staff."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.cli.common import (
    Call,
    add_municipality_option,
    add_staff_option,
    add_translated_option,
    async_handler,
    run_action,
    translated_values,
    write_export,
)
from bot.core.phones import mask_phone
from bot.core.rendering.spreadsheet import csv_text
from bot.core.rendering.templates import Renderer
from bot.core.services import budget_summary, projects, ratings
from bot.core.services.budget_import import STATUSES


def register(subparsers: argparse._SubParsersAction) -> None:
    budget = subparsers.add_parser("budget", help="the budget: versions, push to households")
    actions = budget.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("versions", help="imported budget versions (the latest counts)")
    push = actions.add_parser(
        "push", help="send every household its summary (one message per household)"
    )
    add_staff_option(push)
    for sub in actions.choices.values():
        add_municipality_option(sub)
        sub.set_defaults(handler=_budget)

    project = subparsers.add_parser("project", help="projects and plan activities")
    actions = project.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="projects with cost and status")
    status = actions.add_parser("status", help="change a project's status; its village is told")
    status.add_argument("code")
    status.add_argument("status", choices=STATUSES)
    add_staff_option(status)
    members = actions.add_parser("members", help="members of a problem's initiative group")
    members.add_argument("problem", type=int)
    for sub in actions.choices.values():
        add_municipality_option(sub)
        sub.set_defaults(handler=_project)

    rating = subparsers.add_parser("rating", help="service rating rounds")
    actions = rating.add_subparsers(dest="action", required=True, metavar="ACTION")
    start = actions.add_parser("open", help="open a round (closes the current one)")
    add_translated_option(start, "name", "the round's name")
    add_translated_option(start, "service", "a service to rate (repeat per service)", repeat=True)
    add_staff_option(start)
    actions.add_parser("results", help="averages by service and village; trend by round")
    export = actions.add_parser("export", help="CSV: round, service, village, count, average")
    export.add_argument("--output", type=Path)
    for sub in actions.choices.values():
        add_municipality_option(sub)
        sub.set_defaults(handler=_rating)


@async_handler
async def _budget(args: argparse.Namespace) -> int:
    return await run_action(args, BUDGET_ACTIONS, Call)


@async_handler
async def _project(args: argparse.Namespace) -> int:
    return await run_action(args, PROJECT_ACTIONS, Call)


@async_handler
async def _rating(args: argparse.Namespace) -> int:
    return await run_action(args, RATING_ACTIONS, Call)


async def _versions(c: Call) -> None:
    for budget in await c.repos.budget.versions(c.municipality.id):
        print(f"{budget.year}\tversion {budget.version}")


async def _push(c: Call) -> None:
    queued = await budget_summary.push_to_households(
        c.repos, Renderer(c.config.tz), c.municipality, now=c.now, actor=await c.actor()
    )
    print(f"budget summary queued to {queued} household(s)")


async def _projects(c: Call) -> None:
    for p in await c.repos.budget.projects(c.municipality.id):
        plan = "plan" if p.in_plan else ""
        print(f"{p.id}\t{p.code}\t{p.cost}\t{p.status}\t{plan}\t{p.name}")


async def _status(c: Call) -> None:
    project, told = await projects.update_status(
        c.repos, Renderer(c.config.tz), c.municipality, c.args.code, c.args.status, now=c.now,
        actor=await c.actor(),
    )  # fmt: skip
    print(f"project {project.code}: {project.status}; {told} resident(s) told")


async def _members(c: Call) -> None:
    for member in await c.repos.problems.members(c.args.problem):
        print(f"{member.village}\t{mask_phone(member.phone)}\t{member.name}")


async def _open_round(c: Call) -> None:
    language = c.municipality.default_language
    (name,) = translated_values(c.args, "name", language)
    services = translated_values(c.args, "service", language)
    round_id = await ratings.open_round(
        c.repos, c.municipality, name, services, now=c.now, actor=await c.actor()
    )
    print(f"rating round {round_id} open with {len(services)} service(s)")


async def _results(c: Call) -> None:
    results = await ratings.results(c.repos, c.municipality)
    for round_name, services in results.rounds.items():
        print(round_name)
        for service, villages in services.items():
            overall = villages[""]
            by_village = ", ".join(f"{v} {a.mean:.1f}" for v, a in sorted(villages.items()) if v)
            print(f"  {service}: {overall.mean:.2f} ({overall.count}) — {by_village}")
    for service in sorted({s for r in results.rounds.values() for s in r}):
        trend = " → ".join(f"{mean:.2f}" for _, mean in results.trend(service))
        print(f"trend {service}: {trend}")


async def _export(c: Call) -> None:
    results = await ratings.results(c.repos, c.municipality)
    rows = [
        [round_name, service, village or "all", average.count, f"{average.mean:.2f}"]
        for round_name, services in results.rounds.items()
        for service, villages in services.items()
        for village, average in sorted(villages.items())
    ]
    write_export(
        csv_text(["round", "service", "village", "ratings", "average"], rows), c.args.output
    )


BUDGET_ACTIONS = {"versions": _versions, "push": _push}
PROJECT_ACTIONS = {"list": _projects, "status": _status, "members": _members}
RATING_ACTIONS = {"open": _open_round, "results": _results, "export": _export}
