"""Creating polls and telling the electorate: announcement, reminder, results.

Every message goes through the outbox with a dedupe key per poll, purpose and
resident, so running any of these twice sends nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core.ballot_kinds import BALLOT_TYPES, BUDGET_RULES, CHOOSE1, RULES, SETS, default_rule
from bot.core.clock import iso
from bot.core.counting import COMPLETIONS, DEFAULT_TIES, SATISFACTIONS, TIE_KEYS
from bot.core.rendering.buttons import vote_button
from bot.core.rendering.templates import Renderer
from bot.core.services import audit
from bot.core.services.audit import CLI, Actor
from bot.core.services.errors import ServiceError
from bot.core.services.municipalities import village_id
from bot.core.services.outbound import drafts_for
from storage.models import Municipality, Poll, PollOption
from storage.repos import Repos

PAGE = 5000
#: messages about a poll that carry a Vote button in Telegram (while the poll is open)
VOTE_BUTTON = ("announce", "reminder")
BALLOT_KEY_MISSING = (
    "BALLOT_KEY is not set: a secret ballot needs it (how to make one: .env.example)"
)


@dataclass(frozen=True)
class OptionSpec:
    label: str
    cost: int | None = None
    problem_id: int | None = None


async def create_poll(
    repos: Repos,
    municipality: Municipality,
    *,
    title: str,
    ballot_type: str,
    options: Sequence[OptionSpec],
    opens_at: datetime,
    closes_at: datetime,
    now: datetime,
    max_choices: int | None = None,
    village: str | None = None,
    min_age: int = 18,
    budget: int | None = None,
    rule: str | None = None,
    changeable: bool = True,
    imported: bool = False,
    actor: Actor = CLI,
    completion: str = "add1",
    satisfaction: str = "cost",
    threshold: int = 0,
    ties: Sequence[str] = DEFAULT_TIES,
) -> Poll:
    """Validate and store a poll; problems named by id must be approved.

    A budget rule breaks ties by the chain ``ties`` (:data:`~bot.core.counting.TIE_KEYS`;
    the lower option number always ends it).

    ``imported`` polls (a past election read from a file) may lie in the past.
    """
    if not repos.polls.sealing:
        raise ServiceError(BALLOT_KEY_MISSING)
    if ballot_type not in BALLOT_TYPES:
        raise ServiceError(f"ballot type must be one of {', '.join(BALLOT_TYPES)}")
    rule = rule or default_rule(ballot_type)
    if rule not in RULES:
        raise ServiceError(f"rule must be one of {', '.join(RULES)}")
    if not title.strip():
        raise ServiceError("a poll needs a title")
    if len(options) < 2:
        raise ServiceError("a poll needs at least two options")
    if closes_at <= opens_at:
        raise ServiceError("the poll must close after it opens")
    if closes_at <= now and not imported:
        raise ServiceError("the poll would close in the past")
    if not 0 <= min_age <= 120:
        raise ServiceError("minimum age must be 0-120")
    limit = 1 if ballot_type == CHOOSE1 else max_choices
    if limit is None or limit < 1:
        raise ServiceError("approval and ranked polls need --max, cumulative polls --points")
    if ballot_type in SETS and limit > len(options):
        raise ServiceError("--max cannot exceed the number of options")
    if completion not in COMPLETIONS:
        raise ServiceError(f"completion must be one of {', '.join(COMPLETIONS)}")
    if satisfaction not in SATISFACTIONS:
        raise ServiceError(f"satisfaction must be one of {', '.join(SATISFACTIONS)}")
    if threshold < 0:
        raise ServiceError("the threshold cannot be negative")
    if not ties or any(key not in TIE_KEYS for key in ties) or len(set(ties)) != len(ties):
        raise ServiceError(f"ties must be keys among {', '.join(TIE_KEYS)}, each once")
    if rule in BUDGET_RULES:
        if budget is None or budget <= 0:
            raise ServiceError(f"rule {rule} needs a budget in som")
        if any(option.cost is None or option.cost < 0 for option in options):
            raise ServiceError(f"rule {rule} needs a cost for every option")
    labels = []
    for option in options:
        label = option.label.strip()
        if option.problem_id is not None:
            problem = await repos.problems.get(municipality.id, option.problem_id)
            if problem is None or problem.status != "approved":
                raise ServiceError(f"problem {option.problem_id} is not an approved problem")
            label = label or problem.body
        if not label:
            raise ServiceError("every option needs a label")
        labels.append((label, option.problem_id, option.cost))
    electorate = await village_id(repos, municipality, village)
    async with repos.db.transaction():
        poll_id = await repos.polls.create(
            municipality_id=municipality.id,
            title=title.strip(),
            ballot_type=ballot_type,
            max_choices=limit,
            village_id=electorate,
            min_age=min_age,
            opens_at=iso(opens_at),
            closes_at=iso(closes_at),
            budget=budget,
            rule=rule,
            changeable=changeable,
            now=iso(now),
            completion=completion,
            satisfaction=satisfaction,
            threshold=threshold,
            ties=ties,
        )
        await repos.polls.add_options(poll_id, labels)
        await audit.record(
            repos, municipality.id, actor, "poll imported" if imported else "poll created",
            now=now, object_kind="poll", object_id=poll_id,
            detail=f"{ballot_type}, {len(labels)} options",
        )  # fmt: skip
    poll = await repos.polls.get(municipality.id, poll_id)
    assert poll is not None
    return poll


async def get_poll(repos: Repos, municipality: Municipality, poll_id: int) -> Poll:
    poll = await repos.polls.get(municipality.id, poll_id)
    if poll is None:
        raise ServiceError(f"no poll {poll_id}")
    return poll


async def notify_electorate(
    repos: Repos,
    renderer: Renderer,
    poll: Poll,
    purpose: str,
    *,
    now: datetime,
    only_not_voted: bool = False,
    data: dict[str, object] | None = None,
) -> int:
    """Enqueue ``poll_<purpose>`` to every opted-in eligible resident; return how many new."""
    options: list[PollOption] = await repos.polls.options(poll.id)
    born = now.year - poll.min_age
    queued, after = 0, 0
    while page := await repos.polls.electorate_page(
        poll, born_before_or_in=born, after_id=after, limit=PAGE, not_voted=only_not_voted
    ):
        drafts = []
        for recipient in page:
            drafts += drafts_for(
                recipient,
                municipality_id=poll.municipality_id,
                key=f"poll:{poll.id}:{purpose}",
                render=lambda channel, language: renderer.render(
                    f"poll_{purpose}",
                    language,
                    channel,
                    poll=poll,
                    options=options,
                    **(data or {}),
                ),
                buttons=(lambda language: vote_button(renderer, language, poll.id))
                if purpose in VOTE_BUTTON
                else None,
            )
        queued += await repos.outbox.enqueue(drafts, now=iso(now))
        after = page[-1].resident_id
    return queued
