"""Casting ballots: who may vote in which poll, what a valid ballot is, secrecy.

Secrecy against whoever holds a copy of the database (file, WAL, dump), every export and
every staff command, but not ``BALLOT_KEY``: a ballot (the choices, with only the voter's
village, gender and age group) is sealed with AES-GCM (storage/sealing.py) and kept in
the voter's own ``turnout`` row, which says that the resident voted and how (phone or
paper). There is no plaintext ballot row at all, so nothing can be matched with turnout
by order (SQLite rowid, PostgreSQL heap order, a dump's order), by time or by the
transaction id PostgreSQL writes on every row (``xmin``: a ballot row and its turnout row
written in one transaction would share it). A changed ballot replaces the sealed value in
place. Ballots are opened only in memory, to count after the poll closes
(:mod:`bot.core.services.poll_results`) and to tell a voter their own (``VOTED``).

The other design (random ballot ids, ``WITHOUT ROWID``, ballots written apart from their
turnout) leaves plaintext choices that a dump still orders, and each engine a new way to
link them; sealing closes them all at once. Whoever has ``BALLOT_KEY`` and the database
(the server's operator) can link: that is the documented limit (README, Security).

A paper voter is marked in turnout only; their ballot goes into the box unlinked
(``box_ballots``), as in a polling station. A resident who voted on paper cannot also
vote by phone and vice versa; by phone the last ballot counts while the poll allows
changes. Every refusal is a :class:`Refused` with a code the voter is told.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core.ballot_kinds import APPROVAL, CHOOSE1, CUMULATIVE, RANKED, SETS
from bot.core.clock import iso
from bot.core.services.ballot_text import BallotText
from bot.core.services.errors import Refused
from storage.models import Municipality, Poll, PollOption, Resident, StoredBallot
from storage.repos import Repos
from storage.sealing import SealBroken

PAPER = "paper"
AGE_GROUPS = ((18, 35, "18-35"), (36, 55, "36-55"), (56, 200, "55+"))
#: a ballot being filled in by taps: position -> points (None unless cumulative), in the
#: order tapped
Draft = dict[int, int | None]


@dataclass(frozen=True)
class CastBallot:
    poll: Poll
    chosen: list[tuple[PollOption, int]]  # option and weight (1, rank or points)
    replaced: bool


def age_group(birth_year: int | None, year: int) -> str | None:
    if birth_year is None:
        return None
    age = year - birth_year
    for low, high, name in AGE_GROUPS:
        if low <= age <= high:
            return name
    return None


def poll_state(poll: Poll, now: datetime) -> str:
    """``scheduled``, ``open`` or ``closed`` — from the poll's times, the only truth."""
    stamp = iso(now)
    if stamp < poll.opens_at:
        return "scheduled"
    return "open" if stamp < poll.closes_at else "closed"


def eligible(poll: Poll, resident: Resident, now: datetime) -> bool:
    if poll.village_id is not None and resident.village_id != poll.village_id:
        return False
    return resident.birth_year is not None and now.year - resident.birth_year >= poll.min_age


async def choose_poll(
    repos: Repos,
    municipality: Municipality,
    resident: Resident,
    number: int | None,
    now: datetime,
) -> Poll:
    """The poll a ballot is for: the named one, or the only open one the resident may vote in."""
    if number is not None:
        poll = await repos.polls.get(municipality.id, number)
        if poll is None:
            raise Refused("unknown_poll", number=number)
        return poll
    polls = await open_polls(repos, municipality, resident, now)
    if not polls:
        raise Refused("no_open_poll")
    if len(polls) > 1:
        raise Refused("which_poll", numbers=[p.id for p in polls])
    return polls[0]


async def open_polls(
    repos: Repos, municipality: Municipality, resident: Resident, now: datetime
) -> list[Poll]:
    """The polls open now that the resident may vote in."""
    return [
        p
        for p in await repos.polls.open_at(municipality.id, iso(now))
        if eligible(p, resident, now)
    ]


async def options(repos: Repos, poll: Poll) -> list[PollOption]:
    return await repos.polls.options(poll.id)


async def poll_with_options(
    repos: Repos, municipality: Municipality, poll_id: int
) -> tuple[Poll, list[PollOption]] | None:
    """Poll ``poll_id`` of the municipality and its options; None if there is none."""
    poll = await repos.polls.get(municipality.id, poll_id)
    return None if poll is None else (poll, await repos.polls.options(poll.id))


def available(repos: Repos) -> bool:
    """Can votes be cast at all (the ballot key is set)?"""
    return repos.polls.sealing


async def ballot_to_fill(
    repos: Repos, municipality: Municipality, resident: Resident, number: int | None, now: datetime
) -> tuple[Poll, list[PollOption]]:
    """The poll a ballot is being filled in for, and its options: refused as :func:`cast`
    would refuse it first, said before the voter starts tapping."""
    poll = await _open_poll_for(repos, municipality, resident, number, now)
    if not available(repos):
        raise Refused("voting_unavailable")
    return poll, await repos.polls.options(poll.id)


