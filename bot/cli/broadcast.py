"""``civic-bot broadcast``: a message to every opted-in resident (or one village)."""

from __future__ import annotations

import argparse
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
from bot.core.services import broadcast


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "broadcast",
        help="queue a message to every opted-in resident; 'broadcast status ID' shows progress,"
        " 'broadcast cancel ID' stops what still waits",
        description="Queue one message per opted-in resident on their channel (Telegram when"
        " linked, else SMS; long texts are split). `civic-bot run` sends them."
        " Progress: civic-bot broadcast status ID. Stop the messages still queued:"
        " civic-bot broadcast cancel ID.",
    )
    parser.add_argument(
        "action", nargs="?", choices=["status", "cancel"], help="show progress of ID, or cancel it"
    )
    parser.add_argument("id", nargs="?", type=int, help="broadcast id (with status or cancel)")
    parser.add_argument("--text-file", type=Path, help="UTF-8 file with the message text")
    parser.add_argument("--village", help="only residents of this village")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="show who it would reach (residents by channel) and queue nothing",
    )
    add_municipality_option(parser)
    add_staff_option(parser)
    parser.set_defaults(handler=_broadcast)


@async_handler
async def _broadcast(args: argparse.Namespace) -> int:
    async with open_repos() as repos:
        if args.action == "status":
            if args.id is None:
                raise CliError("broadcast status needs the broadcast id")
            print(await broadcast.progress(repos, args.id))
            return 0
        if args.action == "cancel":
            if args.id is None:
                raise CliError("broadcast cancel needs the broadcast id")
            municipality = await chosen_municipality(repos, args)
            actor = await acting(repos, municipality, args)
            after, stopped = await broadcast.cancel(
                repos, municipality, args.id, now=SystemClock().now(), actor=actor
            )
            print(f"broadcast {args.id} cancelled: {stopped} message(s) will not be sent")
            print(after)
            return 0
        if args.text_file is None:
            raise CliError("--text-file is required")
        try:
            body = args.text_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CliError(f"cannot read {args.text_file}: {exc}") from None
        municipality = await chosen_municipality(repos, args)
        if args.dry_run:
            reach = await broadcast.audience(repos, municipality, args.village)
            print(
                f"would reach {sum(reach.values())} resident(s): telegram {reach['telegram']},"
                f" sms {reach['sms']}; nothing queued (--dry-run)"
            )
            return 0
        actor = await acting(repos, municipality, args)
        author = await repos.residents.by_id(actor.resident_id) if actor.resident_id else None
        result = await broadcast.create_broadcast(
            repos, municipality, body=body, village=args.village, now=SystemClock().now(),
            author=author,
        )  # fmt: skip
    print(result)
    return 0
