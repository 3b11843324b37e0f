"""``civic-bot audit``: the audit trail of staff actions, to read or export as CSV."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from bot.cli.common import async_handler, local_time, open_repos, settings, write_export
from bot.core.rendering.spreadsheet import csv_text
from bot.core.services import audit
from bot.core.services.municipalities import choose_municipality

COLUMNS = ["time", "municipality", "who", "action", "object", "object_id", "detail"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "audit",
        help="the audit trail of staff actions (append-only)",
        description="Every staff action, oldest first, in local time. Who: a staff member's"
        " resident id, or cli (the command line's operator when no --by PHONE was given).",
    )
    parser.add_argument("--since", metavar="DATE", help="from this local date (and time) on")
    parser.add_argument(
        "--municipality", metavar="SLUG", help="only this municipality (default: every one)"
    )
    parser.add_argument("--csv", type=Path, metavar="FILE", help="write CSV to FILE (- : stdout)")
    parser.set_defaults(handler=_audit)


@async_handler
async def _audit(args: argparse.Namespace) -> int:
    config = settings()
    since = local_time(args.since, config) if args.since else None
    async with open_repos(config) as repos:
        municipality = (
            await choose_municipality(repos, args.municipality) if args.municipality else None
        )
        entries = await audit.entries(repos, municipality=municipality, since=since)
    rows = [
        [
            datetime.fromisoformat(e.at).astimezone(config.tz).strftime("%Y-%m-%d %H:%M:%S"),
            e.municipality_slug,
            audit.who(e),
            e.action,
            e.object_kind,
            "" if e.object_id is None else e.object_id,
            e.detail,
        ]
        for e in entries
    ]
    if args.csv is not None:
        write_export(csv_text(COLUMNS, rows), None if str(args.csv) == "-" else args.csv)
    else:
        for row in rows:
            print("\t".join(str(cell) for cell in row))
    return 0
