"""``civic-bot run``: serve the webhooks, send the outbox, run the scheduler."""

from __future__ import annotations

import argparse

from bot.cli.common import add_municipality_option, settings
from bot.cli.errors import CliError
from bot.core.services.errors import ServiceError
from bot.runtime.logs import setup_logging
from storage.db import DatabaseUnavailable


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run",
        help="serve Telegram + SMS webhooks, the outbox worker and the scheduler",
        description="Runs until SIGTERM or Ctrl-C; the message being sent is finished first."
        " Without TELEGRAM_BOT_TOKEN Telegram is off; without Twilio credentials SMS is off.",
    )
    add_municipality_option(parser)
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING (default INFO)")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    # Imported here: aiogram and twilio take seconds to import, and no other command needs them.
    from bot.app import run_forever

    config = settings()
    if args.municipality:  # the option names it for this process, over MUNICIPALITY
        config = config.model_copy(update={"municipality": args.municipality})
    setup_logging(args.log_level.upper())
    try:
        run_forever(config)
    except ServiceError as exc:
        raise CliError(str(exc)) from None
    except DatabaseUnavailable as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot listen on {config.http_host}:{config.http_port}: {exc}") from None
    return 0
