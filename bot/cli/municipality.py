"""``civic-bot municipality create|list``."""

from __future__ import annotations

import argparse

from bot.cli.common import (
    add_translated_option,
    async_handler,
    open_repos,
    translated_values,
)
from bot.core.clock import SystemClock
from bot.core.services.municipalities import create_municipality


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "municipality", help="create and list municipalities (ayil aimaks)"
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser(
        "create",
        help="add a municipality with its villages",
        description="Add a municipality. Example: civic-bot municipality create ak-chiy"
        " --name 'Ak-Chiy ayil aimak' --village Ak-Chiy --village-ky Ак-Чий --village Kachybek"
        " --village-ky Качыбек (each of --village, --village-ky, -ru, -en: once per village"
        " or never)",
    )
    create.add_argument("slug", help="short id, e.g. ak-chiy")
    create.add_argument("--name", required=True, help="full name")
    add_translated_option(create, "village", "a village (repeat for each)", repeat=True)
    create.add_argument("--language", default="ky", help="default language: ky, ru or en")
    create.set_defaults(handler=_create)
    listing = actions.add_parser("list", help="list municipalities and their villages")
    listing.set_defaults(handler=_list)


@async_handler
async def _create(args: argparse.Namespace) -> int:
    villages = translated_values(args, "village", args.language)
    async with open_repos() as repos:
        municipality = await create_municipality(
            repos,
            slug=args.slug,
            name=args.name,
            villages=villages,
            default_language=args.language,
            now=SystemClock().now(),
        )
    print(f"created {municipality.slug!r} with {len(villages)} village(s)")
    return 0


@async_handler
async def _list(args: argparse.Namespace) -> int:
    async with open_repos() as repos:
        for municipality in await repos.municipalities.all():
            villages = await repos.municipalities.villages(municipality.id)
            residents = await repos.residents.count(municipality.id)
            print(
                f"{municipality.slug}\t{municipality.name}\t"
                f"{', '.join(v.name for v in villages)}\t{residents} residents"
            )
    return 0
