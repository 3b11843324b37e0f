"""Results of a poll: totals or scores, winners by the poll's rule, turnout, breakdowns.

Counting itself is :mod:`bot.core.counting` (pure); this module turns stored anonymous
ballots into an :class:`~bot.core.counting.Election` and back into what staff and voters
see. Only totals leave here — never a single ballot.

A secret poll shows nobody anything per option while it is open (only turnout): two
looks at running totals would tell where one new vote went. After closing, a breakdown
(village, gender, age group) gives no figures for a group of fewer than
``SMALL_GROUP_MIN`` voters, nor for groups whose figures the total minus the shown groups
would give (see :func:`suppressed`). Every poll is a secret ballot.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.core.ballot_kinds import BUDGET_RULES, CUMULATIVE, PB_VOTE_TYPES, RANKED
from bot.core.counting import Ballot, Election, Project, count, election_scores, election_votes
from bot.core.services.errors import ServiceError
from bot.core.services.voting import AGE_GROUPS, poll_state
from storage.models import Poll, PollOption, StoredBallot
from storage.repos import Repos

DIMENSIONS = ("village", "gender", "age_group")
#: the default of the SMALL_GROUP_MIN setting
SMALL_GROUP_MIN = 5


@dataclass(frozen=True)
class OptionResult:
    option: PollOption
    votes: int  # ballots naming the option
    score: int  # votes, points or Borda score, by ballot type
    selected: bool


@dataclass(frozen=True)
class PollResults:
    poll: Poll
    options: list[OptionResult]  # best first; none while the poll is open
    ballots: int  # while open: the turnout
    eligible: int
    spent: int | None
    #: dimension -> group -> (ballots, option position -> score); the scores are None
    #: for a group too small to show
    breakdown: dict[str, dict[str, tuple[int, dict[int, int] | None]]]
    #: the poll is open (or not yet): no figures per option
    sealed: bool = False

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
    for n, ballot in enumerate(ballots, start=1):
        chosen = sorted(ballot.choices.items(), key=lambda item: (item[1], item[0]))
        if poll.ballot_type == RANKED:  # weight is the rank: first choice first
            converted.append(Ballot(str(n), tuple(position[o] for o, _ in chosen)))
        elif poll.ballot_type == CUMULATIVE:
            converted.append(
                Ballot(str(n), tuple(position[o] for o, _ in chosen), tuple(w for _, w in chosen))
            )
        else:
            converted.append(Ballot(str(n), tuple(position[o] for o, _ in chosen)))
    return Election(
        projects=tuple(Project(str(o.position), o.cost or 0, o.label) for o in options),
        ballots=tuple(converted),
        budget=poll.budget or 0,
        vote_type=PB_VOTE_TYPES[poll.ballot_type],  # type: ignore[arg-type]
        meta={"max_length": str(poll.max_choices)},
        borda="max_length",
    )


async def compute(
    repos: Repos, poll: Poll, *, now: datetime, small_group_min: int = SMALL_GROUP_MIN
) -> PollResults:
    """The results; while the poll is open only its turnout (``sealed``)."""
    born = now.year - poll.min_age
    if poll_state(poll, now) != "closed":
        return PollResults(
            poll=poll,
            options=[],
            ballots=await repos.polls.turnout_count(poll.id),
            eligible=await repos.polls.eligible_count(poll, born_before_or_in=born),
            spent=None,
            breakdown={},
            sealed=True,
        )
    if not repos.polls.sealing:
        raise ServiceError("BALLOT_KEY is not set: the ballots cannot be counted")
    options = await repos.polls.options(poll.id)
    ballots = await repos.polls.ballots(poll.id)
    election = election_of(poll, options, ballots)
    votes = election_votes(election)
    scores = election_scores(election)
    spent = None
    if poll.rule in BUDGET_RULES:
        outcome = count(
            election,
            poll.rule,
            ties=poll.ties,
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
        eligible=await repos.polls.eligible_count(poll, born_before_or_in=born),
        spent=spent,
        breakdown=_breakdown(poll, options, ballots, villages, small_group_min),
    )


def suppressed(sizes: dict[str, int], minimum: int) -> set[str]:
    """The groups to show no figures for: those under ``minimum`` voters, and while these
    add up to fewer than ``minimum`` (a group of one would be the total minus the others),
    the smallest of the rest as well."""
    hidden = {name for name, size in sizes.items() if size < minimum}
    rest = sorted((size, name) for name, size in sizes.items() if name not in hidden)
    while hidden and sum(sizes[name] for name in hidden) < minimum and rest:
        hidden.add(rest.pop(0)[1])
    return hidden


def _breakdown(
    poll: Poll,
    options: list[PollOption],
    ballots: list[StoredBallot],
    villages: dict[int, str],
    minimum: int,
) -> dict[str, dict[str, tuple[int, dict[int, int] | None]]]:
    def group_of(ballot: StoredBallot, dimension: str) -> str:
        if dimension == "village":
            return villages.get(ballot.village_id or 0, "?")
        value = ballot.gender if dimension == "gender" else ballot.age_group
        return value or "?"

    order = {"age_group": [name for _, _, name in AGE_GROUPS]}
    result: dict[str, dict[str, tuple[int, dict[int, int] | None]]] = {}
    for dimension in DIMENSIONS:
        groups: dict[str, list[StoredBallot]] = {}
        for ballot in ballots:
            groups.setdefault(group_of(ballot, dimension), []).append(ballot)
        hidden = suppressed({name: len(group) for name, group in groups.items()}, minimum)
        known = order.get(dimension, sorted(groups))
        result[dimension] = {
            name: (
                len(groups[name]),
                None
                if name in hidden
                else {
                    int(k): v
                    for k, v in election_scores(election_of(poll, options, groups[name])).items()
                },
            )
            for name in [*known, *sorted(set(groups) - set(known))]
            if name in groups
        }
    return result
