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


def equal_shares_tied(
    costs: Sequence[int],
    ballots: Sequence[Sequence[int]],
    budget: int,
    *,
    weights: Sequence[int] | None = None,
    utility: Sequence[int] | None = None,
    limit: int = 10_000,
) -> list[frozenset[int]]:
    """Every outcome of one MES pass (no completion) under some way of breaking its ties.

    Straight from the definition, with exact fractions: where several projects have the
    least ``rho`` in a round, each is tried in turn. Meant for polls and small elections
    (``ValueError`` past ``limit`` outcomes); supported zero-cost projects are in each.
    """
    groups = Groups(costs, ballots, range(len(costs)), weights, utility)
    if groups.n == 0:
        return [frozenset()]
    start = tuple(Fraction(budget, groups.n) for _ in groups.ballots)
    memo: dict[tuple[tuple[Fraction, ...], frozenset[int]], frozenset[frozenset[int]]] = {}

    def rest(money: tuple[Fraction, ...], left: frozenset[int]) -> frozenset[frozenset[int]]:
        found = memo.get((money, left))
        if found is not None:
            return found
        best: Fraction | None = None
        tied: list[tuple[int, Fraction]] = []
        out = set()
        for p in sorted(left):
            payers = sorted(groups.supporters[p], key=money.__getitem__)
            owed, weight = Fraction(groups.costs[p]), groups.support[p]
            if sum(money[g] * groups.weights[g] for g in payers) < owed:
                out.add(p)  # unaffordable now, hence for the rest of the pass
                continue
            price = owed / weight
            for g in payers:  # the poorest pay all they have while that is below the share
                if money[g] >= price:
                    break
                owed -= money[g] * groups.weights[g]
                weight -= groups.weights[g]
                price = owed / weight
            rho = price / groups.utility[p]
            if best is None or rho < best:
                best, tied = rho, [(p, price)]
            elif rho == best:
                tied.append((p, price))
        left = left - out
        outcomes: set[frozenset[int]] = set()
        if not tied:
            outcomes.add(frozenset())
        for p, price in tied:
            paid = list(money)
            for g in groups.supporters[p]:
                paid[g] = max(Fraction(0), paid[g] - price)
            outcomes.update(f | {p} for f in rest(tuple(paid), left - {p}))
            if len(outcomes) > limit:
                raise ValueError(f"more than {limit} tied outcomes")
        found = memo[(money, left)] = frozenset(outcomes)
        return found

    free = frozenset(groups.free)
    return [free | f for f in rest(start, frozenset(groups.candidates))]
