"""The outbox worker over real HTTP to fake Telegram and Twilio servers."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.channels.telegram.sender import TelegramSender
from bot.channels.twilio.sender import TwilioSender, twilio_client
from bot.core.clock import iso
from bot.core.services import broadcast
from bot.outbox.worker import ChannelLimit, OutboxWorker
from storage.db import connect
from storage.models import Municipality, OutboxDraft
from storage.outbox import CLAIM_DUE
from storage.repos import Repos
from tests.conftest import FakeClock
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.twilio_api import FakeTwilioAPI

FROM = "+996312000000"
LINKED = 20  # residents 1..20 have linked Telegram (chat id = 5000 + resident id)


@pytest.fixture
async def fakes(clock: FakeClock) -> AsyncIterator[tuple[FakeTelegramAPI, FakeTwilioAPI]]:
    def wall_clock() -> float:  # Twilio's dates follow the test's clock
        return clock.now().timestamp()

    async with (
        FakeTelegramAPI() as telegram,
        FakeTwilioAPI(owned_numbers=[FROM], wall_clock=wall_clock) as twilio,
    ):
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
        municipality_id=demo.id,
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
    status, attempts, provider_id, _ = await status_of(repos, f"broadcast:1:resident:{LINKED + 1}")
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
    key = f"broadcast:1:resident:{LINKED}"
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
    key = f"broadcast:1:resident:{LINKED}"

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
    status, attempts, _, error = await status_of(repos, "broadcast:1:resident:2")
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
    status, _, _, error = await status_of(repos, f"broadcast:1:resident:{LINKED + 1}")
    assert (status, error) == ("failed", "twilio 21610: unsubscribed")
    resident = await repos.residents.by_id(LINKED + 1)
    assert resident is not None and resident.opted_out


async def test_restart_mid_broadcast_loses_nothing_and_repeats_nothing_sent(
    repos: Repos, demo: Municipality, clock: FakeClock, worker: OutboxWorker, fakes
) -> None:
    _, twilio = fakes
    progress = await village_broadcast(repos, demo, clock, "hello")
    # a crash: a batch was claimed (status 'sending'), part of it sent, then the process died
    claimed = await repos.outbox.claim_due(
        municipality_id=demo.id, channel="sms", now=iso(clock.now()), limit=50
    )
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


async def test_sms_sent_but_not_recorded_before_a_crash_is_not_sent_again(
    repos: Repos, demo: Municipality, clock: FakeClock, worker: OutboxWorker, fakes
) -> None:
    _, twilio = fakes
    progress = await village_broadcast(repos, demo, clock, "hello")
    # a crash: a batch was claimed, 3 of it reached Twilio, the process died before
    # recording them (and Twilio has other messages for those numbers: older, or other texts)
    claimed = await repos.outbox.claim_due(
        municipality_id=demo.id, channel="sms", now=iso(clock.now()), limit=50
    )
    sender = worker.senders["sms"]
    reached = [await sender.send(m.address, m.body) for m in claimed[:3]]
    await sender.send(claimed[0].address, "another text")
    clock.advance(minutes=1)
    assert await worker.recover() == 50
    await worker.drain_channel("sms")
    assert not twilio.duplicates()
    recipients = progress.broadcast.recipients
    assert len(twilio.created) == recipients - LINKED + 1  # each once, and "another text"
    for message, sid in zip(claimed[:3], reached, strict=True):
        row = await repos.outbox.by_key(message.dedupe_key)
        assert row is not None
        assert (row.status, row.provider_id, row.verify_since) == ("sent", sid, None)
    # the rest of the batch was verified too, found not sent, and sent once
    assert len(twilio.calls("GET")) == 50


async def test_an_sms_whose_answer_was_lost_is_verified_not_sent_twice(
    repos: Repos, demo: Municipality, clock: FakeClock, worker: OutboxWorker, fakes
) -> None:
    _, twilio = fakes
    person = await repos.residents.by_id(LINKED + 1)
    assert person is not None
    draft = OutboxDraft(demo.id, "test:lost", "sms", person.phone, "hi", resident_id=person.id)
    await repos.outbox.enqueue([draft], now=iso(clock.now()))
    # Twilio creates the message, then the connection drops before the answer
    twilio.fail_next(disconnect=True, after_processing=True, to=person.phone)
    await worker.drain_channel("sms")
    row = await repos.outbox.by_key("test:lost")
    assert row is not None and row.status == "queued" and row.verify_since is not None
    # the check itself fails at first (Twilio 503): nothing is sent meanwhile
    twilio.fail_next_list(503)
    clock.advance(seconds=3)
    await worker.drain_channel("sms")
    assert twilio.messages_to(person.phone) == ["hi"]
    clock.advance(seconds=10)
    await worker.drain_channel("sms")
    assert twilio.messages_to(person.phone) == ["hi"]
    row = await repos.outbox.by_key("test:lost")
    assert row is not None
    assert (row.status, row.provider_id) == ("sent", twilio.created[0]["sid"])


async def test_an_sms_that_never_reached_twilio_is_sent_after_the_check(
    repos: Repos, demo: Municipality, clock: FakeClock, worker: OutboxWorker, fakes
) -> None:
    _, twilio = fakes
    person = await repos.residents.by_id(LINKED + 1)
    assert person is not None
    draft = OutboxDraft(demo.id, "test:lost", "sms", person.phone, "hi", resident_id=person.id)
    await repos.outbox.enqueue([draft], now=iso(clock.now()))
    # the same text went to this number before (another message, already recorded)
    earlier = OutboxDraft(demo.id, "test:earlier", "sms", person.phone, "hi")
    await repos.outbox.enqueue([earlier], now=iso(clock.now()))
    twilio.fail_next(disconnect=True, to=person.phone)  # dropped before Twilio took it
    await worker.drain_channel("sms")  # "earlier" goes out, "lost" is in doubt
    clock.advance(seconds=3)
    await worker.drain_channel("sms")
    assert twilio.messages_to(person.phone) == ["hi", "hi"]  # one each, not three
    rows = [await repos.outbox.by_key(key) for key in ("test:lost", "test:earlier")]
    assert {row.status for row in rows if row} == {"sent"}
    assert len({row.provider_id for row in rows if row}) == 2


async def test_a_worker_sends_only_its_own_municipalitys_messages(
    repos: Repos, demo: Municipality, clock: FakeClock, worker: OutboxWorker, fakes
) -> None:
    _, twilio = fakes
    other = await repos.municipalities.create(
        slug="kara-suu", name="Kara-Suu", default_language="ky", now=iso(clock.now())
    )
    drafts = [
        OutboxDraft(other, "other:1", "sms", "+996555000001", "not ours"),
        OutboxDraft(demo.id, "ours:1", "sms", "+996555000002", "ours"),
    ]
    await repos.outbox.enqueue(drafts, now=iso(clock.now()))
    assert await worker.drain_channel("sms") == 1
    assert [m["body"] for m in twilio.created] == ["ours"]
    row = await repos.outbox.by_key("other:1")
    assert row is not None and row.status == "queued"


async def test_enqueueing_the_same_key_twice_sends_once(
    repos: Repos, demo: Municipality, clock: FakeClock, worker: OutboxWorker, fakes
) -> None:
    draft = OutboxDraft(demo.id, "test:1", "sms", "+996700000001", "hi", resident_id=1)
    assert await repos.outbox.enqueue([draft], now=iso(clock.now())) == 1
    assert await repos.outbox.enqueue([draft], now=iso(clock.now())) == 0
    await worker.drain_channel("sms")
    assert fakes[1].messages_to("+996700000001") == ["hi"]


@pytest.mark.sqlite_only
async def test_the_claim_walks_an_index_instead_of_sorting_the_queue(repos: Repos) -> None:
    plan = await repos.db.fetchall(f"EXPLAIN QUERY PLAN {CLAIM_DUE}", (1, "sms", "2026-01-01", 50))
    details = " ".join(row[-1] for row in plan)
    assert "outbox_claim" in details
    assert "TEMP B-TREE" not in details


async def test_a_sealed_reply_that_no_longer_opens_reads_empty_never_sealed(
    repos: Repos, demo: Municipality, clock: FakeClock, db_url: str
) -> None:
    """A private reply sealed under one ballot key, read where the key is gone or another:
    its body is empty (the provider refuses it, the row fails), never the sealed text."""
    draft = OutboxDraft(demo.id, "reply:1", "telegram", "7000001", "Your vote: Roads", private=True)
    await repos.outbox.enqueue([draft], now=iso(clock.now()))
    mine = await repos.outbox.by_key("reply:1")
    assert mine is not None and mine.body == "Your vote: Roads"
    stored = await repos.db.fetchval("SELECT body FROM outbox WHERE dedupe_key = 'reply:1'")
    assert "Roads" not in stored
    async with connect(db_url) as db:
        for other in (Repos(db), Repos(db, "another-ballot-key-" + "0" * 32)):
            message = await other.outbox.by_key("reply:1")
            assert message is not None and message.body == ""
