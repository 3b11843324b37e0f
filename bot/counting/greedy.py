"""Greedy selection by total support, the rule most cities use.

Projects are taken in order of support (highest first; ties to the cheaper project, then the
lower id) while they fit in what is left of the budget. ``skip=True`` passes over a project
that no longer fits and carries on down the list (pabulib ``greedy``); ``skip=False`` stops
at the first such project (pabulib ``greedy-no-skip``). A project nobody supported is never
funded, even if money is left.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.counting.tallies import ranking


def greedy(
    costs: Mapping[str, int], support: Mapping[str, int], budget: int, *, skip: bool = True
) -> list[str]:
    """The ids of the funded projects, in the order they were taken."""
    selected: list[str] = []
    left = budget
    for project in ranking({p: support.get(p, 0) for p in costs}, costs):
        if support.get(project, 0) <= 0:
            break
        if costs[project] <= left:
            selected.append(project)
            left -= costs[project]
        elif not skip:
            break
    return selected
