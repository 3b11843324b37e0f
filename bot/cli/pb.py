"""``civic-bot pb``: participatory-budgeting tools on pabulib ``.pb`` files."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bot.cli.errors import CliError
from bot.core.counting import (
    COMPLETIONS,
    DEFAULT_TIES,
    RULES,
    SATISFACTIONS,
    TIE_KEYS,
    PabulibError,
    count,
    meta_rule,
    read_pb,
)

_TALLY_HELP = """\
Count the ballots of a pabulib .pb file and print the outcome as JSON: the funded project
ids in the order the rule chose them ("selected"), the rule and options used, the budget,
the amount spent, the votes and scores per project and what the reader corrected or noticed
in the file ("warnings").

Rules: greedy (fund by score, skipping projects that no longer fit), greedy-no-skip (stop
at the first that does not fit), greedy-custom (Poznan: stop there, but fund that project
too if what is left covers 80%% of its cost), mes (Method of Equal Shares), mes-comparison
(MES against greedy by approvals, voter by voter). Scores are votes (approval, choose-1),
points (cumulative, scoring) or Borda scores (ordinal). A project below the threshold
(META min_project_score_threshold unless --threshold) is never funded; a project with the
placeholder cost 999999999 (withdrawn) is passed over.

By default the file's META rule is counted as the city counted it: greedy,
greedy-threshold and greedy-exclusive as greedy, greedy-no-skip, greedy-custom,
equalshares/add1 (mes, add1-budget) and equalshares/add1-comparison (mes-comparison),
ties in PROJECTS order (greedy) or to the cheaper, then more voted project (MES). A file
whose rule is unknown needs --rule; options given override the META's.

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
        "--rule", choices=RULES, help="the counting rule (default: the rule in the file's META)"
    )
    tally.add_argument("--ties", type=tie_chain, help=TIES_HELP)
    tally.add_argument(
        "--completion", choices=COMPLETIONS, help="MES completion (default: add1, or the META's)"
    )
    tally.add_argument(
        "--satisfaction", choices=SATISFACTIONS, default="cost", help="MES satisfaction"
    )
    tally.add_argument(
        "--threshold",
        type=_whole,
        help="the least score a funded project needs (default: META min_project_score_threshold)",
    )
    tally.add_argument(
        "--irresolute",
        action="store_true",
        help=(
            "also list every outcome some way of breaking ties gives (greedy rules and mes; "
            "for mes, meant for small elections)"
        ),
    )
    tally.set_defaults(handler=tally_command)


TIES_HELP = (
    "tie-breaking chain, comma-separated, tried in turn: "
    f"{', '.join(TIE_KEYS)} (order: as listed; cost: cheaper first; -cost: dearer first; "
    "votes: more votes first; -votes: fewer first; id: lower id first); a chain that "
    "starts with a minus as --ties=-cost,id"
)


def tie_chain(text: str) -> tuple[str, ...]:
    """``--ties`` (also ``poll create``'s): keys of TIE_KEYS, comma-separated, each once."""
    keys = tuple(k.strip() for k in text.split(",") if k.strip())
    unknown = [k for k in keys if k not in TIE_KEYS]
    if unknown or not keys or len(set(keys)) != len(keys):
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected keys among {', '.join(TIE_KEYS)}, comma-separated, each once"
        )
    return keys


def _whole(text: str) -> int:
    if not (text.isascii() and text.isdecimal()):
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number")
    return int(text)


def tally_command(args: argparse.Namespace) -> int:
    """Count ``args.file`` and print the outcome as one JSON object."""
    path: Path = args.file
    try:
        election = read_pb(path, merge=True)
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CliError(f"{path}: is a directory, not a .pb file") from None
    except OSError as exc:
        raise CliError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except PabulibError as exc:
        raise CliError(f"{path}: {exc}") from None
    named = election.meta.get("rule")
    rule, ties, completion = args.rule, DEFAULT_TIES, "add1"
    if named is not None and named.strip() in ("", "unknown") and rule is None:
        raise CliError(
            f"{path}: the file's META rule is {named!r}; pass --rule ({'|'.join(RULES)})"
        )
    if named is None and rule is None:
        raise CliError(f"{path}: META names no rule; pass --rule ({'|'.join(RULES)})")
    if rule is None:
        try:
            how = meta_rule(named or "")
        except ValueError as exc:
            raise CliError(f"{path}: {exc}; pass --rule ({'|'.join(RULES)})") from None
        rule, ties, completion = how.rule, how.ties, how.completion
    ties = args.ties or ties
    completion = args.completion or completion
    try:
        outcome = count(
            election,
            rule,
            ties=ties,
            completion=completion,
            satisfaction=args.satisfaction,
            threshold=args.threshold,
            irresolute=args.irresolute,
        )
    except ValueError as exc:
        raise CliError(f"{path}: {exc}") from None
    mes = rule in ("mes", "mes-comparison")
    result = {
        "file": str(path),
        "vote_type": election.vote_type,
        "meta_rule": named,
        **outcome.as_dict(),
        "ties": list(ties),
        "completion": completion if mes else None,
        "satisfaction": args.satisfaction if mes else None,
        "warnings": list(election.warnings),
    }
    json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0
