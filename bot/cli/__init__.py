"""The ``civic-bot`` command line: one module per subcommand, wired here.

Each subcommand module exposes ``register(subparsers)``, which adds its parser and
sets ``handler`` to a function ``(args) -> int``. A handler reports bad input by
raising :class:`CliError`; ``main`` prints its one-line reason and exits non-zero.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bot.cli import (
    audit,
    broadcast,
    budget,
    demo,
    hearings,
    imports,
    init,
    municipality,
    pb,
    polls,
    problems,
    run,
    staff,
)
from bot.cli.errors import CliError

SUBCOMMANDS = (
    init,
    demo,
    run,
    municipality,
    imports,
    staff,
    broadcast,
    hearings,
    problems,
    polls,
    budget,
    pb,
    audit,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="civic-bot",
        description="Budget democracy for a rural municipality over Telegram and SMS.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except CliError as exc:
        print(f"civic-bot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
