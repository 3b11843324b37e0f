"""Poll announcements, reminders and results from the scheduler, on a controllable clock."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from bot.core.clock import iso
from bot.core.rendering.templates import Renderer
from bot.core.services.poll_jobs import PollJobs
from bot.core.services.polls import OptionSpec, create_poll
from bot.runtime.scheduling import Scheduler
from handlers.text import handle_text
from storage.models import Municipality, Poll
from storage.repos import Repos
from tests.conftest import FakeClock


async def outbox_count(repos: Repos, purpose: str, poll: Poll) -> int:
    return int(
        await repos.db.fetchval(
            "SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE ?", (f"poll:{poll.id}:{purpose}:%",)
        )
    )


@pytest.fixture
async def poll(repos: Repos, demo: Municipality, clock: FakeClock) -> Poll:
    return await create_poll(
        repos,
        demo,
        title="Priorities",
        ballot_type="choose1",
        options=[OptionSpec("Kindergarten"), OptionSpec("Roads")],
        village="Kachybek",
        opens_at=clock.now() + timedelta(hours=1),
        closes_at=clock.now() + timedelta(days=3),
        now=clock.now(),
    )


def scheduler(repos: Repos, renderer: Renderer, clock: FakeClock) -> Scheduler:
    return Scheduler([PollJobs(repos, renderer)], clock)


async def test_the_whole_cycle_sends_each_message_once(
    repos: Repos, renderer: Renderer, demo: Municipality, clock: FakeClock, poll: Poll
) -> None:
    jobs = scheduler(repos, renderer, clock)
    assert await jobs.sync() == {}
    clock.advance(hours=1)
    ran = await jobs.run_due()
    electorate = ran[f"poll:{poll.id}:announce"]
    kachybek = await repos.db.fetchval(
        "SELECT COUNT(*) FROM residents r JOIN villages v ON v.id = r.village_id"
        " WHERE v.name = 'Kachybek' AND r.birth_year <= ?",
        (clock.now().year - 18,),
    )
    assert electorate == kachybek > 500
    assert await jobs.run_due() == {}  # nothing runs twice
    # a second process (restart) runs the job again: the outbox dedupes it
    assert await scheduler(repos, renderer, clock).run_due() == {f"poll:{poll.id}:announce": 0}
    # one resident votes; the reminder goes only to those who have not
    voter = await repos.db.fetchone(
        "SELECT phone FROM residents WHERE village_id = (SELECT id FROM villages"
        " WHERE name = 'Kachybek') AND birth_year <= 2000 ORDER BY id LIMIT 1"
    )
    handled = await handle_text(
        repos,
        renderer,
        municipality=demo,
        phone=voter[0],
        text="V 1",
        channel="sms",
        now=clock.now(),
    )
    assert "1) Kindergarten" in handled.text
    clock.current = datetime.fromisoformat(poll.closes_at) - timedelta(days=1)
    ran = await jobs.run_due()
    assert ran == {f"poll:{poll.id}:reminder": electorate - 1}
    clock.current = datetime.fromisoformat(poll.closes_at)
    ran = await jobs.run_due()
    assert ran == {f"poll:{poll.id}:results": electorate}
    body = await repos.db.fetchval(
        "SELECT body FROM outbox WHERE dedupe_key LIKE ? AND channel = 'sms' LIMIT 1",
        (f"poll:{poll.id}:results:%",),
    )
    assert "Kindergarten" in body
    assert (await repos.polls.get(demo.id, poll.id)).results_published  # type: ignore[union-attr]
    assert await scheduler(repos, renderer, clock).run_due() == {}


async def test_a_resident_who_links_telegram_after_the_sms_is_not_told_again(
    repos: Repos, renderer: Renderer, demo: Municipality, clock: FakeClock, poll: Poll
) -> None:
    clock.advance(hours=1)
    electorate = (await scheduler(repos, renderer, clock).run_due())[f"poll:{poll.id}:announce"]
    resident_id = await repos.db.fetchval(
        "SELECT resident_id FROM outbox WHERE dedupe_key LIKE ? AND channel = 'sms'"
        " ORDER BY id LIMIT 1",
        (f"poll:{poll.id}:announce:%",),
    )
    await repos.residents.link_telegram(resident_id, 424242, now=iso(clock.now()))
    for _ in range(3):  # restarts: each process runs the due job again
        ran = await scheduler(repos, renderer, clock).run_due()
        assert ran == {f"poll:{poll.id}:announce": 0}
    assert await outbox_count(repos, "announce", poll) == electorate
    told = await repos.db.fetchall(
        "SELECT channel FROM outbox WHERE resident_id = ? AND dedupe_key LIKE ?",
        (resident_id, f"poll:{poll.id}:announce:%"),
    )
    assert [row[0] for row in told] == ["sms"]


async def test_the_announcement_in_telegram_carries_a_vote_button(
    repos: Repos, renderer: Renderer, demo: Municipality, clock: FakeClock, poll: Poll
) -> None:
    resident_id = await repos.db.fetchval(
        "SELECT id FROM residents WHERE village_id = (SELECT id FROM villages"
        " WHERE name = 'Kachybek') AND birth_year <= 2000 ORDER BY id LIMIT 1"
    )
    await repos.residents.link_telegram(resident_id, 424242, now=iso(clock.now()))
    clock.advance(hours=1)
    await scheduler(repos, renderer, clock).run_due()
    row = await repos.db.fetchone(
        "SELECT body, reply_markup FROM outbox WHERE resident_id = ? AND channel = 'telegram'",
        (resident_id,),
    )
    markup = json.loads(row[1])
    assert [b["callback_data"] for r in markup["inline_keyboard"] for b in r] == [f"vp:{poll.id}"]
    assert f"POLLS {poll.id}" not in row[0] and f"ДОБУШТАР {poll.id}" not in row[0]


async def test_after_downtime_stale_jobs_are_skipped_and_results_caught_up(
    repos: Repos, renderer: Renderer, demo: Municipality, clock: FakeClock, poll: Poll
) -> None:
    clock.current = datetime.fromisoformat(poll.closes_at) + timedelta(
        hours=5
    )  # down the whole time
    ran = await scheduler(repos, renderer, clock).sync()
    assert set(ran) == {f"poll:{poll.id}:results"}
    assert await outbox_count(repos, "announce", poll) == 0
    assert await outbox_count(repos, "reminder", poll) == 0


async def test_missed_announcement_is_sent_late_while_the_poll_is_open(
    repos: Repos, renderer: Renderer, demo: Municipality, clock: FakeClock, poll: Poll
) -> None:
    clock.advance(days=1)
    ran = await scheduler(repos, renderer, clock).sync()
    assert set(ran) == {f"poll:{poll.id}:announce"}


async def test_opted_out_residents_get_nothing(
    repos: Repos, renderer: Renderer, demo: Municipality, clock: FakeClock, poll: Poll
) -> None:
    await repos.db.execute("UPDATE residents SET opted_out = TRUE")
    clock.advance(hours=2)
    assert await scheduler(repos, renderer, clock).run_due() == {f"poll:{poll.id}:announce": 0}


async def test_sync_arms_a_timer_for_each_future_job_and_drops_stale_ones(
    repos: Repos, renderer: Renderer, demo: Municipality, clock: FakeClock, poll: Poll
) -> None:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    timer = AsyncIOScheduler(timezone="UTC")
    timer.start(paused=True)  # nothing fires by itself: the test only reads the timers
    try:
        await Scheduler([PollJobs(repos, renderer)], clock, timer).sync()
        armed = {job.id: job.next_run_time for job in timer.get_jobs()}
        assert armed == {
            f"job:poll:{poll.id}:announce": datetime.fromisoformat(poll.opens_at),
            f"job:poll:{poll.id}:reminder": datetime.fromisoformat(poll.closes_at)
            - timedelta(days=1),
            f"job:poll:{poll.id}:results": datetime.fromisoformat(poll.closes_at),
        }
        clock.advance(hours=2)  # the announcement is due now: it runs, its timer goes
        ran = await Scheduler([PollJobs(repos, renderer)], clock, timer).sync()
        assert list(ran) == [f"poll:{poll.id}:announce"]
        assert f"job:poll:{poll.id}:announce" not in {job.id for job in timer.get_jobs()}
    finally:
        timer.shutdown(wait=False)
