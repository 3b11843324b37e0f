"""Ballot counting for participatory budgeting and polls — pure functions, no I/O.

Budgeting: build an :class:`Election` (or read one with :func:`read_pb`) and call
``count(election, rule)`` with ``rule`` in ``"greedy"``, ``"greedy-no-skip"`` or ``"mes"``;
the :class:`Outcome` lists the funded project ids in the order they were chosen, with vote
and score totals per project.

Polls: :func:`plurality`, :func:`approval`, :func:`cumulative` and :func:`borda` total bare
ballots of option ids; :func:`ranking` orders options by their totals.
"""

from bot.counting.election import VOTE_TYPES, Ballot, Election, Outcome, Project, VoteType, id_key
from bot.counting.greedy import greedy
from bot.counting.mes import equal_shares
from bot.counting.pabulib import PabulibError, format_pb, parse_pb, read_pb
from bot.counting.rules import PABULIB_RULES, RULES, count, rule_for_meta
from bot.counting.tallies import (
    approval,
    borda,
    cumulative,
    election_scores,
    election_votes,
    plurality,
    ranking,
)

__all__ = [
    "PABULIB_RULES",
    "RULES",
    "VOTE_TYPES",
    "Ballot",
    "Election",
    "Outcome",
    "PabulibError",
    "Project",
    "VoteType",
    "approval",
    "borda",
    "count",
    "cumulative",
    "election_scores",
    "election_votes",
    "equal_shares",
    "format_pb",
    "greedy",
    "id_key",
    "parse_pb",
    "plurality",
    "ranking",
    "read_pb",
    "rule_for_meta",
]
