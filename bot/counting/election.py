"""The data a count works on: projects, ballots, an election and its outcome.

Everything here is plain, immutable data with no I/O. Project ids are strings (pabulib ids
such as ``"c12"`` or ``"353"``); costs and budgets are whole currency units (som, zloty).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

VoteType = Literal["approval", "choose-1", "cumulative", "ordinal"]
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
    the projects given points (cumulative, with ``points`` aligned to it). An empty ballot is
    allowed: the voter counts towards the number of voters but supports nothing.
    """

    voter_id: str
    projects: tuple[str, ...]
    points: tuple[int, ...] | None = None
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Election:
    """A participatory-budgeting vote: projects, ballots, the budget and the ballot type.

    ``meta`` keeps the remaining META entries (description, rule, max_length, ...) as text;
    ``budget``, ``vote_type`` and the project and voter counts live in fields instead.
    """

    projects: tuple[Project, ...]
    ballots: tuple[Ballot, ...]
    budget: int
    vote_type: VoteType = "approval"
    meta: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.vote_type not in VOTE_TYPES:
            raise ValueError(f"unknown vote type {self.vote_type!r}")
        if self.budget < 0:
            raise ValueError("budget must not be negative")
        ids = [p.id for p in self.projects]
        if len(set(ids)) != len(ids):
            raise ValueError("project ids must be unique")

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
    budget: int
    spent: int
    votes: Mapping[str, int]
    score: Mapping[str, int]

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready view (what ``civic-bot pb tally`` prints)."""
        return {
            "rule": self.rule,
            "budget": self.budget,
            "spent": self.spent,
            "selected": list(self.selected),
            "votes": dict(self.votes),
            "scores": dict(self.score),
        }
