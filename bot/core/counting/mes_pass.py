"""The passes behind :func:`bot.core.counting.mes.equal_shares` (the module says what they do)."""

from __future__ import annotations

import math
from operator import itemgetter
from typing import NamedTuple

from bot.core.counting.mes_classes import Groups, Partition

# Relative slack under which float approximations of two rho values are too close to tell
# apart; correctly rounded int/int division errs by at most 2**-53, far below this.
_SLACK = 1e-9

_money = itemgetter(0)

# Pass.reach heeds a project out of reach in a round if, when it comes within reach, it
# would cost at most this times the winner's rho: its cost is estimated at an earlier step,
# and missing one that takes the round costs a chain of failed guesses.
_NEAR = 1.05


class _Round(NamedTuple):
    """What a pass knows at the start of a round. Nothing here depends on the money ``s``."""

    node: Partition
    denom: int  # common denominator of all amounts
    scale: tuple[int, ...]  # scale[e] = denom / (denominator after e fundings)
    lb: list[tuple[int, int, int] | None]  # lower bound on rho: (intercept, slope, denominator)
    remaining: tuple[int, ...]
    n_funded: int
    limit: int | None  # the rounds before this one stand for Add1 steps <= limit
    hints: list[tuple[float, float]]  # filled by Pass.reach()
    looked: tuple[int, ...]  # the projects whose lb the round before worked out


