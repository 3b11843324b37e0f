"""``civic-bot staff grant|revoke|list``: roles of registered residents."""

from __future__ import annotations

import argparse

from bot.cli.common import (
    acting,
    add_municipality_option,
    add_staff_option,
    async_handler,
    chosen_municipality,
    open_repos,
)
from bot.core.clock import SystemClock
from bot.core.phones import mask_phone
from bot.core.services import roles
from storage.models import ROLES


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "staff",
        help="grant, revoke and list roles",
        description=f"Roles: {', '.join(ROLES)} (monitor = member of the monitoring group).",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, text in (("grant", "give a resident a role"), ("revoke", "take a role away")):
        sub = actions.add_parser(action, help=text)
        sub.add_argument("phone", help="the resident's phone number")
        sub.add_argument("role", choices=ROLES)
        add_municipality_option(sub)
        add_staff_option(sub)
        sub.set_defaults(handler=_change)
    listing = actions.add_parser("list", help="list who holds which role")
    listing.add_argument("--role", choices=ROLES, help="only this role")
    listing.add_argument("--full-phones", action="store_true", help="show phone numbers unmasked")
    add_municipality_option(listing)
    listing.set_defaults(handler=_list)


@async_handler
async def _change(args: argparse.Namespace) -> int:
    async with open_repos() as repos:
        municipality = await chosen_municipality(repos, args)
        change = roles.grant if args.action == "grant" else roles.revoke
        changed = await change(
            repos, municipality, args.phone, args.role, now=SystemClock().now(),
            actor=await acting(repos, municipality, args),
        )  # fmt: skip
        if args.action == "grant":
            done = "granted" if changed else "already held"
        else:
            done = "revoked" if changed else "was not held"
    print(f"{args.role}: {done}")
    return 0


@async_handler
async def _list(args: argparse.Namespace) -> int:
    async with open_repos() as repos:
        municipality = await chosen_municipality(repos, args)
        for holder in await roles.holders(repos, municipality, args.role):
            phone = holder.phone if args.full_phones else mask_phone(holder.phone)
            print(f"{holder.role}\t{phone}\t{holder.name}")
    return 0
