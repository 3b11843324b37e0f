"""Several workers (as several `civic-bot run` processes would) on one PostgreSQL outbox:
each message goes out exactly once, and the rate limits hold across all of them.

PostgreSQL only: these tests need TEST_POSTGRES_URL (see tests/conftest.py).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from contextlib import AsyncExitStack

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.channels.telegram.sender import TelegramSender
from bot.core.clock import SystemClock, iso
from bot.outbox.worker import ChannelLimit, OutboxWorker
from storage.db import connect, open_database
from storage.migrate import migrate
from storage.models import OutboxDraft
from storage.repos import Repos
from tests.conftest import FakeClock
from tests.fakes.telegram_api import FakeTelegramAPI

pytestmark = pytest.mark.postgres_only

RATE = 30  # Telegram's limit, messages a second over all chats
RECIPIENTS = 300
NOW = "2026-11-25T04:00:00.000+00:00"


async def fill_outbox(repos: Repos, count: int, *, channel: str = "telegram") -> int:
    municipality = await repos.municipalities.create(
        slug="ak-chiy", name="Ak-Chiy", default_language="ky", now=NOW
    )
    drafts = [
        OutboxDraft(municipality, f"broadcast:1:chat:{n}:{channel}", channel, str(5000 + n), "hi")
        for n in range(count)
    ]
    assert await repos.outbox.enqueue(drafts, now=NOW) == count
    return municipality


def busiest_second(times: list[float]) -> int:
    """The most messages the provider accepted within any one second."""
    times = sorted(times)
    most, first = 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


async def test_two_workers_send_each_message_once_within_the_shared_rate(db_url: str) -> None:
    async with AsyncExitStack() as stack:
        telegram = await stack.enter_async_context(
            FakeTelegramAPI(global_rate=RATE, per_chat_rate=1, latency=0.005)
        )
        setup = Repos(await stack.enter_async_context(connect(db_url)))
        await migrate(setup.db)
        municipality = await fill_outbox(setup, RECIPIENTS)
        workers = []
        for _ in range(2):  # each with its own connection and bot, like two processes
            db = await stack.enter_async_context(connect(db_url))
            api = TelegramAPIServer.from_base(telegram.base_url)
            bot = Bot("123456:TEST", session=AiohttpSession(api=api))
            stack.push_async_callback(bot.session.close)
            workers.append(
                OutboxWorker(
                    Repos(db),
                    {"telegram": TelegramSender(bot)},
                    {"telegram": ChannelLimit(RATE, 1)},
                    municipality_id=municipality,
                    clock=SystemClock(),
                    batch=20,
                )
            )
        stop = asyncio.Event()
        started = time.monotonic()
        runs = [asyncio.ensure_future(w.run(stop, idle=0.1)) for w in workers]
        while await setup.outbox.pending():
            assert time.monotonic() - started < 60, "the workers stalled"
            assert not any(run.done() for run in runs), [run.exception() for run in runs]
            await asyncio.sleep(0.1)
        stop.set()
        await asyncio.gather(*runs)
        elapsed = time.monotonic() - started
        claimed_by = await setup.db.fetchall("SELECT claimed_by FROM outbox WHERE status = 'sent'")

    sent = [call for call in telegram.calls("sendMessage") if call.status == 200]
    assert sorted(int(call.params["chat_id"]) for call in sent) == [
        5000 + n for n in range(RECIPIENTS)
    ]
    assert telegram.duplicates() == {}
    # the limit held across both workers: not one 429, never more than RATE in a second
    assert telegram.stats.rate_limited == 0
    assert busiest_second([m.received_at for m in telegram.delivered]) <= RATE
    # both took part, and together they kept close to the rate
    by_worker = Counter(row[0] for row in claimed_by)
    assert set(by_worker) == {w.id for w in workers}
    assert min(by_worker.values()) >= RECIPIENTS // 5
    assert elapsed < RECIPIENTS / RATE + 5


async def test_concurrent_claims_never_take_a_row_twice(db_url: str) -> None:
    async with AsyncExitStack() as stack:
        dbs = [await stack.enter_async_context(connect(db_url)) for _ in range(4)]
        await migrate(dbs[0])
        municipality = await fill_outbox(Repos(dbs[0]), 400)

        async def claim_all(worker_id: int) -> list[int]:
            repos = Repos(dbs[worker_id])
            claimed: list[int] = []
            while batch := await repos.outbox.claim_due(
                municipality_id=municipality,
                channel="telegram",
                now=NOW,
                limit=7,
                worker_id=worker_id + 1,
            ):
                claimed += [m.id for m in batch]
                await asyncio.sleep(0)
            return claimed

        claims = await asyncio.gather(*(claim_all(n) for n in range(4)))
    every = [message_id for claimed in claims for message_id in claimed]
    assert sorted(every) == list(range(1, 401))  # each row once
    assert all(claims)  # and every worker got some


async def test_rows_of_a_worker_that_died_go_back_to_the_queue_and_no_others(
    db_url: str,
) -> None:
    async with connect(db_url) as db:
        await migrate(db)
        municipality = await fill_outbox(Repos(db), 30)
        alive_db = await open_database(db_url)
        dead_db = await open_database(db_url)
        try:
            alive, dead, me = Repos(alive_db), Repos(dead_db), Repos(db)
            await alive.outbox.register_worker(1)
            await dead.outbox.register_worker(2)
            await me.outbox.register_worker(3)
            for repos, worker_id in ((alive, 1), (dead, 2), (me, 3)):
                claimed = await repos.outbox.claim_due(
                    municipality_id=municipality,
                    channel="telegram",
                    now=NOW,
                    limit=10,
                    worker_id=worker_id,
                )
                assert len(claimed) == 10
            alive_now = await me.outbox.live_workers()
            assert alive_now is not None and {1, 2, 3} <= alive_now
            assert await me.outbox.requeue_in_flight(now=NOW, worker_id=3, alive=alive_now) == 0
            await dead_db.close()  # the process died: its session lock is gone
            alive_now = await me.outbox.live_workers()
            assert alive_now is not None and 2 not in alive_now
            now = iso(SystemClock().now())
            assert await me.outbox.requeue_in_flight(now=now, worker_id=3, alive=alive_now) == 10
            rows = await db.fetchall(
                "SELECT claimed_by, status, COUNT(*) FROM outbox GROUP BY claimed_by, status"
            )
            assert sorted(tuple(r) for r in rows) == [
                (1, "sending", 10),
                (2, "queued", 10),
                (3, "sending", 10),
            ]
        finally:
            await alive_db.close()


async def test_a_retry_after_pauses_every_worker(db_url: str) -> None:
    """Telegram's 429 "retry after" is for the bot, not for one process."""
    async with connect(db_url) as one_db, connect(db_url) as two_db:
        await migrate(one_db)
        bot = Bot("123456:TEST")  # never called: only its id names the shared limit
        one, two = (
            OutboxWorker(
                Repos(db),
                {"telegram": TelegramSender(bot)},
                {"telegram": ChannelLimit(RATE, 1)},
                municipality_id=1,
                clock=SystemClock(),
            )
            for db in (one_db, two_db)
        )
        await one.shared_limiters["telegram"].pause(5)
        slot = await two.shared_limiters["telegram"].reserve("5001")
        assert slot.send_id is not None
        assert 4.5 < slot.wait <= 5


