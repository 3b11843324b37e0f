"""``count``: run a budgeting rule on an election, with its options.

Rules (:data:`RULES`):

* ``greedy``: fund by support, passing over what no longer fits;
* ``greedy-no-skip``: stop at the first project that does not fit;
* ``greedy-custom``: Poznań's rule (stop there, but fund that project too if what is left
  covers 80 % of its cost);
* ``mes``: the Method of Equal Shares, with a ``completion`` (:data:`COMPLETIONS`) and a
  ``satisfaction`` (:data:`SATISFACTIONS`);
* ``mes-comparison``: pabulib's ``equalshares/add1-comparison``: MES, then greedy by
  approvals; greedy's outcome is taken if more voters fund more of their approved projects
  under it than under MES, otherwise MES's.

Support is votes (approval, choose-1), points (cumulative, scoring) or the Borda score
(ordinal). A project whose support is below ``threshold`` (default: META
``min_project_score_threshold``) is never funded, under any rule. Ties follow a chain of
:data:`TIE_KEYS`; ``irresolute=True`` (greedy rules, and ``mes`` with any completion) lists
every outcome some way of breaking the ties gives.

:data:`PABULIB_RULES` maps every META ``rule`` value in the pabulib corpus to the options
that reproduce the cities' counts (see ``shared/pabulib-corpus/README.md``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from bot.core.counting.election import Election, Outcome, id_key
from bot.core.counting.greedy import greedy, greedy_tied
from bot.core.counting.mes import equal_shares, equal_shares_tied
from bot.core.counting.tallies import election_scores, election_votes

RULES: tuple[str, ...] = ("greedy", "greedy-no-skip", "greedy-custom", "mes", "mes-comparison")
_GREEDY = ("greedy", "greedy-no-skip", "greedy-custom")

# MES completions: none; add1 (B/n + 1, + 2, ... per voter, stopping at the first exhaustive
# outcome: pabutools' voter_budget_increment=1); add1-budget (pabulib's checker: floor(B/n)
# + 1, + 2, ... without that stop: pabutools' exhaustion_by_budget_increase with
# budget_step=n and exhaustive_stop=False); greedy (MES, then utilitarian greedy); add1u
# (add1, then utilitarian greedy: equalshares.net's default).
COMPLETIONS: tuple[str, ...] = ("add1", "add1-budget", "add1u", "greedy", "none")
SATISFACTIONS: tuple[str, ...] = ("cost", "cardinality")

# Tie-breaking keys, tried in turn: order (as listed in PROJECTS), cost (cheaper first),
# -cost (dearer first), votes (more votes first), -votes (fewer first), id (lower id
# first, natural order). The lower id always ends the chain, so it is total.
TIE_KEYS: tuple[str, ...] = ("order", "cost", "-cost", "votes", "-votes", "id")
DEFAULT_TIES: tuple[str, ...] = ("cost", "id")

THRESHOLD_KEY = "min_project_score_threshold"


@dataclass(frozen=True)
class MetaRule:
    """How to count a pabulib META rule: the rule and the options the city's count used."""

    rule: str
    ties: tuple[str, ...]
    completion: str = "add1"


# pabulib's checker sorts greedy candidates with a stable sort (ties keep their PROJECTS
# order, as the cities counted) and breaks MES ties by lower cost, then more supporters.
_GREEDY_TIES = ("order",)
_MES_TIES = ("cost", "votes", "order")
PABULIB_RULES: dict[str, MetaRule] = {
    "greedy": MetaRule("greedy", _GREEDY_TIES),
    "greedy-threshold": MetaRule("greedy", _GREEDY_TIES),
    # the exclusions are not in the data; pabulib's checker counts it as greedy
    "greedy-exclusive": MetaRule("greedy", _GREEDY_TIES),
    "greedy-no-skip": MetaRule("greedy-no-skip", _GREEDY_TIES),
    "greedy-custom": MetaRule("greedy-custom", _GREEDY_TIES),
    "equalshares/add1": MetaRule("mes", _MES_TIES, "add1-budget"),
    "equalshares/add1-comparison": MetaRule("mes-comparison", _MES_TIES, "add1-budget"),
}


def meta_rule(name: str) -> MetaRule:
    """How to count a pabulib META ``rule`` value (``ValueError`` if unsupported, as
    ``unknown`` is: the file does not say)."""
    try:
        return PABULIB_RULES[name.strip()]
    except KeyError:
        known = ", ".join(PABULIB_RULES)
        raise ValueError(f"unsupported rule {name!r} (supported: {known})") from None


def rule_for_meta(name: str) -> str:
    """The rule name for a pabulib META ``rule`` value (``ValueError`` if unsupported)."""
    return meta_rule(name).rule


