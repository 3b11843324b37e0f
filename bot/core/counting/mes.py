"""The Method of Equal Shares (MES) with cost utilities and Add1 completion, exact and fast.

Definitions follow pabutools and equalshares.net. Each of the ``n`` voters gets ``B / n``; a
voter's utility for a project she approves is its cost. A project costing ``c`` is affordable
if its supporters hold at least ``c`` between them; it then costs ``rho`` per unit of utility,
the least ``rho`` with ``sum(min(budget_i, rho * c)) == c`` over its supporters. Each round
funds the affordable project with the least ``rho`` (ties: lower ``rank``), and each
supporter pays ``min(budget_i, rho * c)``; the pass ends when nothing is affordable.
Add1 reruns the pass with ``B / n + 1``, ``B / n + 2``, ... per voter while the outcome is
within ``B`` and not exhaustive (some supported project still fits), and keeps the last
outcome within ``B``. Supported zero-cost projects are funded up front; unsupported
projects never are, and do not count when judging exhaustiveness.

How it stays exact and fast (pabutools uses fractions, voter by voter, pass by pass):

* Voters share budgets by class (:mod:`.mes_classes`); a round looks at classes, not voters.
* Money is kept as integer numerators over one common denominator (a product of supporter
  counts), so every decision is an exact integer comparison. Floats only order candidates
  and guess where to look; no float ever decides.
* Candidates are looked at lazily: ``rho`` of a project only grows during a pass, so an old
  value is a lower bound, and a project whose bound is above the current best is skipped.
  Projects that even all their supporters' money cannot buy leave in round 0.
* With ``s = n * budget_per_voter``, every amount in a pass is affine in ``s`` for as long
  as the pass takes the same decisions, and every decision is an affine inequality in ``s``.
  So each round records up to which Add1 step its decisions provably stand; the next Add1
  step reuses the rounds that still stand and recomputes only from the first that does not,
  and steps with an unchanged pass are skipped altogether (:mod:`.mes_pass`).
* Those stretches are short (a class paying all it has starts paying the price instead, and
  every later amount changes) although the outcome rarely changes. Monotonicity lets one
  pass show it for many steps at once. Along a fixed sequence of winners, more money per
  voter never lowers anyone's budget after any round: the price of a round only falls as
  its supporters hold more, and what a payer keeps, ``max(0, budget - price)``, only grows.
  So every ``rho`` only falls and every project's support only grows with ``s``. Hence if
  the pass at a later step ``X`` funds the same sequence, and in each round it recomputes
  every other project is unaffordable at ``X`` or has ``rho`` at ``X`` above the winner's
  ``rho`` at an earlier step ``x`` where the outcome holds (equal: ranked after it), then by
  induction over the rounds every step between ``x`` and ``X`` funds that sequence too (the
  rounds it reuses stand there by the affine argument), and none of them needs a pass.
  Where to try ``X`` is a float guess (:meth:`.mes_pass.Pass.reach`). A pass at ``X`` that
  fails to show it is still an exact pass at ``X``: it is kept, as it may show the outcome
  from a later step (where the winners' ``rho`` are lower), or be the next step itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from itertools import pairwise
from math import ceil

from bot.core.counting.mes_classes import Groups
from bot.core.counting.mes_pass import Pass

# Passes kept that failed to show an outcome: each holds its own budgets and rounds (on
# Swiecie 2023 and synthetic elections, more than 3 made no difference).
_HELD = 3


def equal_shares(
    costs: Sequence[int],
    ballots: Sequence[Sequence[int]],
    budget: int,
    rank: Sequence[int] | None = None,
    *,
    add1: bool = True,
    weights: Sequence[int] | None = None,
    utility: Sequence[int] | None = None,
    exhaustive_stop: bool = True,
) -> list[int]:
    """MES (with Add1 unless ``add1=False``) on approval ballots of project indices.

    ``costs[p]`` is the cost of project ``p``; every ballot counts as a voter, empty ones too,
    or as ``weights[i]`` voters when weights are given (identical ballots merged beforehand).
    ``utility[p]`` is what project ``p`` is worth to each supporter (default: its cost, cost
    satisfaction; all 1 is cardinality satisfaction). ``rank[p]`` breaks ties (lower first;
    default: index). Returns the funded indices in the order MES funded them, supported
    zero-cost projects first.

    ``exhaustive_stop=False`` is Add1 as pabulib's checker runs it (and the official result of
    Wieliczka 2023): after the pass at ``B``, the budget per voter is ``floor(B / n) + 1``,
    ``+ 2``, ... and the search goes on past exhaustive outcomes until one costs more than
    ``B``; the last within ``B`` is kept.
    """
    rank = range(len(costs)) if rank is None else rank
    groups = Groups(costs, ballots, rank, weights, utility)
    if groups.n == 0:
        return []
    passes = Pass(groups, budget)
    if not add1:
        return groups.free + passes.run(0, track=False)[0]
    previous = list(groups.free)
    if exhaustive_stop:
        funded, limit = passes.run(0)
    else:
        previous += passes.run(0, track=False)[0]
        passes = Pass(groups, budget // groups.n * groups.n)
        funded, limit = passes.run(1)
    held: list[Pass] = []  # passes at later steps that did not show the outcome, by step
    checked: list[int] | None = None
    while True:
        if funded != checked:  # a new outcome: within the budget? exhaustive?
            checked = funded
            outcome = groups.free + funded
            spent = sum(costs[p] for p in outcome)
            if spent > budget:
                return previous
            chosen = set(funded)
            if exhaustive_stop and all(
                spent + costs[p] > budget for p in groups.candidates if p not in chosen
            ):
                return outcome
            previous = outcome
        if limit is None:  # unreachable: with enough money every candidate gets funded
            return previous
        # The outcome holds up to step `limit`. Rather than step through the short pieces
        # that follow, show with one pass at a later step that it holds up to there. Passes
        # that fail to show it are kept: one may show it from a later step on, or be the
        # next step itself.
        held = [p for p in held if p.last_x > limit]
        bar = passes.bar(limit)
        shown = next((p for p in reversed(held) if p.covers(bar)), None)
        if shown is None and held and held[0].last_x == limit + 1:
            shown = held[0]
        if shown is None:
            far = passes.reach(limit)
            if far is not None and held and far >= held[0].last_x:
                far = (limit + held[0].last_x) // 2  # that far failed already: try half
            if far is None or far <= limit + 1:
                funded, limit = passes.run(limit + 1)
                continue
            probe = passes.copy()
            probe.probe(far, bar)
            if not probe.covers(bar):
                held.insert(0, probe)
                del held[_HELD:]
                continue
            shown = probe
        passes = shown
        funded, limit = list(shown.funded), shown.limit


# An irresolute count with Add1 gives up rather than run more passes than this.
MAX_TIED_STEPS = 2_000


def equal_shares_tied(
    costs: Sequence[int],
    ballots: Sequence[Sequence[int]],
    budget: int,
    *,
    add1: bool = False,
    exhaustive_stop: bool = True,
    weights: Sequence[int] | None = None,
    utility: Sequence[int] | None = None,
    limit: int = 10_000,
) -> list[frozenset[int]]:
    """Every outcome of MES (one pass, or with Add1 as :func:`equal_shares` runs it) under
    some way of breaking its ties.

    Straight from the definition, with exact fractions: where several projects have the
    least ``rho`` in a round, each is tried in turn. With Add1 each step is such a pass, its
    ties broken independently of the other steps': a step's outcome that costs more than
    ``B`` gives back each outcome of the step before that led to it, an exhaustive one (or,
    with ``exhaustive_stop=False``, one funding every supported project) is kept, and the
    rest go on to the next step. Steps whose passes take the same decisions as the last one
    are skipped (:func:`_tied_pass` says up to where they do). Meant for polls and small
    elections (``ValueError`` past ``limit`` outcomes or :data:`MAX_TIED_STEPS` passes);
    supported zero-cost projects are in each outcome.
    """
    groups = Groups(costs, ballots, range(len(costs)), weights, utility)
    if groups.n == 0:
        return [frozenset()]
    n = groups.n
    if not add1:
        return list(_tied_pass(groups, Fraction(budget), limit)[0])
    candidates = frozenset(groups.candidates)
    found: set[frozenset[int]] = set()
    if exhaustive_stop:  # B / n + k per voter, k = 0, 1, ...
        previous, step, base = {frozenset(groups.free)}, 0, budget
    else:  # the pass at B, then floor(B / n) + k per voter, k = 1, 2, ...
        previous, step, base = set(), 1, budget // n * n
        for outcome in _tied_pass(groups, Fraction(budget), limit)[0]:
            (found if outcome >= candidates else previous).add(outcome)
    for _ in range(MAX_TIED_STEPS):
        if not previous:
            return list(found)
        outcomes, change = _tied_pass(groups, Fraction(base + step * n), limit)
        following, over = set(), False
        for outcome in outcomes:
            spent = sum(costs[p] for p in outcome)
            if spent > budget:
                over = True
            elif outcome >= candidates or (
                exhaustive_stop and all(spent + costs[p] > budget for p in candidates - outcome)
            ):
                found.add(outcome)
            else:
                following.add(outcome)
        if over:
            found |= previous
        # the steps before `change` repeat this one: their outcomes over B follow `following`
        later = None if change is None else max(step + 1, ceil((change - base) / n))
        if over and (later is None or later > step + 1):
            found |= following
        if later is None:  # more money changes nothing: these outcomes stand
            return list(found | following)
        if len(found) > limit:
            raise ValueError(f"more than {limit} tied outcomes")
        previous, step = following, later
    if previous:
        raise ValueError(f"more than {MAX_TIED_STEPS} Add1 passes")
    return list(found)


Affine = tuple[Fraction, Fraction]  # a value at the pass's budget, and its slope in the budget


def _tied_pass(
    groups: Groups, budget: Fraction, limit: int
) -> tuple[frozenset[frozenset[int]], Fraction | None]:
    """Every outcome of one MES pass with ``budget`` in all (supported free projects in),
    and the least budget at or above ``budget`` where a decision of the pass may differ
    (``budget`` itself: just above it; None: never).

    Every amount of the pass is affine in the budget for as long as the pass takes the same
    decisions, so each comparison it makes tells from where on it could go the other way.
    """
    zero = Fraction(0)
    start = tuple((budget / groups.n, Fraction(1, groups.n)) for _ in groups.ballots)
    memo: dict[tuple[tuple[Affine, ...], frozenset[int]], frozenset[frozenset[int]]] = {}
    change: list[Fraction] = []

    def watch(value: Fraction, slope: Fraction) -> None:
        """A difference compared with 0: where (at or above ``budget``) its sign changes."""
        if slope and (root := budget - value / slope) >= budget:
            change.append(root)

    def rest(money: tuple[Affine, ...], left: frozenset[int]) -> frozenset[frozenset[int]]:
        found = memo.get((money, left))
        if found is not None:
            return found
        rhos: list[tuple[int, Affine, Affine]] = []
        out = set()
        for p in sorted(left):
            payers = sorted(groups.supporters[p], key=lambda g: money[g][0])
            for g, h in pairwise(payers):
                watch(money[h][0] - money[g][0], money[h][1] - money[g][1])
            weights = groups.weights
            owed, owed_slope, weight = Fraction(groups.costs[p]), zero, groups.support[p]
            total = sum(money[g][0] * weights[g] for g in payers)
            watch(total - owed, sum(money[g][1] * weights[g] for g in payers))
            if total < owed:
                out.add(p)  # unaffordable now, hence for the rest of the pass
                continue
            price, price_slope = owed / weight, zero
            for g in payers:  # the poorest pay all they have while that is below the share
                watch(money[g][0] - price, money[g][1] - price_slope)
                if money[g][0] >= price:
                    break
                owed -= money[g][0] * weights[g]
                owed_slope -= money[g][1] * weights[g]
                weight -= weights[g]
                price, price_slope = owed / weight, owed_slope / weight
            utility = groups.utility[p]
            rhos.append((p, (price / utility, price_slope / utility), (price, price_slope)))
        left = left - out
        outcomes: set[frozenset[int]] = set()
        if not rhos:
            outcomes.add(frozenset())
        best = min((rho for _, rho, _ in rhos), default=(zero, zero), key=lambda r: r[0])
        for p, rho, (price, price_slope) in rhos:
            watch(rho[0] - best[0], rho[1] - best[1])
            if rho[0] != best[0]:
                continue
            paid = list(money)
            for g in groups.supporters[p]:
                have, slope = money[g]
                watch(have - price, slope - price_slope)
                paid[g] = (have - price, slope - price_slope) if have > price else (zero, zero)
            outcomes.update(f | {p} for f in rest(tuple(paid), left - {p}))
            if len(outcomes) > limit:
                raise ValueError(f"more than {limit} tied outcomes")
        found = memo[(money, left)] = frozenset(outcomes)
        return found

    free = frozenset(groups.free)
    outcomes = frozenset(free | f for f in rest(start, frozenset(groups.candidates)))
    return outcomes, min(change, default=None)
