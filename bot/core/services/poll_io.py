"""Polls in and out: results CSV, pabulib ``.pb`` export and import, paper-ballot CSV.

A ``.pb`` export carries the anonymous ballots only, of a closed poll: in a canonical
order (not as cast), voter ids 1..n, no voter attributes. An imported ``.pb`` becomes a
poll with its ballots (in the box, linked to nobody), which count like any others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.ballot_kinds import (
    APPROVAL,
    CHOOSE1,
    CUMULATIVE,
    FROM_PB_RULE,
    FROM_PB_VOTE_TYPE,
    PB_RULES,
    RANKED,
    SETS,
    TOTALS,
)
from bot.core.counting import DEFAULT_TIES, PABULIB_RULES, Election, format_pb
from bot.core.phones import InvalidPhone, normalize_phone
from bot.core.rendering.spreadsheet import csv_text
from bot.core.services import audit, poll_results, voting
from bot.core.services.audit import CLI, Actor
from bot.core.services.ballot_text import BallotSyntaxError, BallotText, parse_ballot_text
from bot.core.services.csv_input import ImportRejected, LineError, decode, read_rows, translated
from bot.core.services.errors import Refused, ServiceError
from bot.core.services.municipalities import village_id
from bot.core.services.polls import BALLOT_KEY_MISSING, OptionSpec, create_poll
from storage.models import Municipality, Poll, Resident, StoredBallot
from storage.repos import Repos

THRESHOLD = "min_project_score_threshold"


async def results_csv(
    repos: Repos,
    poll: Poll,
    *,
    now: datetime,
    small_group_min: int = poll_results.SMALL_GROUP_MIN,
    language: str | None = None,
) -> str:
    """Totals per option, then the same per village, gender and age group (no figures
    for a small group); while the poll is open only the turnout. Names in ``language``
    (None: as stored)."""
    results = await poll_results.compute(repos, poll, now=now, small_group_min=small_group_min)
    rows: list[list[object]] = []
    for r in sorted(results.options, key=lambda r: r.option.position):
        rows.append([
            "all", "all", results.ballots, r.option.position, r.option.label,
            r.option.cost if r.option.cost is not None else "", r.votes, r.score,
            int(r.selected),
        ])  # fmt: skip
    labels = {r.option.position: r.option.label for r in results.options}
    for dimension, groups in results.breakdown.items():
        for group, (ballots, scores) in groups.items():
            if scores is None:
                rows.append([dimension, group, ballots, "", "", "", "", "", ""])
                continue
            for position in sorted(scores):
                rows.append(
                    [dimension, group, ballots, position, labels[position], "", "",
                     scores[position], ""]
                )  # fmt: skip
    rows.append(["turnout", "all", results.ballots, "", f"eligible {results.eligible}",
                 "", "", "", ""])  # fmt: skip
    return csv_text(
        ["dimension", "group", "ballots", "option", "label", "cost", "votes", "score", "selected"],
        rows,
        language,
    )


async def export_pb(repos: Repos, municipality: Municipality, poll: Poll, *, now: datetime) -> str:
    if voting.poll_state(poll, now) != "closed":
        raise ServiceError(f"poll {poll.id} is not closed: its ballots stay sealed until then")
    if not repos.polls.sealing:
        raise ServiceError("BALLOT_KEY is not set: the ballots cannot be opened")
    options = await repos.polls.options(poll.id)
    election = poll_results.election_of(poll, options, await repos.polls.ballots(poll.id))
    meta: dict[str, str] = {
        "description": poll.title,
        "country": "Kyrgyzstan",
        "unit": municipality.name,
        "instance": poll.opens_at[:4],
        "currency": "KGS",
        "date_begin": poll.opens_at[:10],
        "date_end": poll.closes_at[:10],
    }
    if poll.rule in PB_RULES:
        meta["rule"] = PB_RULES[poll.rule]
    if poll.threshold:
        meta[THRESHOLD] = str(poll.threshold)
    if poll.ballot_type in SETS:
        meta["max_length"] = str(poll.max_choices)
    if poll.ballot_type == CUMULATIVE:
        meta["max_sum_points"] = str(poll.max_choices)
    return format_pb(
        Election(election.projects, election.ballots, election.budget, election.vote_type, meta)
    )


async def import_pb(
    repos: Repos,
    municipality: Municipality,
    election: Election,
    *,
    opens_at: datetime,
    closes_at: datetime,
    now: datetime,
    actor: Actor = CLI,
) -> Poll:
    """A new poll with the election's projects as options and its ballots as cast."""
    ballot_type = FROM_PB_VOTE_TYPE[election.vote_type]
    named = election.meta.get("rule", "").strip()
    limit = {
        CHOOSE1: 1,
        APPROVAL: int(election.meta.get("max_length") or len(election.projects)),
        RANKED: int(election.meta.get("max_length") or len(election.projects)),
        CUMULATIVE: int(election.meta.get("max_sum_points") or 0)
        or max((sum(b.points or ()) for b in election.ballots), default=1),
    }[ballot_type]
    async with repos.db.transaction():  # the poll with all its ballots, or nothing
        poll = await create_poll(
            repos,
            municipality,
            title=election.meta.get("description", "pabulib import"),
            ballot_type=ballot_type,
            options=[OptionSpec(p.name or p.id, p.cost) for p in election.projects],
            opens_at=opens_at,
            closes_at=closes_at,
            now=now,
            max_choices=limit,
            budget=election.budget or None,
            rule=FROM_PB_RULE.get(named, TOTALS),
            min_age=0,
            imported=True,
            actor=actor,
            # as pabulib's checker counts: Add1 without the exhaustive stop, the META threshold
            completion=("add1-budget" if named.startswith("equal") else "add1"),
            threshold=int(election.meta.get(THRESHOLD, "0").partition(".")[0] or 0),
            # ties as the city broke them (options are numbered in the file's order)
            ties=PABULIB_RULES[named].ties if named in FROM_PB_RULE else DEFAULT_TIES,
        )
        options = {str(n): o.id for n, o in enumerate(await repos.polls.options(poll.id), start=1)}
        by_project = {p.id: options[str(n)] for n, p in enumerate(election.projects, start=1)}
        box = []
        for ballot in election.ballots:
            if ballot.points is not None:
                choices = dict(
                    zip((by_project[p] for p in ballot.projects), ballot.points, strict=True)
                )
            elif ballot_type == RANKED:
                choices = {by_project[p]: rank for rank, p in enumerate(ballot.projects, start=1)}
            else:
                choices = {by_project[p]: 1 for p in ballot.projects}
            box.append(StoredBallot(None, ballot.extra.get("sex") or None, None, choices))
        await repos.polls.add_box_ballots(poll.id, box)
    return poll