class Bar(NamedTuple):
    """An outcome to show again (see :func:`bot.core.counting.mes.equal_shares`): its winners
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
    Once the pass is no longer tracked (its later rounds stand for no other step), the
    formulas hold at this step only, and the slopes serve :meth:`reach` for its guesses.
    """

    def __init__(self, groups: Groups, budget: int) -> None:
        self.groups = groups
        self.budget = budget
        self.budgets: list[tuple[int, int, int] | None] = [(0, 1, 0)]
        self.funded: list[int] = []
        lb: list[tuple[int, int, int] | None] = [None] * len(groups.costs)
        for p in groups.candidates:
            lb[p] = (groups.costs[p], 0, groups.support[p] * groups.utility[p])
        start = _Round(groups.root, groups.n, (1,), lb, tuple(groups.candidates), 0, None, [], ())
        self.rounds = [start]
        self.rhos: list[tuple[int, int, int]] = []  # each round's winner: rho as lb is kept
        # (round, last step, rho at least when it comes within reach, project) for each
        # project found unaffordable: it then costs what its richest supporter holds (all
        # pay all they have), per unit of utility
        self.cuts: list[tuple[int, int, float, int]] = []
        self.last_x = 0
        self.first = 0  # the first round the last pass recomputed
        self.limit: int | None = None  # the last step where the last pass stands (None: all)

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
        return self._run(x, track, None)

    def probe(self, x: int, bar: Bar) -> tuple[list[int], int | None]:
        """The pass at step ``x``, looking at every project that might come within ``bar``
        in each round, so that :meth:`covers` can tell whether it shows ``bar``'s outcome."""
        return self._run(x, True, bar)

    def _run(self, x: int, track: bool, bar: Bar | None) -> tuple[list[int], int | None]:
        if x < self.last_x:
            raise ValueError("Add1 steps must not decrease")
        self.last_x = x
        groups = self.groups
        costs, rank, n, utility = groups.costs, groups.rank, groups.n, groups.utility
        s = self.budget + x * n
        rounds = self.rounds
        r = len(rounds) - 1
        while (stands := rounds[r].limit) is not None and stands < x:
            r -= 1
        node, denom, scale, lb_, remaining_, n_funded, limit, _, looked = rounds[r]
        del rounds[r:]
        self.first = r
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
        # While the pass funds bar's winners, every project that might come within bar's rho
        # is looked at; the winner comes within it (rho only falls as money grows), so the
        # pass finds it too. Past a different winner the pass goes on as usual.
        on_bar = bar is not None and tuple(funded) == bar.winners[: len(funded)]
        while True:
            rounds.append(
                _Round(node, denom, scale, lb[:], tuple(remaining), len(funded), limit, [], looked)
            )
            looked = ()
            if not funded:
                # Round 0: everyone holds s / n, so checking affordability takes one product.
                # A project out of reach of all its supporters' money leaves now, instead of
                # being looked at again in the last round of every pass.
                for p in remaining[:]:
                    f = costs[p] * n - groups.support[p] * s
                    if f > 0:
                        remaining.remove(p)
                        y = _bound(None, x, f, -groups.support[p], True, n)
                        cuts.append((0, y, 1 / groups.support[p], p))  # type: ignore[arg-type]
                        if tracking:
                            limit = y if limit is None or y < limit else limit  # type: ignore[operator]
                            tracking = limit != x
            best = None
            j = len(funded)
            checking = on_bar and j < len(bar.winners)  # type: ignore[union-attr]
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
                # (money, voters, class, budget) of the classes of supporters that still have
                # money. This loop is where the time goes: keep it plain. Slopes are worked
                # out only where needed: for those who pay all they have, and the winner's.
                items = []
                weight = 0
                for c, w in node.counts(p, groups).items():
                    b = budgets[c]
                    if b is not None:
                        items.append(((b[0] + b[1] * s) * scale[b[2]], w, c, b))
                        weight += w
                items.sort(key=_money)
                a, a_sl, i, k = need, 0, 0, len(items)
                while i < k and a > weight * items[i][0]:  # the i-th poorest pays all it has
                    v, w, _, b = items[i]
                    a -= w * v
                    a_sl -= w * b[1] * scale[b[2]]
                    weight -= w
                    i += 1
                if i == k:
                    # All pay all they have, and some is still owed: unaffordable now, hence
                    # for the rest of the pass. So it stays up to step y: for sure while the
                    # pass is tracked, a guess for reach() beyond.
                    remaining.remove(p)
                    y = _bound(None, x, a, a_sl, True, n)
                    if y is not None:
                        cuts.append((j, y, items[-1][0] / (denom * utility[p]), p))
                        if tracking and (limit is None or y < limit):
                            limit = y
                            tracking = y != x
                    continue
                den = weight * denom * utility[p]  # rho = a / den, the price is a / (weight*denom)
                lb[p] = (a - a_sl * s, a_sl, den)
                looked += (p,)
                approx[p] = a / den
                if best is not None:
                    cmp = a * best[3] - best[1] * den
                    if cmp > 0 or (cmp == 0 and rank[p] > rank[best[0]]):
                        continue
                best = (p, a, a_sl, den, approx[p], weight, items, i)
            if best is None:
                self.limit = limit
                return list(funded), limit
            won, a, a_sl, den, _, weight, items, i = best
            if checking and won != bar.winners[j]:  # type: ignore[union-attr]
                on_bar = False
            remaining.remove(won)
            rhos.append((a - a_sl * s, a_sl, den))
            node = node.child(won, groups)
            new_class = node.new_class
            budgets.extend([None] * (node.n_classes - len(budgets)))
            epoch = len(scale)
            denom *= weight
            scale = (*[f * weight for f in scale], 1)  # to the new denominator
            # Those who paid the price keep the rest: weight * v - a over the new denominator,
            # affine in s (v = (b[0] + b[1] * s) * scale[b[2]] before this round's scaling,
            # a = a_0 + a_sl * s). Slopes are kept even where the pass is no longer tracked
            # (its rounds stand for no other step): they are what :meth:`reach` guesses from.
            a_0 = a - a_sl * s
            ends: list[int] = []
            for _, _, c, b in items[i:]:
                f = scale[b[2]]
                budgets[new_class[c]] = (b[0] * f - a_0, b[1] * f - a_sl, epoch)
            if tracking:
                # The price formula stands while what the payers keep stays >= 0 and what
                # those who paid all they had would keep stays <= 0; a side moving towards 0
                # reaches it (g + g_sl * n * (y - x) keeps its sign up to
                # y = x + (g // -g_sl) // n: a floor of a floor, both divisors positive).
                for _, _, c, _ in items[i:]:
                    g_i, g_sl, _ = budgets[new_class[c]]  # type: ignore[misc]
                    if g_sl < 0:
                        ends.append((g_i + g_sl * s) // -g_sl)
                for v, _, _, b in items[:i]:
                    g_sl = b[1] * scale[b[2]] - a_sl  # scale already includes weight
                    if g_sl > 0:
                        ends.append((a - weight * v) // g_sl)
                if ends:
                    y = x + min(ends) // n
                    if limit is None or y < limit:
                        limit = y
                        tracking = y != x
                if tracking:
                    limit = self._order_limit(limit, x, s, won, a, a_sl, den, remaining, lb)
                    tracking = limit != x
            funded.append(won)

    def bar(self, step: int) -> Bar:
        """The current outcome, with each winner's rho at ``step`` (up to which it stands)."""
        s = self.budget + step * self.groups.n
        return Bar(tuple(self.funded), tuple((i + sl * s, den) for i, sl, den in self.rhos))

    def reach(self, step: int) -> int | None:
        """A guess of the farthest step whose pass may show (:meth:`covers`) that the
        outcome holds from ``step`` on. Only a hint (floats): the certificate decides; a guess
        too long costs a pass (which is kept), one too short a pass more.

        It is the first step, beyond those where the rounds stand anyway, at which

        * a project whose rho a round worked out, going on along its tangent, falls to that
          round's winner's rho at ``step``. Bounds left over from earlier rounds are passed
          over: their slopes are stale. A price is the largest of the prices that each set
          of full payers would give, so while budgets are affine in ``s`` rho is convex, and
          the tangent errs short;
        * a project out of reach in a round comes within reach there, if it would then cost
          about as little as the winner or less (it costs then what its richest supporter
          holds, per unit of utility, as all pay all they have: more than now); else where
          it would come within reach after the last winner, to be funded there.
        """
        n = self.groups.n
        s = self.budget + step * n
        won = [(w_i + w_sl * s) / w_den for w_i, w_sl, w_den in self.rhos]  # winners' rho
        won.append(math.inf)  # after the last winner, any project within reach is funded
        far = min((y for j, y, rho, _ in self.cuts if rho <= won[j] * _NEAR), default=math.inf)
        for j, r in enumerate(won[:-1]):
            snap = self.rounds[j + 1]  # the bounds after round j
            stands = snap.limit  # rounds up to j take the same decisions up to this step
            if stands is None or stands >= far:
                continue
            hints = snap.hints
            if not hints:  # ratios to the denominator: the integers may be out of float range
                lb = snap.lb
                for q in snap.looked:
                    q_i, q_sl, q_den = lb[q]  # type: ignore[misc]
                    if q_sl < 0 and q in snap.remaining:
                        hints.append((q_i / q_den, q_sl / q_den))
                hints.append((math.inf, 0.0))  # not empty any more: worked out
            for h_i, h_sl in hints:
                if h_sl < 0:
                    y = step + (h_i + h_sl * s - r) / -h_sl / n
                    if y < far:
                        far = max(y, stands)
        for y, j, rho, p in sorted((y, j, rho, p) for j, y, rho, p in self.cuts if y < far):
            if y >= far:
                break
            if rho > won[j] * _NEAR:  # it may come within reach after the last winner first
                end = self._at_end(p)
                if end is not None and end < far:
                    far = end
        return None if far == math.inf else math.floor(far)

    def _at_end(self, p: int) -> int | None:
        """The last step at which project ``p``, out of reach since some round of this pass,
        stays out of reach in its last round (where it would be funded), going on straight
        from this pass's step; ``None``: never comes within reach so."""
        groups, snap, budgets = self.groups, self.rounds[-1], self.budgets
        scale, x = snap.scale, self.last_x
        s = self.budget + x * groups.n
        total = total_sl = 0
        for c, w in snap.node.counts(p, groups).items():
            b = budgets[c]
            if b is not None:
                f = scale[b[2]] * w
                total += (b[0] + b[1] * s) * f
                total_sl += b[1] * f
        return _bound(None, x, groups.costs[p] * snap.denom - total, -total_sl, True, groups.n)

    def covers(self, bar: Bar) -> bool:
        """Whether this pass shows that ``bar``'s outcome holds for every step from ``bar``'s
        up to this pass's (see :mod:`bot.core.counting.mes`).

        The pass must fund the same sequence, and in each round it recomputed, every other
        project still in the running must have a lower bound on ``rho`` above bar's winner's
        (equal: ranked after it). The rounds it reused stand from before ``bar``'s step on.
        """
        if tuple(self.funded) != bar.winners:
            return False
        rank = self.groups.rank
        s = self.budget + self.last_x * self.groups.n
        rounds = self.rounds
        for j in range(self.first, len(bar.winners)):
            snap = rounds[j + 1]  # after round j: its winner is gone, so are the unaffordable
            w, (r_num, r_den) = bar.winners[j], bar.rhos[j]
            lb = snap.lb
            for q in snap.remaining:
                q_i, q_sl, q_den = lb[q]  # type: ignore[misc]
                cmp = (q_i + q_sl * s) * r_den - r_num * q_den
                if cmp < 0 or (cmp == 0 and rank[q] < rank[w]):
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
