"""Casting ballots: who may vote in which poll, what a valid ballot is, secrecy.

A ballot is stored under a keyed hash of (poll, resident) with only the voter's
village, gender and age group, and a separate ``turnout`` row records that the
resident voted and how (phone or paper). A resident who voted on paper cannot also
vote by phone and vice versa; by phone the last ballot counts while the poll allows
changes. Every refusal is a :class:`VoteRefused` with a code the voter is told.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from bot.clock import iso
from bot.services.ballot_text import BallotText
from storage.models import Municipality, Poll, PollOption, Resident
from storage.repos import Repos

PAPER = "paper"
AGE_GROUPS = ((18, 35, "18-35"), (36, 55, "36-55"), (56, 200, "55+"))


class VoteRefused(Exception):
    def __init__(self, code: str, **details: object) -> None:
        super().__init__(code)
        self.code = code
        self.details = details


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


async def _voter_key(repos: Repos, poll_id: int, resident_id: int) -> str:
    key = await repos.polls.secret("ballot-key", lambda: secrets.token_hex(32))
    message = f"{poll_id}:{resident_id}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


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
            raise VoteRefused("unknown_poll", number=number)
        return poll
    open_polls = [
        p
        for p in await repos.polls.open_at(municipality.id, iso(now))
        if eligible(p, resident, now)
    ]
    if not open_polls:
        raise VoteRefused("no_open_poll")
    if len(open_polls) > 1:
        raise VoteRefused("which_poll", numbers=[p.id for p in open_polls])
    return open_polls[0]


def validate(
    poll: Poll, options: list[PollOption], entries: tuple[tuple[int, int | None], ...]
) -> list[tuple[PollOption, int]]:
    """The chosen options with their weights, or :class:`VoteRefused` saying what is wrong."""
    by_position = {option.position: option for option in options}
    numbers = [number for number, _ in entries]
    for number in numbers:
        if number not in by_position:
            raise VoteRefused("unknown_option", number=number, count=len(options))
    if len(set(numbers)) != len(numbers):
        raise VoteRefused("duplicate_option")
    kind = poll.ballot_type
    if kind != "cumulative" and any(points is not None for _, points in entries):
        raise VoteRefused("no_points_here")
    if kind == "choose1":
        if len(entries) != 1:
            raise VoteRefused("choose_one")
        return [(by_position[numbers[0]], 1)]
    if kind in ("approval", "ranked"):
        if len(entries) > poll.max_choices:
            raise VoteRefused("too_many", limit=poll.max_choices)
        if kind == "approval":
            return [(by_position[n], 1) for n in numbers]
        return [(by_position[n], rank) for rank, n in enumerate(numbers, start=1)]
    # cumulative: N points spread over options
    if any(points is None or points < 1 for _, points in entries):
        raise VoteRefused("points_needed", limit=poll.max_choices)
    spent = sum(points or 0 for _, points in entries)
    if spent > poll.max_choices:
        raise VoteRefused("too_many_points", spent=spent, limit=poll.max_choices)
    return [(by_position[n], points or 0) for n, points in entries]


async def cast(
    repos: Repos,
    municipality: Municipality,
    resident: Resident,
    ballot: BallotText,
    *,
    channel: str,
    now: datetime,
) -> CastBallot:
    poll = await choose_poll(repos, municipality, resident, ballot.poll_number, now)
    state = poll_state(poll, now)
    if state != "open":
        raise VoteRefused(f"poll_{state}", number=poll.id)
    if not eligible(poll, resident, now):
        raise VoteRefused("not_in_electorate", number=poll.id)
    chosen = validate(poll, await repos.polls.options(poll.id), ballot.entries)
    async with repos.db.transaction():
        before = await repos.polls.turnout_channel(poll.id, resident.id)
        if before is not None:
            if (before == PAPER) != (channel == PAPER):
                raise VoteRefused("voted_on_paper" if before == PAPER else "voted_by_phone")
            if not poll.changeable:
                raise VoteRefused("already_voted", number=poll.id)
        await repos.polls.replace_ballot(
            poll.id,
            await _voter_key(repos, poll.id, resident.id),
            village_id=resident.village_id,
            gender=resident.gender,
            age_group=age_group(resident.birth_year, now.year),
            choices={option.id: weight for option, weight in chosen},
        )
        await repos.polls.record_turnout(poll.id, resident.id, channel, now=iso(now))
    return CastBallot(poll, chosen, replaced=before is not None)
