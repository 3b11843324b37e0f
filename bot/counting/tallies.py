"""Vote totals: plurality, approval, cumulative points and Borda scores.

These work on bare ballots (option ids), so the bot can use them for its own polls; the
``election_*`` helpers apply them to an :class:`~bot.counting.election.Election`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from itertools import chain

from bot.counting.election import Election, id_key


def _seed(options: Iterable[str]) -> dict[str, int]:
    return dict.fromkeys(options, 0)


def plurality(choices: Iterable[str | None], options: Iterable[str] = ()) -> dict[str, int]:
    """Count single-choice ballots; ``None`` is an abstention. Listed options start at 0."""
    totals = _seed(options)
    for choice in choices:
        if choice is not None:
            totals[choice] = totals.get(choice, 0) + 1
    return totals


def approval(ballots: Iterable[Iterable[str]], options: Iterable[str] = ()) -> dict[str, int]:
    """Count approval ballots: each option a ballot names gets one vote (repeats count once)."""
    totals = _seed(options)
    for option, votes in Counter(chain.from_iterable(map(set, ballots))).items():
        totals[option] = totals.get(option, 0) + votes
    return totals


def cumulative(ballots: Iterable[Mapping[str, int]], options: Iterable[str] = ()) -> dict[str, int]:
    """Sum the points each ballot gives each option (points must not be negative)."""
    totals = _seed(options)
    for ballot in ballots:
        for option, pts in ballot.items():
            if pts < 0:
                raise ValueError(f"negative points for {option!r}")
            totals[option] = totals.get(option, 0) + pts
    return totals


def borda(
    rankings: Iterable[Sequence[str]],
    *,
    max_length: int | None = None,
    options: Iterable[str] = (),
) -> dict[str, int]:
    """Borda scores as pabulib computes them for ordinal ballots.

    With rankings of at most ``k = max_length`` options, the first-ranked option gets ``k``
    points, the second ``k - 1``, and so on, whatever the length of the individual ranking
    (a ballot ranking only one option still gives it ``k``). Without ``max_length``, ``k`` is
    the longest ranking. This reproduces the ``score`` column of pabulib's ordinal files.
    """
    rankings = [tuple(r) for r in rankings]
    longest = max((len(r) for r in rankings), default=0)
    k = longest if max_length is None else max_length
    if longest > k:
        raise ValueError(f"a ranking lists {longest} options, more than max_length {k}")
    totals = _seed(options)
    for ranking in rankings:
        if len(set(ranking)) != len(ranking):
            raise ValueError("a ranking names the same option twice")
        for position, option in enumerate(ranking):
            totals[option] = totals.get(option, 0) + k - position
    return totals


def ranking(score: Mapping[str, int], costs: Mapping[str, int] | None = None) -> list[str]:
    """Options by score, highest first; ties go to the cheaper option, then the lower id."""
    costs = costs or {}
    return sorted(score, key=lambda o: (-score[o], costs.get(o, 0), id_key(o)))


def election_votes(
    election: Election, named: Mapping[tuple[str, ...], int] | None = None
) -> dict[str, int]:
    """How many ballots name each project (pabulib's ``votes`` column).

    ``named`` may give the ballots' project tuples with how many ballots have each, if the
    caller has them already: thousands of ballots hold a few hundred distinct ones.
    """
    if named is None:
        return approval((b.projects for b in election.ballots), (p.id for p in election.projects))
    totals = _seed(p.id for p in election.projects)
    for ballot, times in named.items():
        for option in set(ballot):
            totals[option] = totals.get(option, 0) + times
    return totals


def election_scores(election: Election) -> dict[str, int]:
    """The support each project gets under the election's ballot type.

    Votes for approval and choose-1, points for cumulative, Borda score for ordinal (with
    ``k`` = META ``max_length`` when present) — pabulib's ``score`` column where it has one.
    """
    ids = [p.id for p in election.projects]
    if election.vote_type == "cumulative":
        return cumulative(
            (dict(zip(b.projects, b.points or (), strict=True)) for b in election.ballots), ids
        )
    if election.vote_type == "ordinal":
        raw = election.meta.get("max_length", "").strip()
        max_length = int(raw) if raw.isascii() and raw.isdecimal() else None
        return borda((b.projects for b in election.ballots), max_length=max_length, options=ids)
    return election_votes(election)