def tap(poll: Poll, draft: Draft, position: int, delta: int) -> Draft | str:
    """The draft after a tap on option ``position``, or the code that refuses it.

    choose1: the option; approval: toggle; ranked: the next rank, or out (later ranks
    move up); cumulative: ``delta`` points more or less.
    """
    changed = dict(draft)
    if poll.ballot_type == CUMULATIVE:
        points = (changed.get(position) or 0) + delta
        if delta > 0 and sum(p or 0 for p in draft.values()) >= poll.max_choices:
            return "no_points"
        if points > 0:
            changed[position] = points
        else:
            changed.pop(position, None)
        return changed
    if poll.ballot_type == CHOOSE1:
        return {position: None}
    if position in changed:
        del changed[position]
        return changed
    if len(changed) >= poll.max_choices:
        return "too_many"
    changed[position] = None
    return changed


def validate(
    poll: Poll, options: list[PollOption], entries: tuple[tuple[int, int | None], ...]
) -> list[tuple[PollOption, int]]:
    """The chosen options with their weights, or :class:`Refused` saying what is wrong."""
    by_position = {option.position: option for option in options}
    numbers = [number for number, _ in entries]
    for number in numbers:
        if number not in by_position:
            raise Refused("unknown_option", number=number, count=len(options))
    if len(set(numbers)) != len(numbers):
        raise Refused("duplicate_option")
    kind = poll.ballot_type
    if kind != CUMULATIVE and any(points is not None for _, points in entries):
        raise Refused("no_points_here")
    if kind == CHOOSE1:
        if len(entries) != 1:
            raise Refused("choose_one")
        return [(by_position[numbers[0]], 1)]
    if kind in SETS:
        if len(entries) > poll.max_choices:
            raise Refused("too_many", limit=poll.max_choices)
        if kind == APPROVAL:
            return [(by_position[n], 1) for n in numbers]
        return [(by_position[n], rank) for rank, n in enumerate(numbers, start=1)]
    # cumulative: N points spread over options
    if any(points is None or points < 1 for _, points in entries):
        raise Refused("points_needed", limit=poll.max_choices)
    spent = sum(points or 0 for _, points in entries)
    if spent > poll.max_choices:
        raise Refused("too_many_points", spent=spent, limit=poll.max_choices)
    return [(by_position[n], points or 0) for n, points in entries]


def ballot_example(poll: Poll, options: Sequence[PollOption]) -> str:
    """What to type after ``V12`` for a ballot this poll accepts (``1``, ``1 2``,
    ``1:5 2:5``): a hint must never suggest a ballot :func:`validate` refuses."""
    positions = [option.position for option in options[:2]]
    if poll.ballot_type == "cumulative":
        points = poll.max_choices
        if len(positions) > 1 and points > 1:
            return f"{positions[0]}:{points - points // 2} {positions[1]}:{points // 2}"
        return f"{positions[0]}:{points}"
    if poll.ballot_type == "choose1" or poll.max_choices < 2:
        positions = positions[:1]
    return " ".join(map(str, positions))


async def cast(
    repos: Repos,
    municipality: Municipality,
    resident: Resident,
    ballot: BallotText,
    *,
    channel: str,
    now: datetime,
) -> CastBallot:
    """Record the resident's ballot: by phone sealed into their turnout row; on paper
    (:data:`PAPER`) turnout, and the ballot into the box unlinked."""
    async with repos.db.transaction():
        cast, kept = await _record(repos, municipality, resident, ballot, channel, now)
        if channel == PAPER:
            await repos.polls.add_box_ballots(cast.poll.id, [kept])
    return cast


async def cast_paper(
    repos: Repos,
    municipality: Municipality,
    votes: Sequence[tuple[Resident, BallotText]],
    *,
    now: datetime,
) -> None:
    """Paper ballots entered together (all or none): each voter marked in turnout, and
    the ballots into the box at the end, shuffled as a ballot box mixes them."""
    boxes: dict[int, list[StoredBallot]] = {}
    async with repos.db.transaction():
        for resident, ballot in votes:
            cast, kept = await _record(repos, municipality, resident, ballot, PAPER, now)
            boxes.setdefault(cast.poll.id, []).append(kept)
        for poll_id, box in boxes.items():
            await repos.polls.add_box_ballots(poll_id, box)


async def mark_paper(
    repos: Repos,
    municipality: Municipality,
    poll: Poll,
    voters: Sequence[Resident],
    *,
    now: datetime,
) -> None:
    """The clerk marks residents as having voted on paper (turnout only, all or none);
    their ballots go into the box apart (:func:`box_paper`)."""
    async with repos.db.transaction():
        for resident in voters:
            checked = await _open_poll_for(repos, municipality, resident, poll.id, now)
            before = await repos.polls.turnout_channel(checked.id, resident.id)
            if before is not None:
                raise Refused("voted_on_paper" if before == PAPER else "voted_by_phone")
            await repos.polls.record_vote(checked.id, resident.id, PAPER, None, now=iso(now))


