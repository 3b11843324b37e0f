"""The outbox worker over real HTTP to fake Telegram and Twilio servers."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.clock import iso
from bot.delivery.telegram_sender import TelegramSender
from bot.delivery.twilio_sender import TwilioSender, twilio_client
from bot.delivery.worker import ChannelLimit, OutboxWorker
from bot.services import broadcast
from storage.models import Municipality
from storage.repos import Repos
from tests.conftest import FakeClock
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.twilio_api import FakeTwilioAPI

FROM = "+996312000000"
LINKED = 20  # residents 1..20 have linked Telegram (chat id = 5000 + resident id)


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[FakeTelegramAPI, FakeTwilioAPI]]:
    async with FakeTelegramAPI() as telegram, FakeTwilioAPI(owned_numbers=[FROM]) as twilio:
        yield telegram, twilio


@pytest.fixture
async def worker(
    repos: Repos, demo: Municipality, clock: FakeClock, fakes
) -> AsyncIterator[OutboxWorker]:
    telegram, twilio = fakes
    for resident_id in range(1, LINKED + 1):
        await repos.residents.link_telegram(resident_id, 5000 + resident_id, now=iso(clock.now()))
    bot = Bot(
        "123456:TEST-token",
        session=AiohttpSession(api=TelegramAPIServer.from_base(telegram.base_url)),
    )
    sms = TwilioSender(
        twilio_client(twilio.account_sid, twilio.auth_token, twilio.base_url),
        from_number=FROM,
        messaging_service_sid=None,
        status_callback="https://bot.example.kg/sms/twilio/status",
    )

    async def sleep(seconds: float) -> None:  # time passes only on the test's clock
        clock.advance(seconds=seconds)

    yield OutboxWorker(
        repos,
        {"telegram": TelegramSender(bot), "sms": sms},
        {"telegram": ChannelLimit(30, 1), "sms": ChannelLimit(100)},
        clock=clock,
        sleep=sleep,
        rng=random.Random(1),
    )
    await bot.session.close()
    await sms.close()


async def village_broadcast(repos: Repos, demo: Municipality, clock: FakeClock, text: str):
    return await broadcast.create_broadcast(
        repos, demo, body=text, village="Ak-Chiy", now=clock.now()
    )


async def status_of(repos: Repos, key: str) -> tuple[str, int, str | None, str | None]:
    message = await repos.outbox.by_key(key)
    assert message is not None
    return message.status, message.attempts, message.provider_id, message.error


async def test_broadcast_reaches_everyone_once_on_their_channel(
    repos: Repos, demo: Municipality, clock: FakeClock, worker: OutboxWorker, fakes
) -> None:
    telegram, twilio = fakes
    progress = await village_broadcast(repos, demo, clock, "Budget hearing on Friday <10:00>")
    recipients = progress.broadcast.recipients
    assert recipients > 1000
    await worker.drain_channel("telegram")
    await worker.drain_channel("sms")
    chats = telegram.calls("sendMessage")
    assert sorted(int(c.params["chat_id"]) for c in chats) == [
        5000 + i for i in range(1, LINKED + 1)
    ]
    assert chats[0].params["text"] == "Budget hearing on Friday &lt;10:00&gt;"
    assert chats[0].params["parse_mode"] == "HTML"
    sms = twilio.calls("POST")
    assert len(sms) == recipients - LINKED
    assert {r.params["Body"] for r in sms} == {"Budget hearing on Friday <10:00>"}
    assert sms[0].params["StatusCallback"] == "https://bot.example.kg/sms/twilio/status"
    assert not twilio.duplicates() and not telegram.duplicates()
    counts = (await broadcast.progress(repos, progress.broadcast.id)).counts
    assert counts == {"sent": recipients}
    status, attempts, provider_id, _ = await status_of(
        repos, f"broadcast:1:resident:{LINKED + 1}:sms"
    )
    assert (status, attempts) == ("sent", 1)
    assert provider_id is not None and provider_id.startswith("SM")
    # a second drain sends nothing
    assert await worker.drain_channel("sms") == 0


async def test_telegram_retry_after_is_honoured_exactly(
    repos: Repos, demo: Municipality, clock: FakeClock, worker: OutboxWorker, fakes
) -> None:
    telegram, _ = fakes
    await village_broadcast(repos, demo, clock, "hello")
    last_chat = 5000 + LINKED
    telegram.fail_next("sendMessage", 429, retry_after=7, chat_id=last_chat)
    await worker.drain_channel("telegram")
    at_429 = clock.now()  # the 429 was the last send of the drain
    key = f"broadcast:1:resident:{LINKED}:telegram"
    status, _, _, error = await status_of(repos, key)
    assert (status, error) == ("queued", "telegram: too many requests")
    due = await repos.db.fetchval("SELECT next_attempt_at FROM outbox WHERE dedupe_key = ?", (key,))
    assert due == iso(at_429 + timedelta(seconds=7))
    clock.current = at_429 + timedelta(seconds=6)
    assert await worker.drain_channel("telegram") == 0
    clock.current = at_429 + timedelta(seconds=7)
    assert await worker.drain_channel("telegram") == 1
    assert (await status_of(repos, key))[0] == "sent"
    assert telegram.messages_to(last_chat) == ["hello"]
    assert len(telegram.calls("sendMessage")) == LINKED + 1  # one refused, then resent


async def test_retry_after_pauses_the_whole_channel(
    repos: Repos, demo: Municipality, clock: FakeClock, worker: OutboxWorker
) -> None:
    limiter = worker.limiters["telegram"]
    limiter.pause(5)
    assert limiter.reserve("123") == pytest.approx(5)


async def test_server_errors_back_off_and_then_succeed(
    repos: Repos, demo: Municipality, clock: FakeClock, worker: OutboxWorker, fakes
) -> None:
    telegram, _ = fakes
    await village_broadcast(repos, demo, clock, "hello")
    last_chat = 5000 + LINKED
    telegram.fail_next("sendMessage", 500, chat_id=last_chat, count=2)
    key = f"broadcast:1:resident:{LINKED}:telegram"

    async def due() -> str:
        return await repos.db.fetchval(
            "SELECT next_attempt_at FROM outbox WHERE dedupe_key = ?", (key,)
        )

    await worker.drain_channel("telegram")
    first_failure = clock.now()
    assert (await status_of(repos, key))[:2] == ("queued", 1)
    first_wait = (datetime.fromisoformat(await due()) - first_failure).total_seconds()
    assert 1.6 <= first_wait <= 2.4  # 2 s ± 20 % jitter
    clock.current = datetime.fromisoformat(await due())
    await worker.drain_channel("telegram")
    second_failure = clock.now()
    assert (await status_of(repos, key))[:2] == ("queued", 2)
    second_wait = (datetime.fromisoformat(await due()) - second_failure).total_seconds()
    assert 3.2 <= second_wait <= 4.8  # doubled
    clock.current = datetime.fromisoformat(await due())
    await worker.drain_channel("telegram")
    assert (await status_of(repos, key))[:2] == ("sent", 3)
    assert telegram.messages_to(last_chat) == ["hello"]


async def test_blocked_bot_marks_resident_and_falls_back_to_sms(
    repos: Repos, demo: Municipality, clock: FakeClock, worker: OutboxWorker, fakes
) -> None:
    telegram, twilio = fakes
    telegram.block_chat(5002)
    await village_broadcast(repos, demo, clock, "Hearing <b>today</b> & tomorrow")
    await worker.drain_channel("telegram")
    status, attempts, _, error = await status_of(repos, "broadcast:1:resident:2:telegram")
    assert (status, attempts) == ("failed", 1)
    assert error == "telegram: Forbidden: bot was blocked by the user"
    resident = await repos.residents.by_id(2)
    assert resident is not None and resident.telegram_blocked
    await worker.drain_channel("sms")
    assert twilio.messages_to(resident.phone) == ["Hearing <b>today</b> & tomorrow"]
    # never retried in a loop
    await worker.drain_channel("telegram")
    assert len([c for c in telegram.calls("sendMessage") if int(c.params["chat_id"]) == 5002]) == 1


async def test_unsubscribed_sms_recipient_is_opted_out(
    repos: Repos, demo: Municipality, clock: FakeClock, worker: OutboxWorker, fakes
) -> None:
    _, twilio = fakes
    resident = await repos.residents.by_id(LINKED + 1)
    assert resident is not None
    twilio.unsubscribe(resident.phone)
    await village_broadcast(repos, demo, clock, "hello")
    await worker.drain_channel("sms")
    status, _, _, error = await status_of(repos, f"broadcast:1:resident:{LINKED + 1}:sms")
    assert (status, error) == ("failed", "twilio 21610: unsubscribed")
    resident = await repos.residents.by_id(LINKED + 1)
    assert resident is not None and resident.opted_out


async def test_restart_mid_broadcast_loses_nothing_and_repeats_nothing_sent(
    repos: Repos, demo: Municipality, clock: FakeClock, worker: OutboxWorker, fakes
) -> None:
    _, twilio = fakes
    progress = await village_broadcast(repos, demo, clock, "hello")
    # a crash: a batch was claimed (status 'sending'), part of it sent, then the process died
    claimed = await repos.outbox.claim_due(channels=["sms"], now=iso(clock.now()), limit=50)
    for message in claimed[:10]:
        provider_id = await worker.senders["sms"].send(message.address, message.body)
        await repos.outbox.mark_sent(message.id, provider_id, now=iso(clock.now()))
    assert await worker.recover() == 40
    await worker.drain_channel("telegram")
    await worker.drain_channel("sms")
    assert not twilio.duplicates()
    total = len(twilio.calls("POST")) + LINKED
    assert total == progress.broadcast.recipients
    assert (await broadcast.progress(repos, progress.broadcast.id)).counts == {
        "sent": progress.broadcast.recipients
    }


async def test_enqueueing_the_same_key_twice_sends_once(
    repos: Repos, demo: Municipality, clock: FakeClock, worker: OutboxWorker, fakes
) -> None:
    from storage.models import OutboxDraft

    draft = OutboxDraft(demo.id, "test:1", "sms", "+996700000001", "hi", resident_id=1)
    assert await repos.outbox.enqueue([draft], now=iso(clock.now())) == 1
    assert await repos.outbox.enqueue([draft], now=iso(clock.now())) == 0
    await worker.drain_channel("sms")
    assert fakes[1].messages_to("+996700000001") == ["hi"]


@pytest.mark.sqlite_only
async def test_the_claim_walks_an_index_instead_of_sorting_the_queue(repos: Repos) -> None:
    plan = await repos.db.fetchall(
        "EXPLAIN QUERY PLAN SELECT id FROM outbox WHERE status = 'queued'"
        " AND next_attempt_at <= ? AND channel IN (?) ORDER BY next_attempt_at, id LIMIT 50",
        ("2026-01-01", "sms"),
    )
    details = " ".join(row[-1] for row in plan)
    assert "outbox_claim" in details
    assert "TEMP B-TREE" not in details