def tie_order(
    election: Election, ties: Sequence[str], votes: Mapping[str, int] | None = None
) -> list[str]:
    """Every project id, the one a tie goes to first, by the chain ``ties``."""
    for key in ties:
        if key not in TIE_KEYS:
            raise ValueError(f"unknown tie-breaking key {key!r} (one of: {', '.join(TIE_KEYS)})")
    votes = election_votes(election) if votes is None else votes
    position = {p.id: i for i, p in enumerate(election.projects)}
    cost = {p.id: p.cost for p in election.projects}
    keys = {
        "order": position.__getitem__,
        "cost": cost.__getitem__,
        "-cost": lambda p: -cost[p],
        "votes": lambda p: -votes[p],
        "-votes": votes.__getitem__,
        "id": id_key,
    }
    chain = [keys[k] for k in (*ties, "id")]
    return sorted(position, key=lambda p: tuple(k(p) for k in chain))


def _threshold(election: Election, threshold: int | None) -> int:
    if threshold is not None:
        return threshold
    raw = election.meta.get(THRESHOLD_KEY, "").strip()
    if not raw:
        return 0
    head, _, tail = raw.partition(".")
    if not (head.isascii() and head.isdecimal()) or tail.strip("0"):
        raise ValueError(f"META {THRESHOLD_KEY} must be a whole number, got {raw!r}")
    return int(head)


def _check_ballots(election: Election) -> None:
    known = {p.id for p in election.projects}
    for ballot in election.ballots:
        for project in ballot.projects:
            if project not in known:
                raise ValueError(f"voter {ballot.voter_id} names unknown project {project!r}")


def count(
    election: Election,
    rule: str,
    *,
    ties: Sequence[str] = DEFAULT_TIES,
    completion: str = "add1",
    satisfaction: str = "cost",
    threshold: int | None = None,
    irresolute: bool = False,
) -> Outcome:
    """Count ``election`` with ``rule`` (one of :data:`RULES`; see the module).

    MES takes a ballot as approving the projects it names (with points > 0 for cumulative
    and scoring ballots); its budget is the whole part of a fractional one, as pabulib's
    checker has it (no project cost has a fractional part). The outcome lists the funded
    projects in the order the rule chose them; an irresolute count also lists every tied
    outcome.
    """
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r} (expected one of: {', '.join(RULES)})")
    if completion not in COMPLETIONS:
        raise ValueError(f"unknown completion {completion!r} (one of: {', '.join(COMPLETIONS)})")
    if satisfaction not in SATISFACTIONS:
        known = ", ".join(SATISFACTIONS)
        raise ValueError(f"unknown satisfaction {satisfaction!r} (one of: {known})")
    _check_ballots(election)
    votes = election_votes(election)
    score = votes if election.vote_type in ("approval", "choose-1") else election_scores(election)
    costs = {p.id: p.cost for p in election.projects}
    order = tie_order(election, ties, votes)
    bar = _threshold(election, threshold)
    tied: tuple[tuple[str, ...], ...] = ()
    if rule in _GREEDY:
        skip, poznan = rule == "greedy", rule == "greedy-custom"
        budget = election.budget
        selected = greedy(
            costs, score, budget, skip=skip, poznan=poznan, threshold=bar, order=order
        )
        if irresolute:
            tied = tuple(greedy_tied(costs, score, budget, skip=skip, poznan=poznan, threshold=bar))
    elif irresolute and rule != "mes":
        raise ValueError("an irresolute count is supported for the greedy rules and for mes")
    else:
        approvals = _approvals(election)
        eligible = {p for p in costs if score[p] >= bar}
        selected = _mes(election, approvals, order, eligible, completion, satisfaction)
        if rule == "mes-comparison":
            selected = _compare(election, approvals, selected, order, eligible)
        if irresolute:
            tied = _mes_tied(election, approvals, eligible, completion, satisfaction)
    spent = sum(costs[p] for p in selected)
    return Outcome(rule, tuple(selected), election.budget, spent, votes, score, tied)


def _approvals(election: Election) -> dict[frozenset[str], int]:
    """Distinct approval sets and how many voters have each (points > 0 where there are
    points; a project named twice approved once)."""
    sets: dict[frozenset[str], int] = {}
    for b in election.ballots:
        if b.points is None:
            key = frozenset(b.projects)
        else:
            key = frozenset(p for p, pts in zip(b.projects, b.points, strict=True) if pts > 0)
        sets[key] = sets.get(key, 0) + b.weight
    return sets


def _approval_support(
    election: Election, approvals: Mapping[frozenset[str], int]
) -> dict[str, int]:
    """How many voters approve each project (a project named twice counted once)."""
    support = dict.fromkeys((p.id for p in election.projects), 0)
    for ballot, times in approvals.items():
        for p in ballot:
            support[p] += times
    return support


