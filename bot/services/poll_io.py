"""Polls in and out: results CSV, pabulib ``.pb`` export and import, paper-ballot CSV.

A ``.pb`` export carries the anonymous ballots only (voter ids are sequence numbers);
an imported ``.pb`` becomes a poll with its ballots, which count like any others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.counting import Election, format_pb
from bot.phones import InvalidPhone, normalize_phone
from bot.rendering.spreadsheet import csv_text
from bot.services import audit, poll_results, voting
from bot.services.audit import CLI, Actor
from bot.services.ballot_text import BallotSyntaxError, BallotText, parse_ballot_text
from bot.services.csv_input import ImportRejected, LineError, decode, read_rows
from bot.services.errors import ServiceError
from bot.services.polls import OptionSpec, create_poll
from storage.models import Municipality, Poll, Resident
from storage.repos import Repos

PB_RULES = {"greedy": "greedy", "mes": "equalshares/add1"}
FROM_PB_TYPE = {"choose-1": "choose1", "approval": "approval", "ordinal": "ranked",
                "cumulative": "cumulative"}  # fmt: skip
FROM_PB_RULE = {"greedy": "greedy", "greedy-no-skip": "greedy", "equalshares/add1": "mes"}


async def results_csv(repos: Repos, poll: Poll, *, now: datetime) -> str:
    """Totals per option, then the same per village, gender and age group."""
    results = await poll_results.compute(repos, poll, now=now)
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
    )


async def export_pb(repos: Repos, municipality: Municipality, poll: Poll) -> str:
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
    if poll.ballot_type in ("approval", "ranked"):
        meta["max_length"] = str(poll.max_choices)
    if poll.ballot_type == "cumulative":
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
    ballot_type = FROM_PB_TYPE[election.vote_type]
    limit = {
        "choose1": 1,
        "approval": int(election.meta.get("max_length") or len(election.projects)),
        "ranked": int(election.meta.get("max_length") or len(election.projects)),
        "cumulative": int(election.meta.get("max_sum_points") or 0)
        or max((sum(b.points or ()) for b in election.ballots), default=1),
    }[ballot_type]
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
        rule=FROM_PB_RULE.get(election.meta.get("rule", ""), "totals"),
        min_age=0,
        imported=True,
        actor=actor,
    )
    options = {str(n): o.id for n, o in enumerate(await repos.polls.options(poll.id), start=1)}
    by_project = {p.id: options[str(n)] for n, p in enumerate(election.projects, start=1)}
    async with repos.db.transaction():
        for ballot in election.ballots:
            if ballot.points is not None:
                choices = dict(
                    zip((by_project[p] for p in ballot.projects), ballot.points, strict=True)
                )
            elif ballot_type == "ranked":
                choices = {by_project[p]: rank for rank, p in enumerate(ballot.projects, start=1)}
            else:
                choices = {by_project[p]: 1 for p in ballot.projects}
            await repos.polls.replace_ballot(
                poll.id,
                f"pb:{ballot.voter_id}",
                village_id=None,
                gender=ballot.extra.get("sex") or None,
                age_group=None,
                choices=choices,
            )
    return poll


@dataclass(frozen=True)
class PaperReport:
    counted: int


async def import_paper_ballots(
    repos: Repos,
    municipality: Municipality,
    poll: Poll,
    data: bytes,
    *,
    now: datetime,
    actor: Actor = CLI,
) -> PaperReport:
    """``phone,choices`` rows cast on paper; any bad row rejects the whole file."""
    rows, errors = read_rows(decode(data), required=("phone", "choices"))
    options = await repos.polls.options(poll.id)
    prepared = []
    seen: dict[int, int] = {}
    for row in rows:
        try:
            phone = normalize_phone(row["phone"])
            resident = await repos.residents.by_phone(municipality.id, phone)
            if resident is None:
                raise ServiceError(f"{phone} is not in the register")
            if resident.id in seen:
                raise ServiceError(f"{phone} already on line {seen[resident.id]}")
            ballot = parse_ballot_text(f"#{poll.id} {row['choices']}")
            voting.validate(poll, options, ballot.entries)
            if not voting.eligible(poll, resident, now):
                raise ServiceError(f"{phone} is not in the electorate")
            before = await repos.polls.turnout_channel(poll.id, resident.id)
            if before is not None and before != voting.PAPER:
                raise ServiceError(f"{phone} already voted by phone")
        except (InvalidPhone, ServiceError) as exc:
            errors.append(LineError(row.line, str(exc)))
            continue
        except (BallotSyntaxError, voting.VoteRefused) as exc:
            errors.append(LineError(row.line, f"invalid ballot ({exc.code})"))
            continue
        seen[resident.id] = row.line
        prepared.append((resident, ballot))
    if errors:
        raise ImportRejected(errors)
    async with repos.db.transaction():
        for resident, ballot in prepared:
            await voting.cast(repos, municipality, resident, ballot, channel=voting.PAPER, now=now)
        await _paper_audit(repos, poll, actor, len(prepared), now)
    return PaperReport(len(prepared))


async def enter_paper_ballot(
    repos: Repos,
    municipality: Municipality,
    poll: Poll,
    resident: Resident,
    ballot: BallotText,
    *,
    now: datetime,
    actor: Actor = CLI,
) -> None:
    """One paper ballot, typed in by staff (raises VoteRefused like any ballot)."""
    async with repos.db.transaction():
        await voting.cast(repos, municipality, resident, ballot, channel=voting.PAPER, now=now)
        await _paper_audit(repos, poll, actor, 1, now)


async def _paper_audit(repos: Repos, poll: Poll, actor: Actor, count: int, now: datetime) -> None:
    """Paper ballots entered: how many, never whose or which choice."""
    await audit.record(
        repos, poll.municipality_id, actor, "paper ballots entered", now=now,
        object_kind="poll", object_id=poll.id, detail=f"{count} ballot(s)",
    )  # fmt: skip


def describe_state(poll: Poll, now: datetime) -> str:
    return f"{voting.poll_state(poll, now)} ({poll.opens_at[:16]} – {poll.closes_at[:16]} UTC)"
