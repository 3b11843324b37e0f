"""Voting by text (SMS/console): ballots, refusals that change nothing, secrecy, results."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.core.languages import LANGUAGES
from bot.core.rendering.sms import sms_size
from bot.core.rendering.templates import Renderer
from bot.core.services import demo_data, poll_results, problems, voting
from bot.core.services.ballot_text import parse_ballot_text
from bot.core.services.errors import Refused, ServiceError
from bot.core.services.polls import OptionSpec, create_poll
from handlers.text import handle_text
from storage.models import Municipality, Poll
from storage.repos import Repos
from tests.conftest import FakeClock, table_snapshot

VOTING_TABLES = ("turnout", "box_ballots")
RESIDENT = demo_data.RESIDENT_PHONE
LABELS = ["Kindergarten", "Roads and bridges", "Street lighting", "Sports hall", "Park"]
COSTS = [400_000, 457_000, 467_500, 1_739_000, 250_000]


@pytest.fixture
def say(repos: Repos, renderer: Renderer, demo: Municipality, clock: FakeClock):
    async def say(text: str, phone: str = RESIDENT, channel: str = "sms") -> str:
        handled = await handle_text(
            repos,
            renderer,
            municipality=demo,
            phone=phone,
            text=text,
            channel=channel,
            now=clock.now(),
        )
        return handled.text

    return say


async def make_poll(
    repos: Repos, demo: Municipality, clock: FakeClock, ballot_type: str = "approval", **extra
) -> Poll:
    options = [OptionSpec(label, cost) for label, cost in zip(LABELS, COSTS, strict=True)]
    settings = {"max_choices": 3, **extra}
    return await create_poll(
        repos,
        demo,
        title="Priorities 2027",
        ballot_type=ballot_type,
        options=options,
        opens_at=clock.now() - timedelta(hours=1),
        closes_at=clock.now() + timedelta(days=7),
        now=clock.now(),
        **settings,
    )


async def test_approval_ballot_by_sms_is_counted_and_echoes_the_choices(
    say, repos: Repos, demo: Municipality, clock: FakeClock
) -> None:
    poll = await make_poll(repos, demo, clock)
    await say("LANG EN")
    reply = await say("V 1 3")
    assert reply == f"Vote in poll {poll.id} received: 1) Kindergarten, 3) Street lighting"
    assert sms_size(reply).segments <= 2
    assert await repos.polls.turnout_count(poll.id) == 1
    ballots = await repos.polls.ballots(poll.id)
    assert len(ballots) == 1
    assert sorted(ballots[0].choices.values()) == [1, 1]
    assert ballots[0].gender in ("f", "m") and ballots[0].age_group


async def test_changing_a_ballot_replaces_it(
    say, repos: Repos, demo: Municipality, clock: FakeClock
) -> None:
    poll = await make_poll(repos, demo, clock)
    await say("V 1 3")
    assert "(мурунку алмаштырылды)" in await say("Д 2")
    clock.advance(days=8)
    results = await poll_results.compute(repos, poll, now=clock.now())
    assert {r.option.position: r.votes for r in results.options} == {1: 0, 2: 1, 3: 0, 4: 0, 5: 0}
    assert results.ballots == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("V 9", "There is no option 9: 1 to 5."),
        ("V 1 2 3 4", "You may choose at most 3. Your vote was not counted."),
        ("V 1 1", "An option was named twice. Your vote was not counted."),
        ("V one", "'one' is not clear. Example: V 1 3 or V 1:5 2:3."),
        ("V 1:5", "This poll has no points: send the option numbers only."),
        ("V", "Send the option numbers: V 1 2. List: POLLS."),
        ("V99 1", "There is no poll 99. List: POLLS."),
    ],
)
async def test_invalid_ballots_are_explained_and_change_nothing(
    say, repos: Repos, demo: Municipality, clock: FakeClock, text: str, expected: str
) -> None:
    await make_poll(repos, demo, clock)
    await say("LANG EN")
    before = await table_snapshot(repos, *VOTING_TABLES)
    assert await say(text) == expected
    assert await table_snapshot(repos, *VOTING_TABLES) == before


async def test_poll_times_are_enforced(
    say, repos: Repos, demo: Municipality, clock: FakeClock
) -> None:
    poll = await make_poll(repos, demo, clock)
    await say("LANG EN")
    clock.advance(days=8)
    assert await say(f"V{poll.id} 1") == f"Poll {poll.id} is closed."
    assert await say("V 1") == "There is no poll open for you right now."
    future = await create_poll(
        repos,
        demo,
        title="Later",
        ballot_type="choose1",
        options=[OptionSpec("A"), OptionSpec("B")],
        opens_at=clock.now() + timedelta(days=1),
        closes_at=clock.now() + timedelta(days=2),
        now=clock.now(),
    )
    assert await say(f"V{future.id} 1") == f"Poll {future.id} is not open yet."
    assert await repos.polls.turnout_count(poll.id) == 0


async def test_electorate_by_village_and_age(
    say, repos: Repos, demo: Municipality, clock: FakeClock
) -> None:
    poll = await make_poll(repos, demo, clock, village="Kachybek")
    await say("LANG EN")
    assert await say(f"V{poll.id} 1") == (
        f"You are not in the electorate of poll {poll.id} (village or age)."
    )
    resident = await repos.residents.by_phone(demo.id, RESIDENT)
    assert resident is not None
    young = await make_poll(repos, demo, clock, min_age=clock.now().year - resident.birth_year + 1)
    assert "not in the electorate" in await say(f"V{young.id} 1")


async def test_unregistered_numbers_cannot_vote(
    say, repos: Repos, demo: Municipality, clock: FakeClock
) -> None:
    await make_poll(repos, demo, clock)
    reply = await say("V 1", phone=demo_data.UNKNOWN_PHONE)
    assert reply.startswith("This number is not in the register.")
    assert await table_snapshot(repos, *VOTING_TABLES) == {t: [] for t in VOTING_TABLES}


async def test_paper_and_phone_ballots_count_once(
    say, repos: Repos, demo: Municipality, clock: FakeClock
) -> None:
    poll = await make_poll(repos, demo, clock)
    resident = await repos.residents.by_phone(demo.id, RESIDENT)
    assert resident is not None
    await voting.cast(
        repos, demo, resident, parse_ballot_text(f"#{poll.id} 2"), channel="paper", now=clock.now()
    )
    await say("LANG EN")
    assert await say("V 1") == "You already voted on a paper ballot."
    other = await repos.residents.by_phone(demo.id, "+996700000003")
    assert other is not None
    await say("V 4", phone=other.phone)
    with pytest.raises(Refused) as refused:
        await voting.cast(
            repos,
            demo,
            other,
            parse_ballot_text(f"#{poll.id} 2"),
            channel="paper",
            now=clock.now(),
        )
    assert refused.value.code == "voted_by_phone"
    assert await repos.polls.turnout_count(poll.id) == 2


async def test_a_fixed_ballot_cannot_be_changed(
    say, repos: Repos, demo: Municipality, clock: FakeClock
) -> None:
    poll = await make_poll(repos, demo, clock, changeable=False)
    await say("LANG EN")
    await say("V 1")
    assert await say("V 2") == f"You already voted in poll {poll.id}; it cannot be changed."


async def test_several_open_polls_need_a_number(
    say, repos: Repos, demo: Municipality, clock: FakeClock
) -> None:
    first = await make_poll(repos, demo, clock)
    second = await make_poll(repos, demo, clock, ballot_type="choose1")
    await say("LANG EN")
    assert await say("V 1") == (
        f"Several polls are open: {first.id}, {second.id}. Add the number: V{first.id} 1."
    )
    assert await say("VOTED") == (
        f"Several polls are open: {first.id}, {second.id}. Add the number: VOTED {first.id}."
    )
    assert (await say(f"V{second.id} 4")).startswith(f"Vote in poll {second.id} received: 4)")
    assert (await say(f"V P{first.id} 1 2")).startswith(f"Vote in poll {first.id} received")


@pytest.mark.parametrize(
    ("ballot_type", "max_choices", "hint"),
    [
        ("choose1", 1, "1"),
        ("approval", 3, "1 2"),
        ("approval", 1, "1"),
        ("ranked", 3, "1 2"),
        ("cumulative", 10, "1:5 2:5"),
        ("cumulative", 1, "1:1"),
    ],
)
@pytest.mark.parametrize("language", LANGUAGES)
async def test_the_polls_hint_is_a_ballot_that_is_accepted(
    say, repos: Repos, demo: Municipality, clock: FakeClock,
    ballot_type: str, max_choices: int, hint: str, language: str,
) -> None:  # fmt: skip
    poll = await make_poll(repos, demo, clock, ballot_type=ballot_type, max_choices=max_choices)
    await say(f"LANG {language}")
    listed = await say("POLLS")
    suggested = listed.rpartition("→ ")[2]
    assert suggested.endswith(f"{poll.id} {hint}"), listed
    await say(suggested)
    assert await repos.polls.turnout_count(poll.id) == 1  # the hint was accepted


async def test_cumulative_points(say, repos: Repos, demo: Municipality, clock: FakeClock) -> None:
    poll = await make_poll(repos, demo, clock, ballot_type="cumulative", max_choices=10)
    await say("LANG EN")
    assert await say("V 1:8 2:3") == ("You gave 11 points but have 10. Your vote was not counted.")
    assert await say("V 1 2") == "Give points: V 1:5 2:3 (10 points in all)."
    assert await say("V 1:6 2:4") == (
        f"Vote in poll {poll.id} received: 1) Kindergarten ×6, 2) Roads and bridges ×4"
    )


async def test_ranked_poll_counts_borda(
    say, repos: Repos, demo: Municipality, clock: FakeClock
) -> None:
    poll = await make_poll(repos, demo, clock, ballot_type="ranked")
    await say("V 2 1 3")
    await say("V 1 2", phone="+996700000003")
    clock.advance(days=8)
    results = await poll_results.compute(repos, poll, now=clock.now())
    scores = {r.option.position: r.score for r in results.options}
    assert scores == {1: 2 + 3, 2: 3 + 2, 3: 1, 4: 0, 5: 0}
    assert [r.option.position for r in results.winners] == [1, 2]  # tie: both best


async def test_results_within_budget_with_equal_shares_and_breakdowns(
    say, repos: Repos, demo: Municipality, clock: FakeClock
) -> None:
    poll = await make_poll(repos, demo, clock, budget=900_000, rule="mes")
    for n in range(1, 11):
        await say("V 2 5", phone=f"+99670000{n:04d}")
    for n in range(11, 15):
        await say("V 1", phone=f"+99670000{n:04d}")
    clock.advance(days=8)
    results = await poll_results.compute(repos, poll, now=clock.now())
    assert [r.option.position for r in results.winners] == [2, 5]
    assert results.spent == 457_000 + 250_000
    assert results.ballots == 14
    assert results.eligible > 2000
    by_gender = results.breakdown["gender"]
    assert sum(count for count, _ in by_gender.values()) == 14
    shown = [scores for _, scores in results.breakdown["village"].values() if scores is not None]
    assert sum(scores[2] for scores in shown) <= 10


async def test_a_budget_poll_counts_with_its_completion_satisfaction_and_threshold(
    say, repos: Repos, demo: Municipality, clock: FakeClock
) -> None:
    poll = await make_poll(
        repos, demo, clock, budget=1_200_000, rule="mes", completion="none", threshold=5
    )
    stored = await repos.polls.get(demo.id, poll.id)
    assert stored is not None
    assert (stored.completion, stored.satisfaction, stored.threshold) == ("none", "cost", 5)
    for n in range(1, 11):
        await say("V 2 5", phone=f"+99670000{n:04d}")
    for n in range(11, 15):
        await say("V 1", phone=f"+99670000{n:04d}")
    clock.advance(days=8)  # counted once closed: nobody sees results while it is open

    async def winners(**options: object) -> list[int]:
        counted = replace(poll, **options)  # type: ignore[arg-type]
        results = await poll_results.compute(repos, counted, now=clock.now())
        return sorted(r.option.position for r in results.winners)

    # the minority's 4 x 85,714 cannot buy the kindergarten (400,000) without completion
    assert await winners() == [2, 5]
    assert await winners(completion="add1", threshold=0) == [1, 2, 5]
    assert await winners(completion="add1") == [2, 5]  # 4 votes, below the threshold
    assert await winners(completion="greedy", threshold=0) == [1, 2, 5]
    assert await winners(completion="greedy") == [2, 5]  # 4 votes, below the threshold
    assert await winners(rule="greedy", threshold=0) == [1, 2, 5]
    assert await winners(rule="greedy") == [2, 5]
    with pytest.raises(ServiceError, match="completion must be one of"):
        await make_poll(repos, demo, clock, budget=1, rule="mes", completion="add2")
    with pytest.raises(ServiceError, match="threshold cannot be negative"):
        await make_poll(repos, demo, clock, budget=1, rule="mes", threshold=-1)


async def test_propose_and_list_problems(
    say, repos: Repos, demo: Municipality, clock: FakeClock, renderer: Renderer
) -> None:
    await say("LANG EN")
    # the demo holds the six 2012 priorities as approved problems 1-6
    assert await say("PROPOSE The bridge in Kachybek is broken") == (
        "Your proposal 7 was received; staff will review it."
    )
    assert await say("PROPOSE") == "Describe the problem: PROPOSE [text] (up to 500 characters)."
    await say("СУНУШ Мост в Качыбеке сломан", phone="+996700000003")
    assert "The bridge in Kachybek" not in await say("PROBLEMS")  # not approved yet
    await problems.merge(repos, demo, 8, 7, now=clock.now())
    await problems.approve(repos, demo, 7, now=clock.now())
    # the most supported first
    assert (await say("PROBLEMS")).startswith(
        "Problems: 7) The bridge in Kachybek is broken (2); 1)"
    )
    await say("PROPOSE Too many stray dogs")
    told = await problems.reject(repos, demo, renderer, 9, "not a budget matter", now=clock.now())
    assert told == 1
    body = await repos.db.fetchval("SELECT body FROM outbox WHERE dedupe_key LIKE 'problem:9:%'")
    assert body == "Your proposal 9 was not accepted: not a budget matter"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_refusal_fits_two_segments(renderer: Renderer, language: str) -> None:
    details = {"token": "x" * 12, "number": 123456, "numbers": [123456, 123457, 123458],
               "count": 40, "limit": 10, "spent": 100}  # fmt: skip
    codes = [
        "empty", "malformed", "unknown_poll", "no_open_poll", "which_poll", "unknown_option",
        "duplicate_option", "no_points_here", "choose_one", "too_many", "points_needed",
        "too_many_points", "poll_scheduled", "poll_closed", "not_in_electorate",
        "voted_on_paper", "voted_by_phone", "already_voted",
    ]  # fmt: skip
    for code in codes:
        text = renderer.render("vote_refused", language, "sms", code=code, **details)
        assert text, code
        assert sms_size(text).units <= 134, (code, text)


def _tap_poll(ballot_type: str, max_choices: int) -> Poll:
    return Poll(
        id=1, municipality_id=1, title="P", ballot_type=ballot_type, max_choices=max_choices,
        village_id=None, min_age=18, opens_at="2026-01-01T00:00:00+00:00",
        closes_at="2027-01-01T00:00:00+00:00", budget=None, rule="totals", changeable=True,
        results_published=False,
    )  # fmt: skip


def test_a_tap_follows_the_ballot_types_rules() -> None:
    """The Telegram ballot's taps, by the voting service's rules (one place for them)."""
    choose1, approval = _tap_poll("choose1", 1), _tap_poll("approval", 2)
    ranked, cumulative = _tap_poll("ranked", 2), _tap_poll("cumulative", 3)
    assert voting.tap(choose1, {1: None}, 2, 0) == {2: None}
    assert voting.tap(approval, {1: None}, 1, 0) == {}  # a second tap takes it back
    assert voting.tap(approval, {1: None, 2: None}, 3, 0) == "too_many"
    # ranked: the next rank; out again, the later ranks move up
    assert list(voting.tap(ranked, {2: None}, 1, 0)) == [2, 1]  # type: ignore[arg-type]
    assert list(voting.tap(ranked, {2: None, 1: None}, 2, 0)) == [1]  # type: ignore[arg-type]
    assert voting.tap(cumulative, {1: 2}, 2, 1) == {1: 2, 2: 1}
    assert voting.tap(cumulative, {1: 2, 2: 1}, 1, 1) == "no_points"
    assert voting.tap(cumulative, {1: 2, 2: 1}, 2, -1) == {1: 2}
