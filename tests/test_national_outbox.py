"""One outbox worker for many municipalities, each through its own bot (read from its
sealed secrets) at that bot's own limit: one municipality's big broadcast holds up no
other municipality's reply. Over real HTTP to the fake Telegram, time on a FakeClock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest

from bot.app import national_accounts
from bot.channels.gateway_events import GatewayEvents
from bot.config import load_settings
from bot.core.clock import iso
from bot.core.rendering.templates import Renderer
from bot.core.services.errors import ServiceError
from bot.core.services.municipalities import create_municipality, set_secret
from bot.outbox.worker import QUANTUM, OutboxWorker
from bot.runtime.web import WebContext
from storage.db import connect
from storage.migrate import migrate
from storage.models import Municipality, OutboxDraft
from storage.outbox import AHEAD
from storage.repos import Repos
from tests.conftest import FakeClock
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.twilio_api import FakeTwilioAPI

KEY = "n" * 40
TOKENS = {"ak-chiy": "111:AAA-ak-chiy", "kara-suu": "222:BBB-kara-suu"}
BROADCAST = 3000
REPLY_CHAT = 777
B_SID = "AC" + "b" * 32
B_NUMBER = "+996312000222"


@pytest.fixture
async def national(
    db_url: str, clock: FakeClock
) -> AsyncIterator[tuple[Repos, list[Municipality]]]:
    async with connect(db_url) as db:
        await migrate(db)
        repos = Repos(db, secrets_key=KEY)
        made = []
        for slug, token in TOKENS.items():
            municipality = await create_municipality(
                repos, slug=slug, name=slug, villages=["A"], default_language="ky",
                now=clock.now(),
            )  # fmt: skip
            await set_secret(repos, municipality, "TELEGRAM_BOT_TOKEN", token, now=clock.now())
            made.append(municipality)
        yield repos, made


@pytest.fixture
async def telegram(clock: FakeClock) -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI(clock=lambda: clock.now().timestamp()) as fake:
        yield fake


def no_sms(municipality: Municipality):
    raise AssertionError("no municipality here has an SMS gateway")


async def enqueue(repos: Repos, clock: FakeClock, a: Municipality, b: Municipality) -> None:
    """A's broadcast of 3,000, then B's broadcast of 60 and a reply to a resident of B."""
    now = iso(clock.now())

    def bulk(municipality: Municipality, count: int) -> list[OutboxDraft]:
        return [
            OutboxDraft(
                municipality.id,
                f"{municipality.slug}:{n}",
                "telegram",
                str(10_000 * municipality.id + n),
                f"notice of {municipality.slug}",
            )
            for n in range(count)
        ]

    await repos.outbox.enqueue(bulk(a, BROADCAST), now=now)
    await repos.outbox.enqueue(bulk(b, 60), now=now)
    reply = OutboxDraft(b.id, "reply", "telegram", str(REPLY_CHAT), "your answer")
    await repos.outbox.enqueue([reply], now=now, due=AHEAD)


def busiest_second(times: list[float]) -> int:
    """The most sends in any one-second window."""
    times = sorted(times)
    start, most = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


async def drain(
    repos: Repos, clock: FakeClock, telegram: FakeTelegramAPI, settings, *, a_sends: int
) -> tuple[list, list]:
    """Run the national worker until A's bot sent ``a_sends`` and B's reply and broadcast
    are out; its accounts and the sendMessage calls, in order."""

    async def sleep(seconds: float) -> None:
        """Lanes wait side by side: the clock moves to the latest wake-up."""
        wake = clock.now().timestamp() + seconds
        clock.current = max(clock.current, clock.current.fromtimestamp(wake, clock.current.tzinfo))
        await asyncio.sleep(0)

    def by(slug: str) -> int:
        return sum(1 for c in telegram.calls("sendMessage") if c.params["text"].endswith(slug))

    async with AsyncExitStack() as stack:
        accounts = await national_accounts(settings, repos, stack, no_sms)
        worker = OutboxWorker(repos, accounts=accounts, clock=clock, sleep=sleep)
        stop = asyncio.Event()
        running = asyncio.create_task(worker.run(stop, idle=0.01))

        for _ in range(6000):  # the worker runs in the background; up to two minutes
            if by("ak-chiy") >= a_sends and by("kara-suu") >= 60 and by("answer") >= 1:
                break
            await asyncio.sleep(0.02)
        stop.set()
        await running
    return accounts, telegram.calls("sendMessage")


async def test_a_broadcast_of_one_municipality_holds_up_no_reply_of_another(
    db_url: str, clock: FakeClock, national, telegram: FakeTelegramAPI
) -> None:
    repos, (a, b) = national
    await enqueue(repos, clock, a, b)
    settings = load_settings(
        database_url=db_url, telegram_api_url=telegram.base_url, secrets_key=KEY
    )
    accounts, calls = await drain(repos, clock, telegram, settings, a_sends=150)
    assert sorted((x.channel, x.municipality_ids) for x in accounts) == [
        ("telegram", (a.id,)),
        ("telegram", (b.id,)),
    ]
    first = [(c.token, int(c.params["chat_id"])) for c in calls[:3]]
    assert (TOKENS["kara-suu"], REPLY_CHAT) in first  # B's reply is not behind A's 3,000
    assert {c.params["text"] for c in calls if c.token == TOKENS["ak-chiy"]} == {
        "notice of ak-chiy"
    }
    for token in TOKENS.values():  # each bot within its own 30 a second ...
        assert busiest_second([c.received_at for c in calls if c.token == token]) <= 30
    # ... and not one limit for both: together they went faster than one bot may
    assert busiest_second([c.received_at for c in calls]) > 40
    assert telegram.stats.rate_limited == 0


async def test_municipalities_sharing_a_bot_take_turns_within_its_limit(
    db_url: str, clock: FakeClock, national, telegram: FakeTelegramAPI
) -> None:
    repos, (a, b) = national
    await set_secret(repos, b, "TELEGRAM_BOT_TOKEN", TOKENS["ak-chiy"], now=clock.now())
    await enqueue(repos, clock, a, b)
    settings = load_settings(
        database_url=db_url, telegram_api_url=telegram.base_url, secrets_key=KEY
    )
    accounts, calls = await drain(repos, clock, telegram, settings, a_sends=60)
    assert [(x.channel, x.municipality_ids) for x in accounts] == [("telegram", (a.id, b.id))]
    chats = [(c.params["text"], int(c.params["chat_id"])) for c in calls]
    # A's turn (at most QUANTUM), then B's: its reply first
    assert chats.index(("your answer", REPLY_CHAT)) <= QUANTUM
    # both went on in turns: B's 60 did not wait for A's 3,000
    assert sum(1 for text, _ in chats[: 2 * QUANTUM + 1] if text == "notice of kara-suu") >= 9
    assert busiest_second([c.received_at for c in calls]) <= 30
    assert telegram.stats.rate_limited == 0


async def test_with_another_key_nothing_is_sent(
    db_url: str, clock: FakeClock, national, telegram: FakeTelegramAPI
) -> None:
    repos, (a, b) = national
    await enqueue(repos, clock, a, b)
    settings = load_settings(
        database_url=db_url, telegram_api_url=telegram.base_url, secrets_key="w" * 40
    )
    async with connect(db_url) as db:
        other = Repos(db, secrets_key=settings.secrets_secret)
        async with AsyncExitStack() as stack:
            with pytest.raises(ServiceError, match="does not open with this SECRETS_KEY"):
                await national_accounts(settings, other, stack, no_sms)
    assert telegram.calls() == []
    assert await repos.outbox.backlog(a.id) == {"telegram": BROADCAST}


async def test_a_municipality_sends_sms_through_its_own_twilio_account_only(
    db_url: str, clock: FakeClock, national, telegram: FakeTelegramAPI, renderer: Renderer
) -> None:
    """B keeps its own Twilio account; A has none of its own and takes none of the
    environment's: A's SMS wait, B's go out from B's number."""
    repos, (a, b) = national
    for name, value in (
        ("SMS_GATEWAY", "twilio"),
        ("TWILIO_ACCOUNT_SID", B_SID),
        ("TWILIO_AUTH_TOKEN", "b-auth-token"),
        ("TWILIO_FROM_NUMBER", B_NUMBER),
    ):
        await set_secret(repos, b, name, value, now=clock.now())
    now = iso(clock.now())
    for municipality in (a, b):
        draft = OutboxDraft(municipality.id, f"sms:{municipality.slug}", "sms", "+996555000111",
                            f"hello from {municipality.slug}")  # fmt: skip
        await repos.outbox.enqueue([draft], now=now)
    async with FakeTwilioAPI(
        account_sid=B_SID, auth_token="b-auth-token", owned_numbers=[B_NUMBER]
    ) as twilio:
        settings = load_settings(
            database_url=db_url,
            telegram_api_url=telegram.base_url,
            secrets_key=KEY,
            twilio_api_url=twilio.base_url,
            twilio_account_sid="AC" + "e" * 32,  # the environment's: not A's, not B's
            twilio_auth_token="env-auth-token",
            twilio_from_number="+15005550006",
        )
        events = []

        def events_for(municipality: Municipality) -> GatewayEvents:
            events.append(municipality.slug)
            return GatewayEvents(WebContext(repos, renderer, clock, municipality))

        async with AsyncExitStack() as stack:
            accounts = await national_accounts(settings, repos, stack, events_for)
            assert sorted((x.channel, x.municipality_ids) for x in accounts) == [
                ("sms", (b.id,)),
                ("telegram", (a.id,)),
                ("telegram", (b.id,)),
            ]
            (sms,) = [x for x in accounts if x.channel == "sms"]
            worker = OutboxWorker(repos, accounts=accounts, clock=clock)
            assert await worker.drain_channel(sms.name) == 1
        assert events == ["kara-suu"]
        assert [(m["from"], m["body"]) for m in twilio.created] == [
            (B_NUMBER, "hello from kara-suu")
        ]
    assert await repos.outbox.backlog(a.id) == {"sms": 1}