@dataclass(frozen=True)
class PaperReport:
    counted: int  # ballots into the box
    marked: int  # voters marked in turnout


#: the columns of a CSV of a poll's options: the label in any of the three languages
OPTION_COLUMNS = (*translated("label"), "cost")


def read_options(data: bytes, default_language: str) -> list[OptionSpec]:
    """A poll's options from CSV, one a line in order: ``label`` and/or ``label_ky``,
    ``label_ru``, ``label_en``; ``cost`` (whole som) optional. Any bad line rejects the
    file."""
    rows, errors = read_rows(decode(data), required=(), optional=OPTION_COLUMNS)
    options: list[OptionSpec] = []
    for row in rows:
        label, cost = row.texts("label", default_language), row["cost"]
        if not label:
            errors.append(LineError(row.line, "an option needs a label"))
        elif cost and not (cost.isascii() and cost.isdecimal()):
            errors.append(LineError(row.line, f"cost must be a whole number of som: {cost!r}"))
        else:
            options.append(OptionSpec(label, int(cost) if cost else None))
    if errors:
        raise ImportRejected(errors)
    return options


async def import_paper_ballots(
    repos: Repos,
    municipality: Municipality,
    poll: Poll,
    data: bytes,
    *,
    now: datetime,
    village: str | None = None,
    actor: Actor = CLI,
) -> PaperReport:
    """Paper votes from CSV; any bad row rejects the whole file. Columns ``phone`` and/or
    ``choices``: a phone is marked as having voted on paper (turnout); choices go into the
    box shuffled, linked to nobody. A file of choices alone is a ballot box counted at a
    polling place (``village``: its village, for the breakdown); it may hold no more
    ballots than paper voters were marked without one."""
    if not repos.polls.sealing:
        raise ServiceError(BALLOT_KEY_MISSING)
    rows, errors = read_rows(decode(data), required=(), optional=("phone", "choices"))
    columns = set().union(*(row.values for row in rows))
    if not columns:
        raise ImportRejected([LineError(1, "expected a column phone and/or choices")])
    options = await repos.polls.options(poll.id)
    voters: list[Resident] = []
    ballots: list[BallotText] = []
    seen: dict[int, int] = {}
    for row in rows:
        try:
            if "choices" in columns:
                ballot = parse_ballot_text(f"#{poll.id} {row['choices']}")
                voting.validate(poll, options, ballot.entries)
                ballots.append(ballot)
            if "phone" in columns:
                resident = await _paper_voter(repos, municipality, poll, row["phone"], now)
                if resident.id in seen:
                    raise ServiceError(f"{resident.phone} already on line {seen[resident.id]}")
                seen[resident.id] = row.line
                voters.append(resident)
        except (BallotSyntaxError, Refused) as exc:  # before ServiceError: Refused is one
            errors.append(LineError(row.line, f"invalid ballot ({exc.code})"))
        except (InvalidPhone, ServiceError) as exc:
            errors.append(LineError(row.line, str(exc)))
    if errors:
        raise ImportRejected(errors)
    try:
        await _enter(repos, municipality, poll, voters, ballots, village, now, actor)
    except Refused as exc:
        raise ServiceError(paper_refusal(exc)) from None
    return PaperReport(len(ballots), len(voters))


