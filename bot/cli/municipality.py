"""``civic-bot municipality create|list|secret``.

A secret is read from an environment variable (``--from-env NAME``) or typed at a
prompt that does not echo it, never given on the command line (where ``ps`` and the
shell's history show it), and never printed.
"""

from __future__ import annotations

import argparse
import getpass
import os

from bot.cli.common import async_handler, open_repos
from bot.cli.errors import CliError
from bot.core.clock import SystemClock
from bot.core.services.municipalities import (
    PROVIDER_SETTINGS,
    choose_municipality,
    create_municipality,
    remove_secret,
    set_secret,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "municipality", help="create and list municipalities (ayil aimaks)"
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser(
        "create",
        help="add a municipality with its villages",
        description="Add a municipality. Example: civic-bot municipality create ak-chiy"
        " --name 'Ak-Chiy ayil aimak' --village Ak-Chiy --village Kachybek",
    )
    create.add_argument("slug", help="short id, e.g. ak-chiy")
    create.add_argument("--name", required=True, help="full name")
    create.add_argument(
        "--village", action="append", required=True, help="a village (repeat for each)"
    )
    create.add_argument("--language", default="ky", help="default language: ky, ru or en")
    create.set_defaults(handler=_create)
    listing = actions.add_parser("list", help="list municipalities and their villages")
    listing.set_defaults(handler=_list)
    secret = actions.add_parser(
        "secret",
        help="a municipality's own bot token, webhook secret and SMS gateway (kept sealed"
        " under SECRETS_KEY)",
    )
    secret_actions = secret.add_subparsers(dest="secret_action", required=True, metavar="ACTION")
    put = secret_actions.add_parser(
        "set",
        help="set or replace (rotate) one; the value from --from-env or a prompt",
        description="Set or replace one of a municipality's provider settings: "
        + ", ".join(PROVIDER_SETTINGS)
        + ". Example: TOKEN=... civic-bot municipality secret set ak-chiy"
        " TELEGRAM_BOT_TOKEN --from-env TOKEN",
    )
    put.add_argument("slug")
    put.add_argument("name", help="e.g. TELEGRAM_BOT_TOKEN")
    put.add_argument(
        "--from-env", metavar="VARIABLE", help="read the value from this environment variable"
    )
    put.set_defaults(handler=_secret_set)
    drop = secret_actions.add_parser("remove", help="remove one")
    drop.add_argument("slug")
    drop.add_argument("name")
    drop.set_defaults(handler=_secret_remove)
    names = secret_actions.add_parser("list", help="the names set and when (never the values)")
    names.add_argument("slug")
    names.set_defaults(handler=_secret_list)


@async_handler
async def _create(args: argparse.Namespace) -> int:
    async with open_repos() as repos:
        municipality = await create_municipality(
            repos,
            slug=args.slug,
            name=args.name,
            villages=args.village,
            default_language=args.language,
            now=SystemClock().now(),
        )
    print(f"created {municipality.slug!r} with {len(args.village)} village(s)")
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


def _secret_value(args: argparse.Namespace) -> str:
    if args.from_env:
        value = os.environ.get(args.from_env)
        if not value:
            raise CliError(f"the environment variable {args.from_env} is not set")
        return value
    return getpass.getpass(f"{args.name.upper()} for {args.slug} (not shown): ")


@async_handler
async def _secret_set(args: argparse.Namespace) -> int:
    value = _secret_value(args)
    async with open_repos() as repos:
        municipality = await choose_municipality(repos, args.slug)
        name = await set_secret(repos, municipality, args.name, value, now=SystemClock().now())
    print(f"{municipality.slug}: {name} set")
    return 0


@async_handler
async def _secret_remove(args: argparse.Namespace) -> int:
    async with open_repos() as repos:
        municipality = await choose_municipality(repos, args.slug)
        name = await remove_secret(repos, municipality, args.name)
    print(f"{municipality.slug}: {name} removed")
    return 0


@async_handler
async def _secret_list(args: argparse.Namespace) -> int:
    async with open_repos() as repos:
        municipality = await choose_municipality(repos, args.slug)
        for name, updated_at in await repos.municipality_secrets.names(municipality.id):
            print(f"{name}\tset {updated_at}")
    return 0
