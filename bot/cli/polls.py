"""``civic-bot poll ...``: create polls, enter paper ballots, results, pabulib in and out."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from bot.cli.common import (
    Call,
    add_municipality_option,
    add_staff_option,
    add_translated_option,
    async_handler,
    local_time,
    run_action,
    translated_values,
    write_export,
)
from bot.cli.errors import CliError
from bot.cli.pb import TIES_HELP, tie_chain
from bot.core.ballot_kinds import BALLOT_TYPES, CUMULATIVE, FROM_PB_VOTE_TYPE, RULES
from bot.core.counting import COMPLETIONS, DEFAULT_TIES, SATISFACTIONS, PabulibError, parse_pb
from bot.core.languages import LANGUAGES
from bot.core.phones import InvalidPhone, normalize_phone
from bot.core.rendering.templates import Renderer
from bot.core.services import poll_io, poll_results, voting
from bot.core.services.ballot_text import BallotSyntaxError, parse_ballot_text
from bot.core.services.csv_input import ImportRejected
from bot.core.services.errors import Refused
from bot.core.services.poll_jobs import publish_results
from bot.core.services.polls import (
    BALLOT_KEY_MISSING,
    OptionSpec,
    create_poll,
    get_poll,
)
from storage.models import Resident

CREATE_HELP = """\
Options: --option LABEL or --option LABEL=COST (som), repeated (in other languages
--option-ky, --option-ru, --option-en: the n-th of each names the n-th option), or
--options-csv FILE (columns label or label_ky,label_ru,label_en; cost optional), and/or
--problem ID or --problem ID=COST (an approved problem). The title likewise: --title
and/or --title-ky, --title-ru, --title-en. Ballots: choose1; approval (--max K);
ranked (--max K: top-K, Borda points); cumulative (--points N).
Times are local (TIMEZONE), e.g. '2026-12-01 09:00'.
Rules: totals (most votes/points), borda, and the budget rules (need --budget and costs):
greedy (fund by score, passing over what no longer fits), greedy-no-skip (stop at the
first option that does not fit), greedy-custom (Poznan: stop there, but fund that option
too if what is left covers 80%% of its cost) and mes. The budget rules fund no option
scoring below --threshold and break ties by --ties (default cost,id: the cheaper, then
the lower number); mes uses --completion (add1, add1-budget, add1u, greedy or none) and
--satisfaction (cost or cardinality)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("poll", help="polls: create, ballots, results, pabulib")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser(
        "create",
        help="create a poll",
        description=CREATE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_translated_option(create, "title", "the poll's title")
    create.add_argument("--type", required=True, choices=BALLOT_TYPES, dest="ballot_type")
    add_translated_option(create, "option", "an option: LABEL or LABEL=COST", repeat=True)
    create.add_argument("--options-csv", type=Path, metavar="FILE", help="options from a CSV")
    create.add_argument("--problem", action="append", default=[], metavar="ID[=COST]")
    create.add_argument("--max", type=int, help="approval: at most K; ranked: top K")
    create.add_argument("--points", type=int, help="cumulative: N points to spend")
    create.add_argument("--opens", help="local date and time (default: now)")
    create.add_argument("--closes", required=True, help="local date and time")
    create.add_argument("--village", help="only residents of this village vote")
    create.add_argument("--min-age", type=int, default=18)
    create.add_argument("--budget", type=int, help="som, for the budget rules")
    create.add_argument("--rule", choices=RULES)
    create.add_argument(
        "--completion",
        choices=COMPLETIONS,
        default="add1",
        help="mes: how the leftover money is used (default add1)",
    )
    create.add_argument(
        "--satisfaction",
        choices=SATISFACTIONS,
        default="cost",
        help="mes: what an option is worth to its supporters (default cost)",
    )
    create.add_argument(
        "--threshold",
        type=int,
        default=0,
        help="budget rules: the least score an option needs to be funded (default 0)",
    )
    create.add_argument(
        "--ties",
        type=tie_chain,
        default=DEFAULT_TIES,
        help=f"budget rules: {TIES_HELP}",
    )
    create.add_argument("--fixed", action="store_true", help="a ballot cannot be changed")
    actions.add_parser("list", help="list polls")
    for name, text in (
        ("show", "turnout; totals once closed (never who chose what)"),
        ("publish", "publish the results to the electorate (after closing)"),
    ):
        sub = actions.add_parser(name, help=text)
        sub.add_argument("id", type=int)
    ballot = actions.add_parser(
        "ballot",
        help="a paper vote: --phone marks the voter (turnout), --choices puts a ballot in the"
        " box (linked to nobody); both: the two at once",
    )
    ballot.add_argument("id", type=int)
    ballot.add_argument("--phone")
    ballot.add_argument("--choices", help="as by SMS, e.g. '1 4 5' or '1:6 2:4'")
    paper = actions.add_parser(
        "import-ballots",
        help="paper votes from CSV: phone,choices; phone alone (voters marked); choices alone"
        " (a ballot box counted)",
    )
    paper.add_argument("id", type=int)
    paper.add_argument("file", type=Path)
    for sub in (ballot, paper):
        sub.add_argument("--village", help="the polling place's village, for box ballots")
    export = actions.add_parser(
        "export", help="results CSV (turnout while open), or the closed poll's ballots as .pb"
    )
    export.add_argument("id", type=int)
    export.add_argument("--format", choices=["csv", "pb"], default="csv")
    export.add_argument("--output", type=Path, help="file (default: standard output)")
    imported = actions.add_parser("import-pb", help="a pabulib .pb file as a poll with ballots")
    imported.add_argument("file", type=Path)
    imported.add_argument("--opens", required=True)
    imported.add_argument("--closes", required=True)
    for name, sub in actions.choices.items():
        add_municipality_option(sub)
        if name not in ("list", "show", "export"):
            add_staff_option(sub)
        sub.set_defaults(handler=_poll)


def _with_cost(raw: str) -> tuple[str, int | None]:
    """``LABEL=COST`` or ``LABEL`` → (label, cost in som or None)."""
    label, _, cost = raw.rpartition("=") if "=" in raw else (raw, "", "")
    if cost and not (cost.strip().isascii() and cost.strip().isdecimal()):
        raise CliError(f"cost must be a whole number of som: {raw!r}")
    return label.strip(), int(cost) if cost else None


def _options(args: argparse.Namespace, default_language: str) -> list[OptionSpec]:
    """``--option`` (and its -ky/-ru/-en versions), then ``--options-csv``, then
    ``--problem``: the poll's options in that order."""
    labels = argparse.Namespace(**vars(args))
    costs: dict[int, set[int]] = {}  # the n-th option's cost, as each language gave it
    for flag in ("option", *(f"option_{lang}" for lang in LANGUAGES)):
        if getattr(args, flag) is None:
            continue
        split = [_with_cost(raw) for raw in getattr(args, flag)]
        setattr(labels, flag, [label for label, _ in split])
        for n, (_, cost) in enumerate(split):
            if cost is not None:
                costs.setdefault(n, set()).add(cost)
    named = translated_values(labels, "option", default_language, required=False)
    options = []
    for n, label in enumerate(named):
        cost = costs.get(n, set())
        if len(cost) > 1:
            raise CliError(f"option {n + 1} has different costs in its languages")
        options.append(OptionSpec(label, min(cost, default=None)))
    if args.options_csv is not None:
        try:
            options += poll_io.read_options(_read(args.options_csv), default_language)
        except ImportRejected as rejected:
            for error in rejected.errors:
                print(f"{args.options_csv}: {error}", file=sys.stderr)
            raise CliError(str(rejected)) from None
    for raw in args.problem:
        problem, cost = _with_cost(raw)
        if not (problem.isascii() and problem.isdecimal()):
            raise CliError(f"--problem takes a problem number, not {problem!r}")
        options.append(OptionSpec("", cost, int(problem)))
    return options


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None


@async_handler
async def _poll(args: argparse.Namespace) -> int:
    return await run_action(args, ACTIONS, Call)


async def _create(c: Call) -> None:
    args = c.args
    limit = args.points if args.ballot_type == CUMULATIVE else args.max
    poll = await create_poll(
        c.repos,
        c.municipality,
        title=translated_values(args, "title", c.municipality.default_language)[0],
        ballot_type=args.ballot_type,
        options=_options(args, c.municipality.default_language),
        max_choices=limit,
        opens_at=local_time(args.opens, c.config) if args.opens else c.now,
        closes_at=local_time(args.closes, c.config),
        now=c.now,
        village=args.village,
        min_age=args.min_age,
        budget=args.budget,
        rule=args.rule,
        changeable=not args.fixed,
        actor=await c.actor(),
        completion=args.completion,
        satisfaction=args.satisfaction,
        threshold=args.threshold,
        ties=args.ties,
    )
    print(f"poll {poll.id} created: {poll_io.describe_state(poll, c.now)}")


async def _list(c: Call) -> None:
    for poll in await c.repos.polls.all(c.municipality.id):
        turnout = await c.repos.polls.turnout_count(poll.id)
        print(f"{poll.id}\t{voting.poll_state(poll, c.now)}\t{turnout}\t{poll.title}")


async def _show(c: Call) -> None:
    poll = await get_poll(c.repos, c.municipality, c.args.id)
    results = await poll_results.compute(
        c.repos, poll, now=c.now, small_group_min=c.config.small_group_min
    )
    print(f"poll {poll.id}: {poll.title} — {poll_io.describe_state(poll, c.now)}")
    print(
        f"ballots {results.ballots} of {results.eligible} eligible ({results.turnout_percent:.1f}%)"
    )
    if results.sealed:
        print("secret ballot: results per option when the poll has closed")
    elif results.spent is not None:
        print(f"{poll_io.describe_count(poll)}; spent {results.spent} of {poll.budget} som")
    for r in results.options:
        mark = "*" if r.selected else " "
        print(f"{mark} {r.option.position}. {r.option.label}: {r.score} ({r.votes} ballots)")


async def _publish(c: Call) -> None:
    poll = await get_poll(c.repos, c.municipality, c.args.id)
    if voting.poll_state(poll, c.now) != "closed":
        raise CliError(f"poll {poll.id} has not closed yet")
    queued = await publish_results(
        c.repos, Renderer(c.config.tz), poll, now=c.now, actor=await c.actor()
    )
    print(f"poll {poll.id}: results queued to {queued} resident(s)")


async def _ballot(c: Call) -> None:
    poll = await get_poll(c.repos, c.municipality, c.args.id)
    if not c.repos.polls.sealing:
        raise CliError(BALLOT_KEY_MISSING)
    if not (c.args.phone or c.args.choices):
        raise CliError("give --phone (the voter), --choices (the ballot) or both")
    try:
        ballot = parse_ballot_text(f"#{poll.id} {c.args.choices}") if c.args.choices else None
        resident = await _resident(c, c.args.phone) if c.args.phone else None
        await poll_io.enter_paper_ballot(
            c.repos, c.municipality, poll, resident, ballot, village=c.args.village, now=c.now,
            actor=await c.actor(),
        )  # fmt: skip
    except (BallotSyntaxError, Refused) as exc:
        refusal = poll_io.paper_refusal(exc) if isinstance(exc, Refused) else None
        raise CliError(refusal or f"ballot refused: {exc.code}") from None
    if resident and ballot:
        print(f"poll {poll.id}: paper ballot counted")
    elif resident:
        print(f"poll {poll.id}: marked as voted on paper")
    else:
        print(f"poll {poll.id}: paper ballot put in the box")


async def _resident(c: Call, raw: str) -> Resident:
    try:
        phone = normalize_phone(raw)
    except InvalidPhone as exc:
        raise CliError(str(exc)) from None
    resident = await c.repos.residents.by_phone(c.municipality.id, phone)
    if resident is None:
        raise CliError(f"{phone} is not in the register")
    return resident


async def _import_ballots(c: Call) -> None:
    poll = await get_poll(c.repos, c.municipality, c.args.id)
    try:
        report = await poll_io.import_paper_ballots(
            c.repos,
            c.municipality,
            poll,
            _read(c.args.file),
            now=c.now,
            village=c.args.village,
            actor=await c.actor(),
        )
    except ImportRejected as rejected:
        for error in rejected.errors:
            print(f"{c.args.file}: {error}", file=sys.stderr)
        raise CliError(str(rejected)) from None
    if report.counted:
        print(f"poll {poll.id}: {report.counted} paper ballot(s) counted")
    else:
        print(f"poll {poll.id}: {report.marked} paper voter(s) marked")


async def _export(c: Call) -> None:
    poll = await get_poll(c.repos, c.municipality, c.args.id)
    if c.args.format == "csv":
        text = await poll_io.results_csv(
            c.repos, poll, now=c.now, small_group_min=c.config.small_group_min
        )
    else:
        text = await poll_io.export_pb(c.repos, c.municipality, poll, now=c.now)
    write_export(text, c.args.output)


async def _import_pb(c: Call) -> None:
    try:
        election = parse_pb(_read(c.args.file).decode("utf-8"))
    except (PabulibError, UnicodeDecodeError) as exc:
        raise CliError(f"{c.args.file}: {exc}") from None
    if election.vote_type not in FROM_PB_VOTE_TYPE:
        raise CliError(
            f"{c.args.file}: {election.vote_type} ballots cannot be a poll "
            f"(polls are {', '.join(FROM_PB_VOTE_TYPE)})"
        )
    # Poll budgets are whole som. Costs are whole, so a set of projects fits a budget with a
    # fractional part exactly when it fits its whole part (pabulib's checker floors it too).
    election = replace(election, budget=int(election.budget))
    poll = await poll_io.import_pb(
        c.repos,
        c.municipality,
        election,
        opens_at=local_time(c.args.opens, c.config),
        closes_at=local_time(c.args.closes, c.config),
        now=c.now,
        actor=await c.actor(),
    )
    print(f"poll {poll.id} imported with {len(election.ballots)} ballot(s)")


ACTIONS = {
    "create": _create,
    "list": _list,
    "show": _show,
    "publish": _publish,
    "ballot": _ballot,
    "import_ballots": _import_ballots,
    "export": _export,
    "import_pb": _import_pb,
}
