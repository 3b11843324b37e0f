"""Greedy selection by total support, the rule most cities use, and its variants.

Projects are taken in order of support (highest first; ties in the order given, see
:func:`bot.core.counting.rules.tie_order`) while they fit in what is left of the budget.
``skip=True`` passes over a project that no longer fits and carries on down the list
(pabulib ``greedy``); ``skip=False`` stops at the first such project (pabulib
``greedy-no-skip``); ``poznan=True`` is Poznań's ``greedy-custom``: it stops there too, but
first funds that project if what is left covers at least 80 % of its cost (from reserve
money, so the outcome may cost more than the budget).

Whatever the variant, some projects are passed over without ending the count: those nobody
supported, those whose support is below ``threshold`` (pabulib's
``min_project_score_threshold``: one exactly at it is funded), and those with the
placeholder cost :data:`WITHDRAWN` that pabulib files give a project withdrawn after the vote.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from itertools import groupby

from bot.core.counting.election import id_key
from bot.core.counting.tallies import ranking

# The cost pabulib files give a project excluded after the vote (pabulib's checker calls it
# a sentinel): it never fits, and it does not stop a no-skip count.
WITHDRAWN = 999_999_999

# An irresolute count gives up rather than list more tied outcomes than this.
MAX_TIED = 10_000

Money = int | Fraction


def _eligible(
    costs: Mapping[str, int], support: Mapping[str, Money], threshold: int, order: Sequence[str]
) -> list[str]:
    """``order`` without the projects every variant passes over, by support (stable)."""
    kept = [
        p
        for p in order
        if support.get(p, 0) > 0 and support.get(p, 0) >= threshold and costs[p] != WITHDRAWN
    ]
    return sorted(kept, key=lambda p: -support.get(p, 0))


def _over(left: Money, cost: int) -> bool:
    """Poznań's clause: what is left covers at least 80 % of ``cost``."""
    return left * 5 >= cost * 4


def greedy(
    costs: Mapping[str, int],
    support: Mapping[str, int],
    budget: Money,
    *,
    skip: bool = True,
    poznan: bool = False,
    threshold: int = 0,
    order: Sequence[str] | None = None,
) -> list[str]:
    """The ids of the funded projects, in the order they were taken.

    ``order`` lists every project, ties broken: among equal support, earlier first (default:
    the cheaper, then the lower id).
    """
    if order is None:
        order = ranking(dict.fromkeys(costs, 0), costs)
    selected: list[str] = []
    left = budget
    for project in _eligible(costs, support, threshold, order):
        if costs[project] <= left:
            selected.append(project)
            left -= costs[project]
        elif poznan:
            if _over(left, costs[project]):
                selected.append(project)
            break
        elif not skip:
            break
    return selected


def greedy_tied(
    costs: Mapping[str, int],
    support: Mapping[str, Money],
    budget: Money,
    *,
    skip: bool = True,
    poznan: bool = False,
    threshold: int = 0,
) -> list[tuple[str, ...]]:
    """Every outcome :func:`greedy` gives under some order of the tied projects.

    Within a run of equal support any project may come next; outcomes that only differ in
    the order projects were taken are one; each outcome is sorted by id. ``ValueError``
    past :data:`MAX_TIED` outcomes.
    """
    ids = sorted(costs)
    ranked = _eligible(costs, support, threshold, ids)
    runs = [frozenset(run) for _, run in groupby(ranked, key=lambda p: support.get(p, 0))]
    memo: dict[tuple[int, frozenset[str], Money], frozenset[frozenset[str]]] = {}

    def rest(at: int, pending: frozenset[str], left: Money) -> frozenset[frozenset[str]]:
        while not pending:
            at += 1
            if at >= len(runs):
                return frozenset([frozenset()])
            pending = runs[at]
        key = (at, pending, left)
        found = memo.get(key)
        if found is not None:
            return found
        total = sum(costs[p] for p in pending)
        if total <= left:  # all of the run fits, in any order
            found = frozenset(pending | f for f in rest(at, frozenset(), left - total))
        else:
            outcomes: set[frozenset[str]] = set()
            for p in pending:
                if costs[p] <= left:
                    outcomes.update(f | {p} for f in rest(at, pending - {p}, left - costs[p]))
                elif skip:
                    outcomes.update(rest(at, pending - {p}, left))
                elif poznan and _over(left, costs[p]):
                    outcomes.add(frozenset([p]))
                else:
                    outcomes.add(frozenset())
                if len(outcomes) > MAX_TIED:
                    raise ValueError(f"more than {MAX_TIED} tied outcomes")
            found = frozenset(outcomes)
        memo[key] = found
        return found

    outcomes = (tuple(sorted(f, key=id_key)) for f in rest(-1, frozenset(), budget))
    return sorted(outcomes, key=lambda t: [id_key(p) for p in t])
