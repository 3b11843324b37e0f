"""Results of a poll: totals or scores, winners by the poll's rule, turnout, breakdowns.

Counting itself is :mod:`bot.counting` (pure); this module turns stored anonymous
ballots into an :class:`~bot.counting.Election` and back into what staff and voters
see. Only totals leave here — never a single ballot.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.counting import Ballot, Election, Project, count, election_scores, election_votes
from bot.services.voting import AGE_GROUPS
from storage.models import Poll, PollOption, StoredBallot
from storage.repos import Repos

VOTE_TYPES = {
    "choose1": "choose-1",
    "approval": "approval",
    "ranked": "ordinal",
    "cumulative": "cumulative",
}
DIMENSIONS = ("village", "gender", "age_group")


@dataclass(frozen=True)
class OptionResult:
    option: PollOption
    votes: int  # ballots naming the option
    score: int  # votes, points or Borda score, by ballot type
    selected: bool


@dataclass(frozen=True)
class PollResults:
    poll: Poll
    options: list[OptionResult]  # best first
    ballots: int
    eligible: int
    spent: int | None
    #: dimension -> group -> (ballots, option position -> score)
    breakdown: dict[str, dict[str, tuple[int, dict[int, int]]]]

    @property
    def winners(self) -> list[OptionResult]:
        return [result for result in self.options if result.selected]

    @property
    def turnout_percent(self) -> float:
        return 100.0 * self.ballots / self.eligible if self.eligible else 0.0


def election_of(poll: Poll, options: list[PollOption], ballots: Iterable[StoredBallot]) -> Election:
    """A poll as a counting-module election; project ids are the option numbers."""
    position = {option.id: str(option.position) for option in options}
    converted = []
    for n, ballot in enumerate(ballots):
        chosen = sorted(ballot.choices.items(), key=lambda item: (item[1], item[0]))
        if poll.ballot_type == "ranked":  # weight is the rank: first choice first
            converted.append(Ballot(str(n), tuple(position[o] for o, _ in chosen)))
        elif poll.ballot_type == "cumulative":
            converted.append(
                Ballot(str(n), tuple(position[o] for o, _ in chosen), tuple(w for _, w in chosen))
            )
        else:
            converted.append(Ballot(str(n), tuple(position[o] for o, _ in chosen)))
    return Election(
        projects=tuple(Project(str(o.position), o.cost or 0, o.label) for o in options),
        ballots=tuple(converted),
        budget=poll.budget or 0,
        vote_type=VOTE_TYPES[poll.ballot_type],  # type: ignore[arg-type]
        meta={"max_length": str(poll.max_choices)},
        borda="max_length",
    )


async def compute(repos: Repos, poll: Poll, *, now: datetime) -> PollResults:
    options = await repos.polls.options(poll.id)
    ballots = await repos.polls.ballots(poll.id)
    election = election_of(poll, options, ballots)
    votes = election_votes(election)
    scores = election_scores(election)
    spent = None
    if poll.rule in ("greedy", "mes"):
        outcome = count(
            election,
            poll.rule,
            completion=poll.completion,
            satisfaction=poll.satisfaction,
            threshold=poll.threshold,
        )
        selected = set(outcome.selected)
        spent = outcome.spent
    else:
        best = max(scores.values(), default=0)
        selected = {pid for pid, score in scores.items() if best > 0 and score == best}
    results = sorted(
        (
            OptionResult(
                o, votes[str(o.position)], scores[str(o.position)], str(o.position) in selected
            )
            for o in options
        ),
        key=lambda r: (-r.score, r.option.position),
    )
    villages = {v.id: v.name for v in await repos.municipalities.villages(poll.municipality_id)}
    return PollResults(
        poll=poll,
        options=results,
        ballots=len(ballots),
        eligible=await repos.polls.eligible_count(poll, born_before_or_in=now.year - poll.min_age),
        spent=spent,
        breakdown=_breakdown(poll, options, ballots, villages),
    )


def _breakdown(
    poll: Poll, options: list[PollOption], ballots: list[StoredBallot], villages: dict[int, str]
) -> dict[str, dict[str, tuple[int, dict[int, int]]]]:
    def group_of(ballot: StoredBallot, dimension: str) -> str:
        if dimension == "village":
            return villages.get(ballot.village_id or 0, "?")
        value = ballot.gender if dimension == "gender" else ballot.age_group
        return value or "?"

    order = {"age_group": [name for _, _, name in AGE_GROUPS]}
    result: dict[str, dict[str, tuple[int, dict[int, int]]]] = {}
    for dimension in DIMENSIONS:
        groups: dict[str, list[StoredBallot]] = {}
        for ballot in ballots:
            groups.setdefault(group_of(ballot, dimension), []).append(ballot)
        known = order.get(dimension, sorted(groups))
        result[dimension] = {
            name: (
                len(groups[name]),
                {
                    int(k): v
                    for k, v in election_scores(election_of(poll, options, groups[name])).items()
                },
            )
            for name in [*known, *sorted(set(groups) - set(known))]
            if name in groups
        }
    return result
