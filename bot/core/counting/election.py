"""The data a count works on: projects, ballots, an election and its outcome.

Everything here is plain, immutable data with no I/O. Project ids are strings (pabulib ids
such as ``"c12"`` or ``"353"``); costs are whole currency units (som, zloty) and a budget is
whole or an exact :class:`~fractions.Fraction` (pabulib budgets such as ``1607513.56``):
money is never a float.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal, get_args

VoteType = Literal["approval", "choose-1", "cumulative", "ordinal", "scoring"]
# How ordinal ballots score: "ranking" gives a ranking of L projects L, L-1, ..., 1 points
# (pabulib's ``score`` column); "max_length" gives k, k-1, ... with k = META max_length
# whatever the ranking's length (civic-bot's ranked polls).
BordaKind = Literal["ranking", "max_length"]

Money = int | Fraction

VOTE_TYPES: tuple[str, ...] = get_args(VoteType)

_DIGITS = re.compile(r"(\d+)")


def id_key(project_id: str) -> tuple[object, ...]:
    """Natural sort key for ids: ``"c2"`` before ``"c10"``, ``"47"`` before ``"353"``.

    ``re.split`` with a capturing group alternates text and digit runs, so position i holds
    the same type in every key and the tuples always compare; the raw id breaks the last ties
    (``"01"`` vs ``"1"``).
    """
    parts = _DIGITS.split(project_id)
    return (*(int(p) if i % 2 else p for i, p in enumerate(parts)), project_id)


@dataclass(frozen=True)
class Project:
    """A project on the ballot; ``extra`` keeps any other PROJECTS columns as text."""

    id: str
    cost: int
    name: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.cost < 0:
            raise ValueError(f"project {self.id}: cost must not be negative")


@dataclass(frozen=True)
class Ballot:
    """One voter's ballot.

    ``projects`` is the approval set (approval, choose-1), the ranking best first (ordinal) or
    the projects given points (cumulative and scoring, with ``points`` aligned to it). An
    empty ballot is allowed: the voter counts towards the number of voters but supports
    nothing. A project named twice (some pabulib files do) is kept as written: the ``votes``
    and points totals count it each time, as the files' own columns do, and MES counts it
    once. ``weight`` > 1 stands for that many voters with this ballot (a reader merging
    identical ballots keeps the first voter's id and drops per-voter columns).
    """

    voter_id: str
    projects: tuple[str, ...]
    points: tuple[int, ...] | None = None
    extra: Mapping[str, str] = field(default_factory=dict)
    weight: int = 1

    def __post_init__(self) -> None:
        if self.weight < 1:
            raise ValueError(f"voter {self.voter_id}: ballot weight must be at least 1")


@dataclass(frozen=True)
class Election:
    """A participatory-budgeting vote: projects, ballots, the budget and the ballot type.

    ``meta`` keeps the remaining META entries (description, rule, max_length, ...) as text;
    ``budget``, ``vote_type`` and the project and voter counts live in fields instead.
    ``warnings`` lists what a reader noticed and how it read it (a project named twice in a
    vote, a stray quote, a ``num_votes`` that disagrees, ...); it does not take part in
    equality.
    """

    projects: tuple[Project, ...]
    ballots: tuple[Ballot, ...]
    budget: Money
    vote_type: VoteType = "approval"
    meta: Mapping[str, str] = field(default_factory=dict)
    borda: BordaKind = "ranking"
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if self.vote_type not in VOTE_TYPES:
            raise ValueError(f"unknown vote type {self.vote_type!r}")
        if self.budget < 0:
            raise ValueError("budget must not be negative")
        ids = [p.id for p in self.projects]
        if len(set(ids)) != len(ids):
            raise ValueError("project ids must be unique")

    @property
    def voters(self) -> int:
        """The number of voters (ballots, counted with their weights)."""
        return sum(b.weight for b in self.ballots)

    def project(self, project_id: str) -> Project:
        """The project with this id (``KeyError`` if there is none)."""
        for p in self.projects:
            if p.id == project_id:
                return p
        raise KeyError(project_id)


@dataclass(frozen=True)
class Outcome:
    """The result of a count.

    ``selected`` lists the funded project ids in the order the rule chose them. ``votes`` is
    the number of ballots naming each project; ``score`` is the support the rule ranks by:
    votes (approval, choose-1), points (cumulative) or Borda score (ordinal).
    """

    rule: str
    selected: tuple[str, ...]
    budget: Money
    spent: int
    votes: Mapping[str, int]
    score: Mapping[str, int]
    # Irresolute counts: every outcome some order of the tied projects gives (each sorted by
    # id, the outcomes in id order); empty for a resolute count.
    tied: tuple[tuple[str, ...], ...] = ()

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready view (what ``civic-bot pb tally`` prints); a budget with a
        fractional part is written as its exact decimal text."""
        result: dict[str, object] = {
            "rule": self.rule,
            "budget": money_text(self.budget),
            "spent": self.spent,
            "selected": list(self.selected),
            "votes": dict(self.votes),
            "scores": dict(self.score),
        }
        if self.tied:
            result["tied"] = [list(t) for t in self.tied]
        return result


def money_text(amount: Money) -> int | str:
    """A whole amount as an int, else its exact decimal text (``"1607513.56"``); amounts
    that have no finite decimal as a fraction ``"1/3"``."""
    if isinstance(amount, int) or amount.denominator == 1:
        return int(amount)
    whole, rest = divmod(amount.numerator, amount.denominator)
    for places in range(1, 19):
        scaled = rest * 10**places
        if scaled % amount.denominator == 0:
            return f"{whole}.{scaled // amount.denominator:0{places}d}"
    return str(amount)
