"""Voter groups and payment classes for the Method of Equal Shares (see :mod:`.mes`).

Voters with identical ballots form weighted *groups*. Under MES with cost utilities all
supporters of a funded project pay the same price (or all they have left), so voters who
approve exactly the same funded projects always hold the same budget: they form a *class*.
Which classes exist depends only on the sequence of funded projects, not on the money, so
:class:`Partition` builds the classes once per sequence prefix and keeps them for the next
MES pass, which mostly funds the same sequence again (only the latest branch is kept).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence


class Groups:
    """An election reduced to weighted ballot groups (projects are indices).

    ``ballots[i]`` stands for ``weights[i]`` voters (default: one each).
    """

    def __init__(
        self,
        costs: Sequence[int],
        ballots: Sequence[Sequence[int]],
        rank: Sequence[int],
        weights: Sequence[int] | None = None,
    ) -> None:
        self.costs = list(costs)
        self.rank = list(rank)
        groups: dict[tuple[int, ...], int]
        if weights is None:
            groups = Counter(tuple(sorted(set(b))) for b in ballots)
        else:
            groups = {}
            for b, w in zip(ballots, weights, strict=True):
                if w < 0:
                    raise ValueError("ballot weights must not be negative")
                key = tuple(sorted(set(b)))
                groups[key] = groups.get(key, 0) + w
        self.n = sum(groups.values())  # every voter gets a share, even with an empty ballot
        self.ballots = [b for b, w in groups.items() if b and w]
        self.weights = [groups[b] for b in self.ballots]
        self.supporters: list[list[int]] = [[] for _ in self.costs]
        for g, ballot in enumerate(self.ballots):
            for p in ballot:
                self.supporters[p].append(g)
        self.support = [sum(self.weights[g] for g in s) for s in self.supporters]
        supported = [p for p, s in enumerate(self.supporters) if s]
        self.free = sorted((p for p in supported if self.costs[p] == 0), key=self.rank.__getitem__)
        self.candidates = [p for p in supported if self.costs[p] > 0]
        counts: list[dict[int, int] | None] = [None] * len(self.costs)
        for p in self.candidates:
            counts[p] = {0: self.support[p]}
        self.root = Partition([0] * len(self.ballots), counts, 1, {})
        self._common: dict[int, list[tuple[int, list[int]]]] = {}

    def common(self, project: int) -> list[tuple[int, list[int]]]:
        """``(p, groups)`` for each other project ``p`` with supporters in common with
        ``project``: the groups that approve both (computed once per project)."""
        pairs = self._common.get(project)
        if pairs is None:
            shared: defaultdict[int, list[int]] = defaultdict(list)
            for g in self.supporters[project]:
                for p in self.ballots[g]:
                    shared[p].append(g)
            shared.pop(project, None)
            pairs = self._common[project] = list(shared.items())
        return pairs


class Partition:
    """The voter classes after one prefix of funded projects.

    ``counts[p]`` maps class id -> number of supporters of ``p`` in that class (``None`` once
    ``p`` is funded, and for projects that are never candidates). ``new_class`` maps each
    class that held supporters of the project funded last to the class they moved to; class
    ids only grow along a prefix, so a pass can keep class budgets in append-only lists.
    """

    __slots__ = ("children", "counts", "group_class", "n_classes", "new_class")

    def __init__(
        self,
        group_class: list[int],
        counts: list[dict[int, int] | None],
        n_classes: int,
        new_class: dict[int, int],
    ) -> None:
        self.group_class = group_class
        self.counts = counts
        self.n_classes = n_classes
        self.new_class = new_class
        self.children: dict[int, Partition] = {}

    def child(self, funded: int, groups: Groups) -> Partition:
        """The partition after also funding ``funded`` (cached until another branch is built)."""
        node = self.children.get(funded)
        if node is not None:
            return node
        # Keep one branch only: Add1 passes mostly re-fund the same sequence, and a whole tree
        # of partitions can take gigabytes on large elections with diverse ballots.
        self.children.clear()
        parent_class = self.group_class
        group_class = parent_class[:]
        new_class: dict[int, int] = {}
        n_classes = self.n_classes
        for g in groups.supporters[funded]:
            old = parent_class[g]
            new = new_class.get(old)
            if new is None:
                new = new_class[old] = n_classes
                n_classes += 1
            group_class[g] = new
        counts = self.counts[:]  # copy on write: the parent stays valid for other prefixes
        counts[funded] = None
        weights = groups.weights
        for p, common in groups.common(funded):
            d = counts[p]
            if d is None:
                continue
            # Supporters of p that also support `funded` leave their class for its new one,
            # which holds no one else: move them class by class.
            moved: dict[int, int] = {}
            for g in common:
                old = parent_class[g]
                moved[old] = moved.get(old, 0) + weights[g]
            d = counts[p] = d.copy()
            for old, m in moved.items():
                left = d[old] - m
                if left:
                    d[old] = left
                else:
                    del d[old]
                d[new_class[old]] = m
        node = self.children[funded] = Partition(group_class, counts, n_classes, new_class)
        return node