async def enter_paper_ballot(
    repos: Repos,
    municipality: Municipality,
    poll: Poll,
    resident: Resident | None,
    ballot: BallotText | None,
    *,
    village: str | None = None,
    now: datetime,
    actor: Actor = CLI,
) -> None:
    """One paper vote typed in by staff: the voter marked (``resident``), the ballot into
    the box (``ballot``, ``village``: the polling place's), or both; raises Refused
    like any ballot."""
    voters = [] if resident is None else [resident]
    await _enter(repos, municipality, poll, voters, [] if ballot is None else [ballot],
                 village, now, actor)  # fmt: skip


async def _enter(
    repos: Repos,
    municipality: Municipality,
    poll: Poll,
    voters: list[Resident],
    ballots: list[BallotText],
    village: str | None,
    now: datetime,
    actor: Actor,
) -> None:
    """Voters marked and/or ballots boxed (one each: together), with the audit row, all
    or nothing."""
    async with repos.db.transaction():
        if voters and ballots:
            pairs = list(zip(voters, ballots, strict=True))
            await voting.cast_paper(repos, municipality, pairs, now=now)
        elif voters:
            await voting.mark_paper(repos, municipality, poll, voters, now=now)
        else:
            electorate = await village_id(repos, municipality, village)
            await voting.box_paper(repos, poll, ballots, village_id=electorate, now=now)
        detail = f"{len(ballots)} ballot(s)" if ballots else f"{len(voters)} voter(s) marked"
        await audit.record(
            repos, poll.municipality_id, actor, "paper ballots entered", now=now,
            object_kind="poll", object_id=poll.id, detail=detail,
        )  # fmt: skip


def paper_refusal(exc: Refused) -> str:
    """A refused paper vote, in one line for staff."""
    if exc.code == "box_overfull":
        return (
            f"the box may take {exc.details['room']} more ballot(s): no more than the paper"
            " voters marked without one"
        )
    return f"ballot refused: {exc.code}"


async def _paper_voter(
    repos: Repos, municipality: Municipality, poll: Poll, raw: str, now: datetime
) -> Resident:
    """The resident a clerk marks as having voted on paper; ServiceError if they may not."""
    phone = normalize_phone(raw)
    resident = await repos.residents.by_phone(municipality.id, phone)
    if resident is None:
        raise ServiceError(f"{phone} is not in the register")
    if not voting.eligible(poll, resident, now):
        raise ServiceError(f"{phone} is not in the electorate")
    before = await repos.polls.turnout_channel(poll.id, resident.id)
    if before is not None:
        raise ServiceError(
            f"{phone} already voted {'on paper' if before == voting.PAPER else 'by phone'}"
        )
    return resident


def describe_state(poll: Poll, now: datetime) -> str:
    return f"{voting.poll_state(poll, now)} ({poll.opens_at[:16]} – {poll.closes_at[:16]} UTC)"


def describe_count(poll: Poll) -> str:
    """How a budget poll counts, e.g. ``counted by greedy-no-skip, ties: votes, cost, id``."""
    how = f"counted by {poll.rule}"
    if poll.rule == "mes":
        how += f" (completion {poll.completion}, satisfaction {poll.satisfaction})"
    if poll.threshold:
        how += f", threshold {poll.threshold}"
    return f"{how}, ties: {', '.join(poll.ties)}"
