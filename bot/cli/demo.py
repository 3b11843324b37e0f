"""``civic-bot demo``: chat with the bot in the console, as a resident or staff member.

Each input line is handled exactly like an SMS from the chosen phone number, and the
reply is what that SMS user would receive. Works interactively and from a pipe:
``printf 'HELP\\nLANG RU\\nME\\n' | civic-bot demo --as +996700000001``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
from pathlib import Path

from pydantic import SecretStr

from bot.cli.common import async_handler, open_repos, settings
from bot.cli.errors import CliError
from bot.config import Settings
from bot.core.clock import SystemClock
from bot.core.phones import InvalidPhone, normalize_phone
from bot.core.rendering.templates import Renderer
from bot.core.services import demo_data
from handlers.text import handle_text
from storage.db import is_postgres_url, redact_url, sqlite_path

BANNER = f"""\
civic-bot demo: {demo_data.NAME} (3 villages, 648 households, 3,728 residents).
Type a command as you would send it by SMS, e.g. HELP, ЖАРДАМ, LANG RU, ME, STOP.
Phones to try:  resident {demo_data.RESIDENT_PHONE}   staff and admin {demo_data.ADMIN_PHONE}
                deputy {demo_data.DEPUTY_PHONES[0]}   unregistered {demo_data.UNKNOWN_PHONE}
Switch with ':as PHONE'; leave with ':quit' or Ctrl-D."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="chat with the bot in the console on demo data (no accounts needed)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--as",
        dest="phone",
        default=demo_data.RESIDENT_PHONE,
        metavar="PHONE",
        help=f"whose phone the messages come from (default {demo_data.RESIDENT_PHONE})",
    )
    parser.set_defaults(handler=_demo)


def _phone(raw: str) -> str:
    try:
        return normalize_phone(raw)
    except InvalidPhone as exc:
        raise CliError(str(exc)) from None


def demo_ballot_key(config: Settings) -> Settings:
    """``config`` with a ballot key: ``BALLOT_KEY`` if set; else, for a SQLite database, a
    demo key of its own kept in a file beside it (``civic-bot.db.ballot-key``), never in
    the database; made once. On PostgreSQL without ``BALLOT_KEY`` voting stays closed."""
    if config.ballot_key is not None or is_postgres_url(config.database_url):
        return config
    path = Path(sqlite_path(config.database_url) + ".ballot-key")
    try:
        if not path.exists():
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
                f.write(secrets.token_hex(32) + "\n")
        key = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise CliError(f"cannot keep the demo's ballot key in {path}: {exc.strerror}") from None
    return config.model_copy(update={"ballot_key": SecretStr(key)})


@async_handler
async def _demo(args: argparse.Namespace) -> int:
    config = demo_ballot_key(settings())
    phone = _phone(args.phone)
    interactive = sys.stdin.isatty()
    # From a pipe, stdout carries only the replies.
    info = sys.stdout if interactive else sys.stderr
    renderer = Renderer(config.tz)
    clock = SystemClock()
    async with open_repos(config) as repos:
        municipality, created = await demo_data.ensure_demo(repos, now=clock.now())
        if created:
            print("Created the demo municipality in", redact_url(config.database_url), file=info)
        print(BANNER, file=info)
        print(f"You are {phone}.", file=info)
        while True:
            if interactive:
                print("> ", end="", flush=True)
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line:
                break
            text = line.rstrip("\r\n")
            if text.strip().startswith(":"):
                command, _, rest = text.strip().partition(" ")
                if command == ":quit":
                    break
                if command == ":as":
                    try:
                        phone = normalize_phone(rest)
                    except InvalidPhone as exc:
                        print(exc, file=info)
                        continue
                    print(f"You are {phone}.", file=info)
                    continue
            reply = await handle_text(
                repos,
                renderer,
                municipality=municipality,
                phone=phone,
                text=text,
                channel="console",
                now=clock.now(),
            )
            print(reply.text, flush=True)
    return 0
