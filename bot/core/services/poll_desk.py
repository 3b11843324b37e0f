"""Polls as the staff console manages them: the create form's raw fields in, the command
line's own services out (:func:`bot.core.services.polls.create_poll`, the results of
:mod:`bot.core.services.poll_results`, the exports of :mod:`bot.core.services.poll_io`);
opening a scheduled poll now and closing an open one early.

What a person can get wrong in the form is refused here with a ``code`` the page explains
in the staff member's language, before anything is changed; ``create_poll`` checks its
rules again. A secret ballot stays secret: results only once the poll has closed
(:func:`bot.core.services.poll_results.compute` shows only the turnout before).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.clock import iso
from bot.core.services import audit, poll_io, poll_results
from bot.core.services.audit import Actor
from bot.core.services.errors import Refused
from bot.core.services.hearing_desk import known_village, local_moment
from bot.core.services.poll_results import PollResults
from bot.core.services.polls import BALLOT_TYPES, RULES, OptionSpec, create_poll
from bot.core.services.voting import poll_state
from storage.models import Municipality, Poll, PollOption, Problem
from storage.repos import Repos

MAX_TITLE = 200
MAX_OPTIONS = 50
MAX_LABEL = 200
#: som; a municipality's whole budget is far below
MAX_SOM = 10**12


@dataclass(frozen=True)
class PollForm:
    """The create form as typed. ``options``: one a line, ``label`` or ``label = cost``;
    ``problems``: approved problems chosen, by id, with their costs as typed."""

    title: str = ""
    ballot_type: str = ""
    limit: str = ""
    options: str = ""
    problems: Mapping[str, str] = field(default_factory=dict)
    rule: str = ""
    budget: str = ""
    opens_date: str = ""
    opens_time: str = ""
    closes_date: str = ""
    closes_time: str = ""
    village: str = ""


def _som(text: str) -> int | None:
    text = "".join(text.split())  # 300 000, with any kind of space
    if not text:
        return None
    if not (text.isascii() and text.isdecimal()) or int(text) > MAX_SOM:
        raise Refused("bad_som")
    return int(text)


def _options(form: PollForm, approved: dict[int, Problem]) -> list[OptionSpec]:
    options = []
    for line in (line.strip() for line in form.options.splitlines()):
        if not line:
            continue
        label, costed, cost_text = line.rpartition("=") if "=" in line else (line, "", "")
        label, cost = label.strip(), _som(cost_text) if costed else None
        if not label or len(label) > MAX_LABEL:
            raise Refused("bad_option")
        options.append(OptionSpec(label, cost))
    for raw, cost in form.problems.items():
        if not (raw.isascii() and raw.isdecimal() and len(raw) < 10 and int(raw) in approved):
            raise Refused("unknown_problem")
        options.append(OptionSpec("", _som(cost), int(raw)))
    if len(options) < 2:
        raise Refused("two_options")
    if len(options) > MAX_OPTIONS:
        raise Refused("too_many_options")
    return options


def _moment(day: str, clock: str, tz: ZoneInfo) -> datetime:
    try:
        return local_moment(day, clock, tz)
    except ValueError:
        raise Refused("bad_time") from None


async def approved_problems(repos: Repos, municipality: Municipality) -> list[Problem]:
    """The problems a poll may offer."""
    return await repos.problems.by_status(municipality.id, "approved")


async def create(
    repos: Repos,
    municipality: Municipality,
    form: PollForm,
    *,
    tz: ZoneInfo,
    now: datetime,
    actor: Actor,
) -> Poll:
    """A new poll (``poll create``): open from the given time (now if none) to its close."""
    if not repos.polls.sealing:
        raise Refused("no_ballot_key")
    title = form.title.strip()
    if not title or len(title) > MAX_TITLE:
        raise Refused("title_needed")
    if form.ballot_type not in BALLOT_TYPES:
        raise Refused("type_needed")
    limit = None
    if form.ballot_type != "choose1":
        if not (form.limit.isascii() and form.limit.isdecimal() and 1 <= int(form.limit) <= 1000):
            raise Refused("limit_needed")
        limit = int(form.limit)
    approved = {p.id: p for p in await approved_problems(repos, municipality)}
    options = _options(form, approved)
    if form.ballot_type in ("approval", "ranked") and limit and limit > len(options):
        raise Refused("limit_too_big")
    if form.rule and form.rule not in RULES:
        raise Refused("rule_needed")
    budget = _som(form.budget)
    if form.rule in ("greedy", "mes"):
        if not budget:
            raise Refused("budget_needed")
        if any(option.cost is None for option in options):
            raise Refused("costs_needed")
    opens = (
        _moment(form.opens_date, form.opens_time, tz) if form.opens_date or form.opens_time else now
    )
    closes = _moment(form.closes_date, form.closes_time, tz)
    if closes <= now:
        raise Refused("in_past")
    if closes <= opens:
        raise Refused("closes_before_opens")
    await known_village(repos, municipality, form.village)
    return await create_poll(
        repos, municipality, title=title, ballot_type=form.ballot_type, options=options,
        opens_at=opens, closes_at=closes, now=now, max_choices=limit,
        village=form.village or None, budget=budget, rule=form.rule or None, actor=actor,
    )  # fmt: skip


async def open_now(repos: Repos, poll: Poll, *, now: datetime, actor: Actor) -> Poll:
    """A scheduled poll opens now (the announcement follows, as at its planned time)."""
    if poll_state(poll, now) != "scheduled":
        raise Refused("not_scheduled")
    return await _set_times(repos, poll, iso(now), poll.closes_at, now, actor, "poll opened")


async def close_now(
    repos: Repos, poll: Poll, *, confirmed: bool, now: datetime, actor: Actor
) -> Poll:
    """An open poll closes now, once the staff member confirmed it: no more votes, the
    results can be read (and are published to the electorate, as at its planned close)."""
    if poll_state(poll, now) != "open":
        raise Refused("not_open")
    if not confirmed:
        raise Refused("confirm_needed")
    return await _set_times(repos, poll, poll.opens_at, iso(now), now, actor, "poll closed early")


async def _set_times(
    repos: Repos, poll: Poll, opens_at: str, closes_at: str, now: datetime, actor: Actor,
    action: str,
) -> Poll:  # fmt: skip
    async with repos.db.transaction():
        await repos.polls.set_times(poll.id, opens_at=opens_at, closes_at=closes_at)
        await audit.record(repos, poll.municipality_id, actor, action, now=now,
                           object_kind="poll", object_id=poll.id)  # fmt: skip
    fresh = await repos.polls.get(poll.municipality_id, poll.id)
    assert fresh is not None
    return fresh


@dataclass(frozen=True)
class PollView:
    poll: Poll
    state: str
    options: list[PollOption]
    #: turnout only (``sealed``) until the poll has closed
    results: PollResults


async def view(repos: Repos, poll: Poll, *, now: datetime, small_group_min: int) -> PollView:
    return PollView(
        poll,
        poll_state(poll, now),
        await repos.polls.options(poll.id),
        await poll_results.compute(repos, poll, now=now, small_group_min=small_group_min),
    )


async def export(
    repos: Repos,
    municipality: Municipality,
    poll: Poll,
    kind: str,
    *,
    now: datetime,
    small_group_min: int,
) -> str:
    """The closed poll's results as CSV, or its ballots as pabulib ``.pb`` (``poll
    export``); before closing nothing but the turnout would show, so nothing is given."""
    if poll_state(poll, now) != "closed":
        raise Refused("not_closed")
    if kind == "csv":
        return await poll_io.results_csv(repos, poll, now=now, small_group_min=small_group_min)
    return await poll_io.export_pb(repos, municipality, poll, now=now)


async def listing(
    repos: Repos, municipality: Municipality, *, now: datetime
) -> list[tuple[Poll, str]]:
    """Every poll with its state (scheduled, open, closed), the latest first."""
    return [
        (poll, poll_state(poll, now)) for poll in reversed(await repos.polls.all(municipality.id))
    ]
