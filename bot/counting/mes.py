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
  counts), so every decision is an exact integer comparison. Floats only order candidates.
* Candidates are looked at lazily: ``rho`` of a project only grows during a pass, so an old
  value is a lower bound, and a project whose bound is above the current best is skipped.
* With ``s = n * budget_per_voter``, every amount in a pass is affine in ``s`` for as long
  as the pass takes the same decisions, and every decision is an affine inequality in ``s``.
  So each round records up to which Add1 step its decisions provably stand; the next Add1
  step reuses the rounds that still stand and recomputes only from the first that does not,
  and steps with an unchanged pass are skipped altogether.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import NamedTuple

from bot.counting.mes_classes import Groups, Partition

# Relative slack under which float approximations of two rho values are too close to tell
# apart; correctly rounded int/int division errs by at most 2**-53, far below this.
_SLACK = 1e-9

_money = itemgetter(0)


class _Round(NamedTuple):
    """What a pass knows at the start of a round. Nothing here depends on the money ``s``."""

    node: Partition
    denom: int  # common denominator of all amounts
    scale: tuple[int, ...]  # scale[e] = denom / (denominator after e fundings)
    lb: list[tuple[int, int, int] | None]  # lower bound on rho: (intercept, slope, denominator)
    remaining: tuple[int, ...]
    n_funded: int
    limit: int | None  # the rounds before this one stand for Add1 steps <= limit


