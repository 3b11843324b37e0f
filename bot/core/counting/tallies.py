"""Vote totals: plurality, approval, cumulative points and Borda scores.

These work on bare ballots (option ids), so the bot can use them for its own polls; the
``election_*`` helpers apply them to an :class:`~bot.core.counting.election.Election`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from itertools import chain, repeat

from bot.core.counting.election import Election, id_key


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
    weights: Iterable[int] | None = None,
) -> dict[str, int]:
    """Borda scores of ordinal ballots.

    Without ``max_length`` (pabulib's ``score`` column): a ranking of ``L`` options gives
    ``L`` points to its first, ``L - 1`` to its second, ..., 1 to its last, ``L`` being that
    ranking's own length. With ``max_length = k`` (civic-bot's ranked polls): the first gets
    ``k`` points, the second ``k - 1``, and so on, whatever the ranking's length. ``weights``
    gives how many voters cast each ranking (default: one each).
    """
    totals = _seed(options)
    for ranking, times in zip(rankings, weights or repeat(1), strict=False):
        ranking = tuple(ranking)
        if len(set(ranking)) != len(ranking):
            raise ValueError("a ranking names the same option twice")
        k = len(ranking) if max_length is None else max_length
        if len(ranking) > k:
            raise ValueError(f"a ranking lists {len(ranking)} options, more than max_length {k}")
        for position, option in enumerate(ranking):
            totals[option] = totals.get(option, 0) + (k - position) * times
    return totals


def ranking(score: Mapping[str, int], costs: Mapping[str, int] | None = None) -> list[str]:
    """Options by score, highest first; ties go to the cheaper option, then the lower id."""
    costs = costs or {}
    return sorted(score, key=lambda o: (-score[o], costs.get(o, 0), id_key(o)))


def election_votes(election: Election) -> dict[str, int]:
    """How many times ballots name each project (pabulib's ``votes`` column: a project
    named twice in one vote counts twice there too)."""
    totals = _seed(p.id for p in election.projects)
    for ballot in election.ballots:
        for option in ballot.projects:
            totals[option] = totals.get(option, 0) + ballot.weight
    return totals


def election_scores(election: Election) -> dict[str, int]:
    """The support each project gets under the election's ballot type.

    Votes for approval and choose-1, points for cumulative and scoring, Borda score for
    ordinal (see :func:`borda` and :attr:`Election.borda`) — pabulib's ``score`` column
    where it has one.
    """
    ids = [p.id for p in election.projects]
    if election.vote_type in ("cumulative", "scoring"):
        totals = _seed(ids)
        for b in election.ballots:
            for option, pts in zip(b.projects, b.points or (), strict=True):
                if pts < 0:
                    raise ValueError(f"negative points for {option!r}")
                totals[option] = totals.get(option, 0) + pts * b.weight
        return totals
    if election.vote_type == "ordinal":
        max_length = None
        if election.borda == "max_length":
            raw = election.meta.get("max_length", "").strip()
            longest = max((len(b.projects) for b in election.ballots), default=0)
            max_length = int(raw) if raw.isascii() and raw.isdecimal() else longest
        return borda(
            (b.projects for b in election.ballots),
            max_length=max_length,
            options=ids,
            weights=[b.weight for b in election.ballots],
        )
    return election_votes(election)