async def box_paper(
    repos: Repos,
    poll: Poll,
    ballots: Sequence[BallotText],
    *,
    village_id: int | None,
    now: datetime,
) -> None:
    """Paper ballots from a ballot box, linked to nobody: only the polling place's village
    is kept (for the breakdown). There may not be more than paper voters marked without a
    ballot in the box; the box may be counted once the poll has closed."""
    if not available(repos):
        raise Refused("voting_unavailable")
    if poll_state(poll, now) == "scheduled":
        raise Refused("poll_scheduled", number=poll.id)
    options = await repos.polls.options(poll.id)
    box = [
        StoredBallot(
            village_id, None, None, {o.id: w for o, w in validate(poll, options, b.entries)}
        )
        for b in ballots
    ]
    async with repos.db.transaction():
        room = await repos.polls.paper_turnout_count(poll.id) - await repos.polls.box_count(poll.id)
        if len(box) > room:
            raise Refused("box_overfull", room=room)
        await repos.polls.add_box_ballots(poll.id, box)


async def _open_poll_for(
    repos: Repos, municipality: Municipality, resident: Resident, number: int | None, now: datetime
) -> Poll:
    """The poll a resident's vote is for, open and with them in its electorate."""
    poll = await choose_poll(repos, municipality, resident, number, now)
    state = poll_state(poll, now)
    if state != "open":
        raise Refused(f"poll_{state}", number=poll.id)
    if not eligible(poll, resident, now):
        raise Refused("not_in_electorate", number=poll.id)
    return poll


async def _record(
    repos: Repos,
    municipality: Municipality,
    resident: Resident,
    ballot: BallotText,
    channel: str,
    now: datetime,
) -> tuple[CastBallot, StoredBallot]:
    """Inside the caller's transaction: check the ballot, record the turnout (a phone
    ballot sealed into it); the ballot as kept."""
    if not repos.polls.sealing:
        raise Refused("voting_unavailable")
    poll = await _open_poll_for(repos, municipality, resident, ballot.poll_number, now)
    chosen = validate(poll, await repos.polls.options(poll.id), ballot.entries)
    before = await repos.polls.turnout_channel(poll.id, resident.id)
    if before is not None:
        if (before == PAPER) != (channel == PAPER):
            raise Refused("voted_on_paper" if before == PAPER else "voted_by_phone")
        if not poll.changeable or channel == PAPER:  # a paper ballot is in the box
            raise Refused("already_voted", number=poll.id)
    kept = stored(resident, chosen, now)
    await repos.polls.record_vote(
        poll.id,
        resident.id,
        channel,
        None if channel == PAPER else kept,
        now=iso(now),
        replace=before is not None,
    )
    return CastBallot(poll, chosen, replaced=before is not None), kept


@dataclass(frozen=True)
class Receipt:
    """What a resident is told of their own vote (``VOTED``): ``channel`` is None if they
    have not voted; ``chosen`` is empty for a paper ballot (in the box, linked to
    nobody)."""

    poll: Poll
    channel: str | None
    chosen: list[tuple[PollOption, int]]


async def receipt(
    repos: Repos,
    municipality: Municipality,
    resident: Resident,
    number: int | None,
    now: datetime,
) -> Receipt:
    """The resident's own ballot in poll ``number`` (or the only open one), opened for
    them alone: nothing is written and nothing is logged."""
    if not repos.polls.sealing:
        raise Refused("voting_unavailable")
    poll = await choose_poll(repos, municipality, resident, number, now)
    own = await repos.polls.own_ballot(poll.id, resident.id)
    if own is None:
        return Receipt(poll, None, [])
    channel, ballot = own
    if ballot is None:
        return Receipt(poll, channel, [])
    by_id = {option.id: option for option in await repos.polls.options(poll.id)}
    chosen = [(by_id[o], w) for o, w in ballot.choices.items() if o in by_id]
    ranked = poll.ballot_type == RANKED
    chosen.sort(key=lambda item: item[1] if ranked else item[0].position)
    return Receipt(poll, channel, chosen)


#: the sealing purpose of a Telegram ballot's draft (storage/sealing.py)
DRAFT = "draft"


def seal_draft(repos: Repos, poll_id: int, entries: list[list[int | None]]) -> str:
    """A Telegram ballot's draft (``[[position, points], ...]``) as kept in the form
    storage, beside the chat: sealed like a ballot (the voting is closed without the key)."""
    if repos.sealer is None:
        raise Refused("voting_unavailable")
    data = json.dumps(entries).encode()
    return repos.sealer.seal(DRAFT, data, bound_to=f"draft:{poll_id}")


def open_draft(repos: Repos, poll_id: int, value: object) -> list[list[int | None]]:
    """A draft :func:`seal_draft` made; empty if it does not open (another key)."""
    if not isinstance(value, str) or repos.sealer is None:
        return []
    try:
        return json.loads(repos.sealer.open(DRAFT, value, bound_to=f"draft:{poll_id}"))
    except SealBroken:
        return []


def stored(resident: Resident, chosen: list[tuple[PollOption, int]], now: datetime) -> StoredBallot:
    """The ballot as kept: the choices and the voter's coarse demographics only."""
    return StoredBallot(
        resident.village_id,
        resident.gender,
        age_group(resident.birth_year, now.year),
        {option.id: weight for option, weight in chosen},
    )
