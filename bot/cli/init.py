"""``civic-bot init``: create or upgrade the database (and optionally load the demo)."""

from __future__ import annotations

import argparse

from bot.cli.common import async_handler, settings
from bot.cli.errors import CliError
from bot.core.clock import SystemClock
from bot.core.services import ballot_upgrade, demo_data
from storage.db import DatabaseUnavailable, open_database, redact_url
from storage.migrate import latest_version, migrate
from storage.repos import Repos


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "init",
        help="create or upgrade the database",
        description="Create the database named by DATABASE_URL, or upgrade it to the latest"
        " schema. Running it again changes nothing.",
    )
    parser.add_argument(
        "--demo", action="store_true", help="also load the demo municipality (created once)"
    )
    parser.set_defaults(handler=_init)


@async_handler
async def _init(args: argparse.Namespace) -> int:
    config = settings()
    try:
        db = await open_database(config.database_url)
    except DatabaseUnavailable as exc:
        raise CliError(str(exc)) from None
    try:
        applied = await migrate(db)
        names = ", ".join(f"{m.version:04d}_{m.name}" for m in applied) or "none, up to date"
        url = redact_url(config.database_url)
        print(f"{url}: schema version {latest_version()} (applied: {names})")
        repos = Repos(db, config.ballot_secret)
        if sealed := await ballot_upgrade.seal_legacy(repos):
            print(f"{sealed} ballot(s) of an earlier version sealed under BALLOT_KEY")
        if args.demo:
            municipality, created = await demo_data.ensure_demo(repos, now=SystemClock().now())
            state = "created" if created else "already present"
            print(f"demo municipality {municipality.slug!r}: {state}")
    finally:
        await db.close()
    return 0
