"""``civic-bot municipality create|list|secret``.

A secret is read from an environment variable (``--from-env NAME``) or typed at a
prompt that does not echo it, never given on the command line (where ``ps`` and the
shell's history show it), and never printed.
"""

from __future__ import annotations

import argparse
import getpass
import os

from bot.cli.common import (
    add_translated_option,
    async_handler,
    open_repos,
    translated_values,
)
from bot.cli.errors import CliError
from bot.core.clock import SystemClock
from bot.core.services.municipalities import (
    PROVIDER_SETTINGS,
    choose_municipality,
    create_municipality,
    remove_secret,
    reseal_secrets,
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
    rekey = secret_actions.add_parser(
        "rekey",
        help="after a change of SECRETS_KEY: seal every secret under the new key",
        description="Seal every municipality's secrets, made under the old SECRETS_KEY,"
        " under the new one (SECRETS_KEY), all or none. Example: OLD=... civic-bot"
        " municipality secret rekey --old-key-from-env OLD",
    )
    rekey.add_argument(
        "--old-key-from-env", metavar="VARIABLE", help="read the old key from this variable"
    )
    rekey.set_defaults(handler=_secret_rekey)
    names = secret_actions.add_parser("list", help="the names set and when (never the values)")
    names.add_argument("slug")
    names.set_defaults(handler=_secret_list)


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


def _secret_value(variable: str | None, prompt: str) -> str:
    """From the environment variable ``variable``, or typed without echo."""
    if variable:
        value = os.environ.get(variable)
        if not value:
            raise CliError(f"the environment variable {variable} is not set")
        return value
    return getpass.getpass(f"{prompt} (not shown): ")


@async_handler
async def _secret_set(args: argparse.Namespace) -> int:
    value = _secret_value(args.from_env, f"{args.name.upper()} for {args.slug}")
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
async def _secret_rekey(args: argparse.Namespace) -> int:
    old_key = _secret_value(args.old_key_from_env, "the old SECRETS_KEY")
    async with open_repos() as repos:
        count = await reseal_secrets(repos, old_key, now=SystemClock().now())
    print(f"{count} secret(s) sealed under the new SECRETS_KEY")
    return 0


@async_handler
async def _secret_list(args: argparse.Namespace) -> int:
    async with open_repos() as repos:
        municipality = await choose_municipality(repos, args.slug)
        for name, updated_at in await repos.municipality_secrets.names(municipality.id):
            print(f"{name}\tset {updated_at}")
    return 0