async def test_a_dead_workers_send_in_flight_does_not_hold_its_chat(db_url: str) -> None:
    """A process killed mid-send leaves its reservation in flight: the next recovery
    completes it, so the chat gets its message now, not after IN_FLIGHT_MAX."""
    async with connect(db_url) as one_db:
        await migrate(one_db)
        bot = Bot("123456:TEST")
        two_db = await open_database(db_url)
        clock = FakeClock()
        one, two = (
            OutboxWorker(
                Repos(db),
                {"telegram": TelegramSender(bot)},
                {"telegram": ChannelLimit(RATE, 1)},
                municipality_id=1,
                clock=clock,
            )
            for db in (one_db, two_db)
        )
        await one.recover()
        await two.recover()
        cut_short = await two.shared_limiters["telegram"].reserve("5001")
        assert cut_short.send_id is not None
        await two_db.close()  # killed before the send completed
        held = await one.shared_limiters["telegram"].reserve("5001")
        assert held.send_id is None  # in flight, as far as anyone can tell
        await one.recover()
        clock.advance(seconds=1)  # the chat's own spacing: 1 message a second
        slot = await one.shared_limiters["telegram"].reserve("5001")
        assert slot.send_id is not None and slot.wait < 0.1


async def test_each_bot_keeps_its_own_shared_limit(db_url: str) -> None:
    """Two municipalities' bots on one database: a 429 for one does not pause the other."""
    async with connect(db_url) as db:
        await migrate(db)
        first, second = (
            OutboxWorker(
                Repos(db),
                {"telegram": TelegramSender(Bot(token))},
                {"telegram": ChannelLimit(RATE, 1)},
                municipality_id=number,
                clock=SystemClock(),
            )
            for number, token in ((1, "111:FIRST"), (2, "222:SECOND"))
        )
        await first.shared_limiters["telegram"].pause(5)
        assert (await first.shared_limiters["telegram"].reserve("5001")).wait > 4.5
        slot = await second.shared_limiters["telegram"].reserve("5001")
        assert slot.send_id is not None and slot.wait < 0.1
