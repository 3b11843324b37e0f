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

    ``ballots[i]`` stands for ``weights[i]`` voters (default: one each). ``rho``, the price
    per unit of utility, is the price over ``utility[p]``.
    """

    def __init__(
        self,
        costs: Sequence[int],
        ballots: Sequence[Sequence[int]],
        rank: Sequence[int],
        weights: Sequence[int] | None = None,
        utility: Sequence[int] | None = None,
    ) -> None:
        self.costs = list(costs)
        # what a project is worth to each supporter: its cost, or 1 for cardinality
        self.utility = self.costs if utility is None else list(utility)
        self.rank = list(rank)
        groups: dict[frozenset[int], int]
        if weights is None:
            groups = Counter(map(frozenset, ballots))
        else:
            groups = {}
            for b, w in zip(ballots, weights, strict=True):
                if w < 0:
                    raise ValueError("ballot weights must not be negative")
                key = frozenset(b)
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
        if any(self.utility[p] <= 0 for p in self.candidates):
            raise ValueError("utilities must be positive")
        counts = {p: {0: self.support[p]} for p in self.candidates}
        self.root = Partition(None, -1, [0] * len(self.ballots), 1, {}, counts)
        self._common: dict[int, dict[int, list[int]]] = {}

    def common(self, project: int) -> dict[int, list[int]]:
        """For each other project ``p`` with supporters in common with ``project``, the
        groups that approve both (computed once per project)."""
        shared = self._common.get(project)
        if shared is None:
            pairs: defaultdict[int, list[int]] = defaultdict(list)
            for g in self.supporters[project]:
                for p in self.ballots[g]:
                    pairs[p].append(g)
            pairs.pop(project, None)
            shared = self._common[project] = dict(pairs)
        return shared


class Partition:
    """The voter classes after one prefix of funded projects.

    ``group_class[g]`` is the class of group ``g``; ``new_class`` maps each class that held
    supporters of the project funded last to the class they moved to. Class ids only grow
    along a prefix, so a pass can keep class budgets in append-only lists.
    """

    __slots__ = ("_counts", "children", "funded", "group_class", "n_classes", "new_class", "parent")

    def __init__(
        self,
        parent: Partition | None,
        funded: int,
        group_class: list[int],
        n_classes: int,
        new_class: dict[int, int],
        counts: dict[int, dict[int, int]],
    ) -> None:
        self.parent = parent
        self.funded = funded  # the project funded last (-1 at the root)
        self.group_class = group_class
        self.n_classes = n_classes
        self.new_class = new_class
        self._counts = counts
        self.children: dict[int, Partition] = {}

    def counts(self, project: int, groups: Groups) -> dict[int, int]:
        """Class id -> number of supporters of ``project`` (not funded yet) in that class.

        Built on demand from the parent's: a pass looks at one or two projects a round, and
        building every project's counts for each new prefix took most of a partition's time.
        """
        d = self._counts.get(project)
        if d is not None:
            return d
        path: list[Partition] = []
        node: Partition = self
        while d is None:  # the root holds every candidate's counts
            path.append(node)
            node = node.parent  # type: ignore[assignment]
            d = node._counts.get(project)
        weights = groups.weights
        for node in reversed(path):
            # Supporters of `project` that also support the project funded last leave their
            # class for its new one, which holds no one else: move them class by class.
            common = groups.common(node.funded).get(project)
            if common:
                parent_class = node.parent.group_class  # type: ignore[union-attr]
                moved: dict[int, int] = {}
                for g in common:
                    old = parent_class[g]
                    moved[old] = moved.get(old, 0) + weights[g]
                d = d.copy()
                new_class = node.new_class
                for old, m in moved.items():
                    left = d[old] - m
                    if left:
                        d[old] = left
                    else:
                        del d[old]
                    d[new_class[old]] = m
            node._counts[project] = d
        return d

    def child(self, funded: int, groups: Groups) -> Partition:
        """The partition after also funding ``funded`` (cached until another branch is built)."""
        node = self.children.get(funded)
        if node is not None:
            return node
        # Keep one branch only: Add1 passes mostly re-fund the same sequence, and a whole tree
        # of partitions can take gigabytes on large elections with diverse ballots. Children
        # refer to their parents, so a branch let go of is taken apart at once rather than
        # left to the cyclic garbage collector (a pass still holding part of it keeps that).
        stack = list(self.children.values())
        self.children.clear()
        while stack:
            node = stack.pop()
            stack.extend(node.children.values())
            node.children.clear()
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
        node = self.children[funded] = Partition(
            self, funded, group_class, n_classes, new_class, {}
        )
        return node
