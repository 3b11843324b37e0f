"""The passes behind :func:`bot.counting.mes.equal_shares` (the module says what they do)."""

from __future__ import annotations

import math
from operator import itemgetter
from typing import NamedTuple

from bot.counting.mes_classes import Groups, Partition

# Relative slack under which float approximations of two rho values are too close to tell
# apart; correctly rounded int/int division errs by at most 2**-53, far below this.
_SLACK = 1e-9

# Pass.reach guesses how far an outcome may be certified assuming that each rho keeps
# falling at the larger of its own rate and the winner's, times this. Only speed depends on
# it: on Swiecie 2023, values from 1 to 2 take 74-99 passes with no clear trend (a guess too
# short wastes steps, one too long a pass); 1.5 sits in the middle.
_CAUTION = 1.5

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
    hints: list[tuple[float, float, float]]  # lb of the remaining as floats, filled by reach()


class Bar(NamedTuple):
    """An outcome to show again (see :func:`bot.counting.mes.equal_shares`): its winners
    and each one's rho, ``(numerator, denominator)``, at a step where it holds."""

    winners: tuple[int, ...]
    rhos: tuple[tuple[int, int], ...]


def _bound(limit: int | None, x: int, f: int, f_sl: int, strict: bool, n: int) -> int | None:
    """Tighten ``limit`` so that ``f + f_sl * (y - x) * n >= 0`` (``> 0``) for steps y <= it.

    ``f`` is the value at the current step ``x``, where the condition holds already.
    """
    if f_sl >= 0:
        return limit
    step = -f_sl * n
    y = x + ((f - 1) // step if strict else f // step)
    return y if limit is None or y < limit else limit


class Pass:
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
        start = _Round(groups.root, groups.n, (1,), lb, tuple(groups.candidates), 0, None, [])
        self.rounds = [start]
        self.rhos: list[tuple[int, int, int]] = []  # each round's winner: rho as lb is kept
        self.cuts: list[tuple[int, int]] = []  # (round, last step) of each unaffordability
        self.last_x = 0

    def copy(self) -> Pass:
        """A pass that can go on alone (snapshots and partitions are shared, never changed)."""
        other = object.__new__(Pass)
        other.__dict__.update(self.__dict__)
        other.budgets, other.funded = self.budgets[:], self.funded[:]
        other.rounds, other.rhos, other.cuts = self.rounds[:], self.rhos[:], self.cuts[:]
        return other

    def run(self, x: int, track: bool = True) -> tuple[list[int], int | None]:
        """The pass at Add1 step ``x`` (``B / n + x`` per voter).

        Returns the funded projects in order and, if ``track``, the last step with the same
        pass (``None``: every later step). Steps must not decrease from call to call: the
        recorded conditions only bound how far up a round stands.
        """
        result = self._run(x, track, None)
        if result is None:  # pragma: no cover - only a check can fail
            raise AssertionError("a pass without a check cannot fail it")
        return result

    def certify(self, x: int, bar: Bar) -> tuple[list[int], int | None] | None:
        """The pass at step ``x`` if it shows that ``bar``'s outcome holds for every step
        from ``bar``'s up to ``x`` (see :mod:`bot.counting.mes`), else ``None``."""
        return self._run(x, True, bar)

    def _run(self, x: int, track: bool, bar: Bar | None) -> tuple[list[int], int | None] | None:
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
        node, denom, scale, lb_, remaining_, n_funded, limit, _ = rounds[r]
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
        rhos, cuts = self.rhos, self.cuts
        del rhos[n_funded:]
        cuts[:] = [cut for cut in cuts if cut[0] < n_funded]
        tracking = limit is None or limit > x
        while True:
            rounds.append(
                _Round(node, denom, scale, lb[:], tuple(remaining), len(funded), limit, [])
            )
            if not funded:
                # Round 0: everyone holds s / n, so checking affordability takes one product.
                # A project out of reach of all its supporters' money leaves now, instead of
                # being looked at again in the last round of every pass.
                for p in remaining[:]:
                    f = costs[p] * n - groups.support[p] * s
                    if f > 0:
                        remaining.remove(p)
                        y = _bound(None, x, f, -groups.support[p], True, n)
                        cuts.append((0, y))  # type: ignore[arg-type]
                        if tracking:
                            limit = y if limit is None or y < limit else limit  # type: ignore[operator]
                            tracking = limit != x
            best = None
            j = len(funded)
            checking = bar is not None and j < len(bar.winners)
            if checking:
                w_bar, (r_num, r_den) = bar.winners[j], bar.rhos[j]  # type: ignore[union-attr]
                r_approx = r_num / r_den
            for p in sorted(remaining, key=approx.__getitem__):
                if checking:  # look at every project that might come within the bar
                    if approx[p] > r_approx * (1 + _SLACK):
                        break
                    q_i, q_sl, q_den = lb[p]  # type: ignore[misc]
                    cmp = (q_i + q_sl * s) * r_den - r_num * q_den
                    if cmp > 0 or (cmp == 0 and rank[p] > rank[w_bar]):
                        continue
                elif best is not None:
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
                    for c, w in node.counts(p, groups).items():
                        b = budgets[c]
                        if b is not None:
                            f = scale[b[2]]
                            v = (b[0] + b[1] * s) * f
                            items.append((v, b[1] * f, w, c))
                            total += v * w
                            weight += w
                else:
                    for c, w in node.counts(p, groups).items():
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
                        y = _bound(None, x, need - total, f_sl, True, n)
                        if y is not None:
                            cuts.append((j, y))
                            if limit is None or y < limit:
                                limit = y
                                tracking = y != x
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
            if bar is not None and not self._clears(bar, j, best, remaining, lb, s):
                return None
            if best is None:
                return list(funded), limit
            won, a, a_sl, den, _, weight, items, i = best
            remaining.remove(won)
            rhos.append((a - a_sl * s, a_sl, den))
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

    def bar(self, step: int) -> Bar:
        """The current outcome, with each winner's rho at ``step`` (up to which it stands)."""
        s = self.budget + step * self.groups.n
        return Bar(tuple(self.funded), tuple((i + sl * s, den) for i, sl, den in self.rhos))

    def reach(self, step: int) -> int | None:
        """A guess of how far the outcome may be shown to hold with :meth:`certify`.

        Round by round, beyond the step up to which it stands anyway, it is where the first
        project's lower bound on rho, going on straight, would fall to the winner's rho at
        ``step``; or where an unaffordable project's supporters would get enough money.
        Only a hint (floats): the certificate decides.
        """
        budget, n = self.budget, self.groups.n
        s = budget + step * n
        far = min((y for _, y in self.cuts), default=math.inf)
        for j, (w_i, w_sl, w_den) in enumerate(self.rhos):
            snap = self.rounds[j + 1]  # the bounds after round j
            stands = snap.limit  # rounds up to j take the same decisions up to this step
            if stands is None or stands >= far:
                continue
            w_num = float(w_i + w_sl * s)
            if w_num <= 0:
                continue
            r, w_rate = w_num / w_den, -w_sl / w_num  # rho, and its relative fall per unit s
            hints = snap.hints
            if not hints:
                lb = snap.lb
                hints += [
                    (float(i), float(sl), float(d))
                    for i, sl, d in map(lb.__getitem__, snap.remaining)
                ]  # type: ignore[misc]
            ahead = math.inf  # the least margin, in money s
            for q_i, q_sl, q_den in hints:
                q_num = q_i + q_sl * s
                fall = w_rate * q_num  # how fast q_num falls per unit s, at least
                if -q_sl > fall:
                    fall = -q_sl
                if fall > 0 and q_num > 0:
                    gap = (q_num - r * q_den) / fall
                    if gap < ahead:
                        ahead = gap
            if ahead < math.inf:
                far = min(far, max(step + ahead / _CAUTION / n, stands))
        return None if far == math.inf else math.floor(far)

    def _clears(
        self,
        bar: Bar,
        j: int,
        best: tuple | None,
        remaining: list[int],
        lb: list[tuple[int, int, int] | None],
        s: int,
    ) -> bool:
        """Whether round ``j`` of this pass keeps ``bar``'s choice for every step in between."""
        if j == len(bar.winners):
            return best is None  # nothing more is affordable, as in bar's outcome
        w, (r_num, r_den) = bar.winners[j], bar.rhos[j]
        if best is None or best[0] != w:
            return False
        if best[1] * r_den > r_num * best[3]:
            return False  # cannot happen: rho only falls as money grows
        rank = self.groups.rank
        for q in remaining:
            if q != w:
                q_i, q_sl, q_den = lb[q]  # type: ignore[misc]
                q_num = q_i + q_sl * s
                cmp = q_num * r_den - r_num * q_den
                if cmp < 0 or (cmp == 0 and rank[q] <= rank[w]):
                    return False
        return True

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
