"""``civic-bot problem list|approve|reject|merge``: moderating residents' proposals."""

from __future__ import annotations

import argparse

from bot.cli.common import (
    add_municipality_option,
    async_handler,
    chosen_municipality,
    open_repos,
    settings,
)
from bot.clock import SystemClock
from bot.rendering.templates import Renderer
from bot.services import problems


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
        sub.set_defaults(handler=_problem)


@async_handler
async def _problem(args: argparse.Namespace) -> int:
    config = settings()
    now = SystemClock().now()
    async with open_repos(config) as repos:
        municipality = await chosen_municipality(repos, args)
        if args.action == "list":
            support = await repos.problems.support(municipality.id)
            for problem in await repos.problems.by_status(municipality.id, args.status):
                print(f"{problem.id}\t{support.get(problem.id, 0)}\t{problem.body}")
        elif args.action == "approve":
            await problems.approve(repos, municipality, args.id, now=now)
            print(f"problem {args.id}: approved")
        elif args.action == "reject":
            told = await problems.reject(
                repos, municipality, Renderer(config.tz), args.id, args.reason, now=now
            )
            print(f"problem {args.id}: rejected; {told} proposer(s) will be told")
        else:
            await problems.merge(repos, municipality, args.duplicate, args.into, now=now)
            print(f"problem {args.duplicate}: merged into {args.into}")
    return 0
