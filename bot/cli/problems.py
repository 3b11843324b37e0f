"""``civic-bot problem list|approve|reject|merge``: moderating residents' proposals."""

from __future__ import annotations

import argparse

from bot.cli.common import (
    Call,
    add_municipality_option,
    add_staff_option,
    async_handler,
    run_action,
)
from bot.core.rendering.templates import Renderer
from bot.core.services import problems


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("problem", help="moderate priority problems residents propose")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="list problems (default: pending)")
    listing.add_argument(
        "--status", default="pending", choices=["pending", "approved", "rejected", "merged"]
    )
    approve = actions.add_parser("approve", help="approve a problem (it can then be voted on)")
    approve.add_argument("id", type=int)
    reject = actions.add_parser("reject", help="reject a problem; its proposers are told why")
    reject.add_argument("id", type=int)
    reject.add_argument("--reason", required=True, help="the reason the proposers receive")
    merge = actions.add_parser(
        "merge", help="merge a duplicate into another problem (proposers and votes follow)"
    )
    merge.add_argument("duplicate", type=int)
    merge.add_argument("into", type=int)
    for sub in (listing, approve, reject, merge):
        add_municipality_option(sub)
        if sub is not listing:
            add_staff_option(sub)
        sub.set_defaults(handler=_problem)


@async_handler
async def _problem(args: argparse.Namespace) -> int:
    return await run_action(args, ACTIONS, Call)


async def _list(c: Call) -> None:
    support = await c.repos.problems.support(c.municipality.id)
    for problem in await c.repos.problems.by_status(c.municipality.id, c.args.status):
        print(f"{problem.id}\t{support.get(problem.id, 0)}\t{problem.body}")


async def _approve(c: Call) -> None:
    await problems.approve(c.repos, c.municipality, c.args.id, now=c.now, actor=await c.actor())
    print(f"problem {c.args.id}: approved")


async def _reject(c: Call) -> None:
    told = await problems.reject(
        c.repos, c.municipality, Renderer(c.config.tz), c.args.id, c.args.reason, now=c.now,
        actor=await c.actor(),
    )  # fmt: skip
    print(f"problem {c.args.id}: rejected; {told} proposer(s) will be told")


async def _merge(c: Call) -> None:
    await problems.merge(
        c.repos, c.municipality, c.args.duplicate, c.args.into, now=c.now, actor=await c.actor()
    )
    print(f"problem {c.args.duplicate}: merged into {c.args.into}")


ACTIONS = {"list": _list, "approve": _approve, "reject": _reject, "merge": _merge}