def _mes(
    election: Election,
    approvals: Mapping[frozenset[str], int],
    order: Sequence[str],
    eligible: set[str],
    completion: str,
    satisfaction: str,
) -> list[str]:
    ids = [p.id for p in election.projects]
    index = {pid: i for i, pid in enumerate(ids)}
    costs = [p.cost for p in election.projects]
    rank = [0] * len(ids)
    for r, pid in enumerate(order):
        rank[index[pid]] = r
    ballots = [[index[p] for p in b if p in eligible] for b in approvals]
    budget = int(election.budget)  # the whole part (costs are whole)
    funded = equal_shares(
        costs,
        ballots,
        budget,
        rank,
        add1=completion in ("add1", "add1-budget", "add1u"),
        weights=list(approvals.values()),
        utility=[1] * len(ids) if satisfaction == "cardinality" else None,
        exhaustive_stop=completion != "add1-budget",
    )
    selected = [ids[i] for i in funded]
    if completion in ("greedy", "add1u"):
        selected += _utilitarian(election, approvals, selected, order, eligible, satisfaction)
    return selected


def _mes_tied(
    election: Election,
    approvals: Mapping[frozenset[str], int],
    eligible: set[str],
    completion: str,
    satisfaction: str,
) -> tuple[tuple[str, ...], ...]:
    """Every outcome of MES with its completion under some way of breaking the ties (of
    each pass, and of the greedy completion)."""
    ids = [p.id for p in election.projects]
    index = {pid: i for i, pid in enumerate(ids)}
    outcomes = equal_shares_tied(
        [p.cost for p in election.projects],
        [[index[p] for p in b if p in eligible] for b in approvals],
        int(election.budget),
        add1=completion in ("add1", "add1-budget", "add1u"),
        exhaustive_stop=completion != "add1-budget",
        weights=list(approvals.values()),
        utility=[1] * len(ids) if satisfaction == "cardinality" else None,
    )
    found = {frozenset(ids[i] for i in f) for f in outcomes}
    if completion in ("greedy", "add1u"):
        found = {
            f | set(added)
            for f in found
            for added in _utilitarian_tied(election, approvals, f, eligible, satisfaction)
        }
    tied = (tuple(sorted(f, key=id_key)) for f in found)
    return tuple(sorted(tied, key=lambda t: [id_key(p) for p in t]))


def _utilitarian_tied(
    election: Election,
    approvals: Mapping[frozenset[str], int],
    selected: frozenset[str],
    eligible: set[str],
    satisfaction: str,
) -> list[tuple[str, ...]]:
    """Every outcome of :func:`_utilitarian` after ``selected`` under some order of ties."""
    costs = {p.id: p.cost for p in election.projects if p.id in eligible and p.id not in selected}
    approved = _approval_support(election, approvals)
    # by approvals, or by approvals per cost (a supported free project is funded by MES)
    per_cost = satisfaction == "cardinality"
    support = {p: Fraction(approved[p], (c or 1) if per_cost else 1) for p, c in costs.items()}
    left = int(election.budget) - sum(p.cost for p in election.projects if p.id in selected)
    return greedy_tied(costs, support, left)


def _utilitarian(
    election: Election,
    approvals: Mapping[frozenset[str], int],
    selected: Sequence[str],
    order: Sequence[str],
    eligible: set[str],
    satisfaction: str,
) -> list[str]:
    """Greedy completion by total satisfaction per cost (pabutools'
    ``greedy_utilitarian_welfare``): by approvals with cost satisfaction, by approvals per
    cost with cardinality satisfaction; what no longer fits is passed over."""
    costs = {p.id: p.cost for p in election.projects}
    support = _approval_support(election, approvals)
    taken = set(selected)
    left = int(election.budget) - sum(costs[p] for p in selected)
    rest = [p for p in order if p in eligible and p not in taken and support[p] > 0]
    if satisfaction == "cost":
        rest.sort(key=lambda p: -support[p])
    else:  # support / cost, highest first; free projects first of all
        rest.sort(key=lambda p: (costs[p] > 0, -Fraction(support[p], costs[p] or 1)))
    added = []
    for p in rest:
        if costs[p] <= left:
            added.append(p)
            left -= costs[p]
    return added


def _compare(
    election: Election,
    approvals: Mapping[frozenset[str], int],
    mes: list[str],
    order: Sequence[str],
    eligible: set[str],
) -> list[str]:
    """pabulib's add1-comparison: greedy by approvals against MES, voter by voter."""
    support = _approval_support(election, approvals)
    costs = {p.id: p.cost for p in election.projects}
    rival = greedy(costs, support, election.budget, order=[p for p in order if p in eligible])
    ours, theirs = set(mes), set(rival)
    better = worse = 0
    for ballot, times in approvals.items():
        a, b = len(ballot & ours), len(ballot & theirs)
        better += times * (b > a)
        worse += times * (a > b)
    return rival if better > worse else mes
