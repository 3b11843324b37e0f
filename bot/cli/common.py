"""What the subcommands share: settings, an open and migrated database, error mapping."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

from bot.cli.errors import CliError
from bot.config import Settings, SettingsError, load_settings
from bot.core.clock import SystemClock
from bot.core.languages import LANGUAGES, texts
from bot.core.services import ballot_upgrade, roles
from bot.core.services.audit import CLI, Actor
from bot.core.services.errors import ServiceError
from bot.core.services.municipalities import choose_municipality
from storage.db import DatabaseUnavailable, open_database, redact_url
from storage.migrate import migrate
from storage.models import Municipality, Texts
from storage.repos import Repos


def settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise CliError(str(exc)) from None


@contextlib.asynccontextmanager
async def open_repos(config: Settings | None = None) -> AsyncIterator[Repos]:
    """The configured database, created and migrated to the latest schema if needed (and
    ballots of an earlier version sealed: :mod:`bot.core.services.ballot_upgrade`)."""
    config = config or settings()
    try:
        db = await open_database(config.database_url)
    except DatabaseUnavailable as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        url = redact_url(config.database_url)
        raise CliError(f"cannot open the database {url}: {exc}") from None
    try:
        await migrate(db)
        repos = Repos(db, config.ballot_secret, config.secrets_secret)
        await ballot_upgrade.seal_legacy(repos)
        yield repos
    finally:
        await db.close()


def async_handler(func: Callable[[Any], Awaitable[int | None]]) -> Callable[[Any], int]:
    """Run an async subcommand; a :class:`ServiceError` becomes a one-line CLI error."""

    @wraps(func)
    def run(args: Any) -> int:
        try:
            return int(asyncio.run(func(args)) or 0)
        except ServiceError as exc:
            raise CliError(str(exc)) from None

    return run


def write_export(text: str, output: Path | None) -> None:
    """An export to the file ``output`` (UTF-8), or to standard output when None."""
    if output is None:
        print(text, end="")
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write {output}: {exc.strerror}") from None


def add_staff_option(parser: Any, *, reason: bool = False) -> None:
    """``--by PHONE``: the staff member acting (recorded in the audit trail); with
    ``reason``, also ``--reason TEXT`` (a later correction needs both)."""
    parser.add_argument(
        "--by", metavar="PHONE", help="the staff member acting (default: cli, the operator)"
    )
    if reason:
        parser.add_argument("--reason", help="why (a correction after the check-in window)")


async def acting(repos: Repos, municipality: Municipality, args: Any) -> Actor:
    """The staff member ``--by PHONE`` names, else the command line's operator (cli)."""
    phone = getattr(args, "by", None)
    return await roles.staff_actor(repos, municipality, phone) if phone else CLI


def add_translated_option(parser: Any, flag: str, help: str, *, repeat: bool = False) -> None:
    """``--FLAG`` and beside it ``--FLAG-ky``, ``--FLAG-ru``, ``--FLAG-en``: a name staff give
    in any of the three languages (read with :func:`translated_values`). Repeated options
    pair by position: the second ``--village-ru`` names the second village."""
    action = "append" if repeat else "store"
    parser.add_argument(f"--{flag}", action=action, help=help)
    for lang in LANGUAGES:
        parser.add_argument(f"--{flag}-{lang}", action=action, help=f"{help}, in {lang}")


def translated_values(
    args: Any, flag: str, default_language: str, *, required: bool = True
) -> list[Texts]:
    """The names given by :func:`add_translated_option`'s options (a single one: one item;
    none given and not ``required``: none)."""
    dest = flag.replace("-", "_")
    given = {
        key: value if isinstance(value, list) else [value]
        for key in (dest, *(f"{dest}_{lang}" for lang in LANGUAGES))
        if (value := getattr(args, key)) is not None
    }
    counts = {len(values) for values in given.values()}
    if not given and not required:
        return []
    if not given:
        raise CliError(f"give --{flag} (or --{flag}-ky, --{flag}-ru, --{flag}-en)")
    if len(counts) > 1:
        raise CliError(f"give as many of each of --{flag}, --{flag}-ky, -ru, -en, or none")

    def nth(key: str, n: int) -> str:
        return given[key][n] if key in given else ""

    return [
        texts(
            nth(dest, n), {lang: nth(f"{dest}_{lang}", n) for lang in LANGUAGES}, default_language
        )
        for n in range(counts.pop())
    ]


def add_municipality_option(parser: Any) -> None:
    parser.add_argument(
        "--municipality",
        metavar="SLUG",
        help="which municipality (default: MUNICIPALITY; may be left out when the database"
        " holds only one)",
    )


async def chosen_municipality(repos: Repos, args: Any) -> Municipality:
    """The municipality ``--municipality`` names, else ``MUNICIPALITY``, else the only one."""
    return await choose_municipality(repos, args.municipality or settings().municipality)


def local_time(text: str, config: Settings) -> datetime:
    """``2026-12-01 09:00`` in the municipality's time zone (or ISO 8601 with an offset)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CliError(f"not a date and time: {text!r} (expected e.g. 2026-12-01 09:00)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=config.tz)


@dataclass(frozen=True)
class Call:
    """One action of a subcommand with actions (``hearing create``, ``poll publish``...):
    what it works with."""

    repos: Repos
    municipality: Municipality
    args: argparse.Namespace
    config: Settings
    now: datetime

    async def actor(self) -> Actor:
        return await acting(self.repos, self.municipality, self.args)


CallT = TypeVar("CallT", bound=Call)


async def run_action(
    args: argparse.Namespace,
    actions: Mapping[str, Callable[[CallT], Awaitable[None]]],
    make: Callable[[Repos, Municipality, argparse.Namespace, Settings, datetime], CallT],
) -> int:
    """Run the action ``args.action`` names (``import-ballots`` -> ``import_ballots``) on
    the configured database and municipality."""
    config = settings()
    async with open_repos(config) as repos:
        municipality = await chosen_municipality(repos, args)
        action = actions[args.action.replace("-", "_")]
        await action(make(repos, municipality, args, config, SystemClock().now()))
    return 0
