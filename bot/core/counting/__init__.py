"""Ballot counting for participatory budgeting and polls — pure functions, no I/O.

Budgeting: build an :class:`Election` (or read one with :func:`read_pb`) and call
``count(election, rule, ...)`` with ``rule`` in :data:`RULES` (see :mod:`.rules` for the
options: tie-breaking, MES completion and satisfaction, threshold, irresolute counts);
:func:`meta_rule` says how to count a pabulib file's META rule. The :class:`Outcome` lists
the funded project ids in the order they were chosen, with vote and score totals per
project.

Polls: :func:`plurality`, :func:`approval`, :func:`cumulative` and :func:`borda` total bare
ballots of option ids; :func:`ranking` orders options by their totals.
"""

from bot.core.counting.election import (
    VOTE_TYPES,
    Ballot,
    Election,
    Outcome,
    Project,
    VoteType,
    id_key,
)
from bot.core.counting.greedy import greedy
from bot.core.counting.mes import equal_shares
from bot.core.counting.pabulib import PabulibError, format_pb, parse_pb, read_pb
from bot.core.counting.rules import (
    COMPLETIONS,
    DEFAULT_TIES,
    PABULIB_RULES,
    RULES,
    SATISFACTIONS,
    TIE_KEYS,
    MetaRule,
    count,
    meta_rule,
    rule_for_meta,
    tie_order,
)
from bot.core.counting.tallies import (
    approval,
    borda,
    cumulative,
    election_scores,
    election_votes,
    plurality,
    ranking,
)

__all__ = [
    "COMPLETIONS",
    "DEFAULT_TIES",
    "PABULIB_RULES",
    "RULES",
    "SATISFACTIONS",
    "TIE_KEYS",
    "VOTE_TYPES",
    "Ballot",
    "Election",
    "MetaRule",
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
    "meta_rule",
    "parse_pb",
    "plurality",
    "ranking",
    "read_pb",
    "rule_for_meta",
    "tie_order",
]