def _bound(limit: int | None, x: int, f: int, f_sl: int, strict: bool, n: int) -> int | None:
    """Tighten ``limit`` so that ``f + f_sl * (y - x) * n >= 0`` (``> 0``) for steps y <= it.

    ``f`` is the value at the current step ``x``, where the condition holds already.
    """
    if f_sl >= 0:
        return limit
    step = -f_sl * n
    y = x + ((f - 1) // step if strict else f // step)
    return y if limit is None or y < limit else limit


class _Pass:
    """MES passes for one election, reusing the rounds that a new Add1 step leaves standing.

    ``budgets[c]`` is ``(intercept, slope, epoch)``: class ``c`` holds
    ``(intercept + slope * s) * scale[epoch] / denom``. The list is append-only along a
    pass (new classes get new ids); ``None`` marks a class that has spent everything.
    Slopes are only kept while the pass is tracked (its rounds may stand for later steps);
    past that point they are 0, which is exact at this step's ``s``.
    """

    def __init__(self, groups: Groups, budget: int) -> None:
        self.groups = groups
        self.budget = budget
        self.budgets: list[tuple[int, int, int] | None] = [(0, 1, 0)]
        self.funded: list[int] = []
        lb: list[tuple[int, int, int] | None] = [None] * len(groups.costs)
        for p in groups.candidates:
            lb[p] = (1, 0, groups.support[p])
        start = _Round(groups.root, groups.n, (1,), lb, tuple(groups.candidates), 0, None)
        self.rounds = [start]
        self.last_x = 0

    def run(self, x: int, track: bool = True) -> tuple[list[int], int | None]:
        """The pass at Add1 step ``x`` (``B / n + x`` per voter).

        Returns the funded projects in order and, if ``track``, the last step with the same
        pass (``None``: every later step). Steps must not decrease from call to call: the
        recorded conditions only bound how far up a round stands.
        """
        if x < self.last_x:
            raise ValueError("Add1 steps must not decrease")
        self.last_x = x
        groups = self.groups
        costs, rank, n = groups.costs, groups.rank, groups.n
        s = self.budget + x * n
        rounds = self.rounds
        r = len(rounds) - 1
        while (stands := rounds[r].limit) is not None and stands < x:
            r -= 1
        node, denom, scale, lb_, remaining_, n_funded, limit = rounds[r]
        del rounds[r:]
        if not track:
            limit = x
        lb, remaining = lb_[:], list(remaining_)
        approx = [0.0] * len(costs)  # floats of lb, for the candidates still remaining
        for q in remaining:
            q_i, q_sl, q_den = lb[q]  # type: ignore[misc]
            approx[q] = (q_i + q_sl * s) / q_den
        budgets, funded = self.budgets, self.funded
        del budgets[node.n_classes :]
        del funded[n_funded:]
        tracking = limit is None or limit > x
        while True:
            rounds.append(_Round(node, denom, scale, lb[:], tuple(remaining), len(funded), limit))
            if not funded:
                # Round 0: everyone holds s / n, so checking affordability takes one product.
                # A project out of reach of all its supporters' money leaves now, instead of
                # being looked at again in the last round of every pass.
                for p in remaining[:]:
                    f = costs[p] * n - groups.support[p] * s
                    if f > 0:
                        remaining.remove(p)
                        if tracking:
                            limit = _bound(limit, x, f, -groups.support[p], True, n)
                            tracking = limit != x
            counts = node.counts
            best = None
            for p in sorted(remaining, key=approx.__getitem__):
                if best is not None:
                    if approx[p] > best[4] * (1 + _SLACK):
                        break
                    q_i, q_sl, q_den = lb[p]  # type: ignore[misc]
                    cmp = (q_i + q_sl * s) * best[3] - best[1] * q_den
                    if cmp > 0 or (cmp == 0 and rank[p] > rank[best[0]]):
                        continue
                need = costs[p] * denom
                # (money, its slope in s, voters, class) of the classes of supporters that
                # still have money. This loop is where the time goes: keep it plain.
                items = []
                total = weight = 0
                if tracking:
                    for c, w in counts[p].items():  # type: ignore[union-attr]
                        b = budgets[c]
                        if b is not None:
                            f = scale[b[2]]
                            v = (b[0] + b[1] * s) * f
                            items.append((v, b[1] * f, w, c))
                            total += v * w
                            weight += w
                else:
                    for c, w in counts[p].items():  # type: ignore[union-attr]
                        b = budgets[c]
                        if b is not None:
                            v = (b[0] + b[1] * s) * scale[b[2]]
                            items.append((v, 0, w, c))
                            total += v * w
                            weight += w
                if total < need:  # unaffordable now, hence for the rest of the pass
                    remaining.remove(p)
                    if tracking:
                        f_sl = -sum(w * v_sl for _, v_sl, w, _ in items)
                        limit = _bound(limit, x, need - total, f_sl, True, n)
                        tracking = limit != x
                    continue
                items.sort(key=_money)
                a, a_sl, i = need, 0, 0
                while a > weight * items[i][0]:  # the i-th poorest class pays all it has
                    v, v_sl, w, _ = items[i]
                    a -= w * v
                    a_sl -= w * v_sl
                    weight -= w
                    i += 1
                den = weight * denom * costs[p]  # rho = a / den, the price is a / (weight*denom)
                lb[p] = (a - a_sl * s, a_sl, den)
                approx[p] = a / den
                if best is not None:
                    cmp = a * best[3] - best[1] * den
                    if cmp > 0 or (cmp == 0 and rank[p] > rank[best[0]]):
                        continue
                best = (p, a, a_sl, den, approx[p], weight, items, i)
            if best is None:
                return list(funded), limit
            won, a, a_sl, den, _, weight, items, i = best
            remaining.remove(won)
            node = node.child(won, groups)
            new_class = node.new_class
            budgets.extend([None] * (node.n_classes - len(budgets)))
            epoch = len(scale)
            if tracking:
                # Those who paid the price keep the rest: weight * v - a over the new
                # denominator, affine in s. The price formula stands while that stays >= 0
                # for them and <= 0 for those who paid all they had; a side moving towards
                # 0 reaches it (g + g_sl * n * (y - x) keeps its sign up to
                # y = x + (g // -g_sl) // n: a floor of a floor, both divisors positive).
                ends = [
                    (a - weight * v) // g_sl
                    for v, v_sl, _, _ in items[:i]
                    if (g_sl := weight * v_sl - a_sl) > 0
                ]
                for v, v_sl, _, c in items[i:]:
                    g, g_sl = weight * v - a, weight * v_sl - a_sl
                    budgets[new_class[c]] = (g - g_sl * s, g_sl, epoch)
                    if g_sl < 0:
                        ends.append(g // -g_sl)
                if ends:
                    y = x + min(ends) // n
                    if limit is None or y < limit:
                        limit = y
                        tracking = y != x
                if tracking:
                    limit = self._order_limit(limit, x, s, won, a, a_sl, den, remaining, lb)
                    tracking = limit != x
            else:
                for v, _, _, c in items[i:]:
                    budgets[new_class[c]] = (weight * v - a, 0, epoch)
            scale = (*[f * weight for f in scale], 1)
            denom *= weight
            funded.append(won)

    def _order_limit(
        self,
        limit: int | None,
        x: int,
        s: int,
        won: int,
        a: int,
        a_sl: int,
        den: int,
        remaining: list[int],
        lb: list[tuple[int, int, int] | None],
    ) -> int | None:
        """Tighten ``limit`` so that the winner's rho, ``(a + a_sl * (s' - s)) / den``, stays
        below every other project's lower bound (or tied and ranked before it)."""
        rank, n = self.groups.rank, self.groups.n
        for q in remaining:
            q_i, q_sl, q_den = lb[q]  # type: ignore[misc]
            f_sl = q_sl * den - a_sl * q_den
            if f_sl < 0:
                f = (q_i + q_sl * s) * den - a * q_den
                limit = _bound(limit, x, f, f_sl, rank[q] < rank[won], n)
        return limit


def equal_shares(
    costs: Sequence[int],
    ballots: Sequence[Sequence[int]],
    budget: int,
    rank: Sequence[int] | None = None,
    *,
    add1: bool = True,
    weights: Sequence[int] | None = None,
) -> list[int]:
    """MES (with Add1 unless ``add1=False``) on approval ballots of project indices.

    ``costs[p]`` is the cost of project ``p``; every ballot counts as a voter, empty ones too,
    or as ``weights[i]`` voters when weights are given (identical ballots merged beforehand).
    ``rank[p]`` breaks ties (lower first; default: index). Returns the funded indices in the
    order MES funded them, supported zero-cost projects first.
    """
    groups = Groups(costs, ballots, range(len(costs)) if rank is None else rank, weights)
    if groups.n == 0:
        return []
    passes = _Pass(groups, budget)
    if not add1:
        return groups.free + passes.run(0, track=False)[0]
    previous = list(groups.free)
    x = 0
    while True:
        funded, limit = passes.run(x)
        outcome = groups.free + funded
        spent = sum(costs[p] for p in outcome)
        if spent > budget:
            return previous
        chosen = set(funded)
        if all(spent + costs[p] > budget for p in groups.candidates if p not in chosen):
            return outcome
        if limit is None:  # unreachable: with enough money every candidate gets funded
            return outcome
        previous = outcome
        x = limit + 1
