"""``civic-bot pb``: participatory-budgeting tools on pabulib ``.pb`` files."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bot.cli.errors import CliError
from bot.counting import RULES, PabulibError, count, read_pb, rule_for_meta

_TALLY_HELP = """\
Count the ballots of a pabulib .pb file and print the outcome as JSON: the funded project
ids in the order the rule chose them ("selected"), the rule, the budget, the amount spent
and the votes and scores per project.

Rules: greedy (fund by score, skipping projects that no longer fit), greedy-no-skip (stop
at the first that does not fit), mes (Method of Equal Shares with cost utilities and Add1
completion). Scores are votes (approval, choose-1), points (cumulative) or Borda scores
(ordinal). By default the rule named in the file's META is used: greedy, greedy-no-skip
or equalshares/add1.

Exit status: 0 on success, 2 if the file is missing or malformed (the reason, with the line
number, goes to stderr) or its rule is not supported.
"""


def register(subparsers: Any) -> None:
    """Add ``pb`` and its ``tally`` subcommand to the ``civic-bot`` parser."""
    pb = subparsers.add_parser(
        "pb",
        help="participatory budgeting on pabulib .pb files",
        description="Participatory-budgeting tools for pabulib .pb files.",
    )
    commands = pb.add_subparsers(dest="pb_command", required=True, metavar="PB_COMMAND")
    tally = commands.add_parser(
        "tally",
        help="count a .pb file and print the funded projects as JSON",
        description=_TALLY_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    tally.add_argument("file", metavar="FILE.pb", type=Path, help="the pabulib file to count")
    tally.add_argument(
        "--rule",
        choices=RULES,
        help="the counting rule (default: the rule in the file's META)",
    )
    tally.set_defaults(handler=tally_command)


def tally_command(args: argparse.Namespace) -> int:
    """Count ``args.file`` and print the outcome as one JSON object."""
    path: Path = args.file
    try:
        election = read_pb(path)
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CliError(f"{path}: is a directory, not a .pb file") from None
    except OSError as exc:
        raise CliError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except PabulibError as exc:
        raise CliError(f"{path}: {exc}") from None
    rule = args.rule
    meta_rule = election.meta.get("rule")
    if rule is None:
        if meta_rule is None:
            raise CliError(f"{path}: META names no rule; pass --rule ({'|'.join(RULES)})")
        try:
            rule = rule_for_meta(meta_rule)
        except ValueError as exc:
            raise CliError(f"{path}: {exc}; pass --rule ({'|'.join(RULES)})") from None
    outcome = count(election, rule)
    result = {
        "file": str(path),
        "vote_type": election.vote_type,
        "meta_rule": meta_rule,
        **outcome.as_dict(),
    }
    json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0
