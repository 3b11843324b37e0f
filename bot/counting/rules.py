"""``count``: run a budgeting rule on an election."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from bot.counting.election import Election, Outcome, id_key
from bot.counting.greedy import greedy
from bot.counting.mes import equal_shares
from bot.counting.tallies import election_scores, election_votes

RULES: tuple[str, ...] = ("greedy", "greedy-no-skip", "mes")

# pabulib META ``rule`` values this module reproduces, and the rule that does it.
PABULIB_RULES: dict[str, str] = {
    "greedy": "greedy",
    "greedy-no-skip": "greedy-no-skip",
    "equalshares/add1": "mes",
}


def rule_for_meta(meta_rule: str) -> str:
    """The rule name for a pabulib META ``rule`` value (``ValueError`` if unsupported)."""
    try:
        return PABULIB_RULES[meta_rule.strip()]
    except KeyError:
        known = ", ".join(PABULIB_RULES)
        raise ValueError(f"unsupported rule {meta_rule!r} (supported: {known})") from None


def _check_ballots(election: Election, named: Iterable[tuple[str, ...]]) -> None:
    known = {p.id for p in election.projects}
    if all(map(known.issuperset, named)):
        return
    for ballot in election.ballots:
        for project in ballot.projects:
            if project not in known:
                raise ValueError(f"voter {ballot.voter_id} names unknown project {project!r}")


def count(election: Election, rule: str) -> Outcome:
    """Count ``election`` with ``rule`` (one of :data:`RULES`).

    ``greedy`` and ``greedy-no-skip`` rank projects by score (votes, points or Borda score,
    by ballot type); ``mes`` is the Method of Equal Shares with cost utilities and Add1
    completion, where any ballot approves the projects it names (with points > 0 for
    cumulative ballots). Ties go to the cheaper project, then the lower id. The outcome lists
    the funded projects in the order the rule chose them.
    """
    # MES works on the distinct ballots (a city's thousands hold a few hundred), and so do
    # the ballot check and the votes then.
    named = Counter(b.projects for b in election.ballots) if rule == "mes" else None
    _check_ballots(election, named or (b.projects for b in election.ballots))
    votes = election_votes(election, named)
    score = votes if election.vote_type in ("approval", "choose-1") else election_scores(election)
    costs = {p.id: p.cost for p in election.projects}
    if rule in ("greedy", "greedy-no-skip"):
        selected = greedy(costs, score, election.budget, skip=rule == "greedy")
    elif rule == "mes":
        selected = _mes(election, named or Counter())
    else:
        raise ValueError(f"unknown rule {rule!r} (expected one of: {', '.join(RULES)})")
    spent = sum(costs[p] for p in selected)
    return Outcome(rule, tuple(selected), election.budget, spent, votes, score)


def _mes(election: Election, named: Counter[tuple[str, ...]]) -> list[str]:
    ids = [p.id for p in election.projects]
    index = {pid: i for i, pid in enumerate(ids)}
    costs = [p.cost for p in election.projects]
    rank = [0] * len(ids)
    for r, i in enumerate(sorted(range(len(ids)), key=lambda i: (costs[i], id_key(ids[i])))):
        rank[i] = r
    if election.vote_type == "cumulative":  # only projects given points count
        named = Counter(
            tuple(p for p, pts in zip(b.projects, b.points, strict=True) if pts > 0)
            if b.points is not None
            else b.projects
            for b in election.ballots
        )
    ballots = [[index[p] for p in b] for b in named]
    funded = equal_shares(costs, ballots, election.budget, rank, weights=list(named.values()))
    return [ids[i] for i in funded]
