"""``civic-bot import households|residents|budget FILE.csv``: all or nothing."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.cli.common import (
    acting,
    add_municipality_option,
    add_staff_option,
    async_handler,
    chosen_municipality,
    open_repos,
)
from bot.cli.errors import CliError
from bot.core.clock import SystemClock
from bot.core.services import budget_import
from bot.core.services.csv_input import ImportRejected
from bot.core.services.register_import import import_households, import_residents

HOUSEHOLDS_HELP = """\
Columns (header line required; comma, semicolon or tab separated; UTF-8):
  code     the household's register number, unique in the municipality (e.g. AC-001)
  village  one of the municipality's villages
  address  optional
Rows are matched by code: re-importing changes nothing, an edited row is updated.
A file with any bad line imports nothing and every bad line is listed."""

RESIDENTS_HELP = """\
Columns (header line required; comma, semicolon or tab separated; UTF-8):
  phone       any usual form: 0555 123 456, 996555123456, +996 (555) 12-34-56
  name        full name
  gender      f or m
  birth_year  e.g. 1978 (may be empty)
  household   the household's code (import households first)
  language    optional: ky, ru or en; the first language of a new resident
              (residents change it themselves afterwards with LANG)
Rows are matched by phone: re-importing changes nothing, an edited row is updated.
A file with any bad line imports nothing and every bad line is listed."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("import", help="import the register or a budget from CSV")
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    for kind, text in (
        ("households", HOUSEHOLDS_HELP),
        ("residents", RESIDENTS_HELP),
        ("budget", budget_import.__doc__ or ""),
    ):
        sub = kinds.add_parser(
            kind,
            help=f"import {kind} from a CSV file",
            description=text,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.add_argument("file", type=Path, metavar="FILE.csv")
        add_municipality_option(sub)
        add_staff_option(sub)
        sub.set_defaults(handler=_import)


@async_handler
async def _import(args: argparse.Namespace) -> int:
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {args.file}: {exc.strerror}") from None
    async with open_repos() as repos:
        municipality = await chosen_municipality(repos, args)
        actor = await acting(repos, municipality, args)
        now = SystemClock().now()
        try:
            if args.kind == "budget":
                budget = await budget_import.import_budget(
                    repos, municipality, data, now=now, actor=actor
                )
                print(
                    f"budget {budget.year} version {budget.version}: {budget.lines} line(s),"
                    f" {budget.projects} project(s)"
                )
                return 0
            if args.kind == "households":
                report = await import_households(repos, municipality, data, now=now, actor=actor)
            else:
                report = await import_residents(repos, municipality, data, now=now, actor=actor)
        except ImportRejected as rejected:
            for error in rejected.errors:
                print(f"{args.file}: {error}", file=sys.stderr)
            raise CliError(str(rejected)) from None
    print(
        f"{args.kind}: {report.created} added, {report.updated} updated,"
        f" {report.unchanged} unchanged"
    )
    return 0
