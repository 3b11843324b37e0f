"""``POST /telegram/webhook`` over real HTTP: the secret header, duplicates, and retries.

Most cases feed a recorder; the end-to-end ones feed the real dispatcher with a Bot
pointed at the fake Telegram Bot API, so a reply is a ``sendMessage`` the fake received.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.clock import iso
from bot.rendering.templates import Renderer
from bot.services import demo_data
from bot.telegram_app import build_dispatcher, webhook_feed
from bot.telegram_lane import TextLane
from bot.web import WebContext, build_app
from storage.models import Municipality
from storage.repos import Repos
from tests.conftest import FakeClock
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.webhooks import (
    TELEGRAM_SECRET_HEADER,
    telegram_callback_update,
    telegram_message_update,
    telegram_webhook_headers,
)
from tests.telegram_helpers import fake_bot

SECRET = "s3cret-token_for-the-webhook"
USER = 7_000_001
TOKEN = "123456:TEST"


@dataclass
class Feed:
    """A stand-in for ``dp.feed_raw_update``: records updates; can fail or wait."""

    fed: list[dict[str, Any]] = field(default_factory=list)
    #: raise on this many calls first (each failed call is recorded too)
    failures: int = 0
    #: when set, every call waits for it before returning
    gate: asyncio.Event | None = None
    attempts: int = 0
    #: set once the first call has begun
    entered: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, update: dict[str, Any]) -> None:
        self.attempts += 1
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.failures:
            self.failures -= 1
            raise RuntimeError("the handler fell over")
        self.fed.append(update)


@dataclass
class Web:
    ctx: WebContext
    server: TestServer
    http: aiohttp.ClientSession

    async def post(
        self, body: bytes | dict[str, Any], headers: dict[str, str] | None = None
    ) -> int:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        async with self.http.post(
            self.server.make_url("/telegram/webhook"),
            data=data,
            headers=telegram_webhook_headers(SECRET) if headers is None else headers,
        ) as resp:
            await resp.read()
            return resp.status

    async def deliver(
        self, api: FakeTelegramAPI, update: dict[str, Any], *, lose_answer: bool = False
    ) -> int:
        """``update`` delivered by the fake Telegram, which runs the webhook's answer."""
        delivery = await api.deliver_webhook(
            update,
            url=str(self.server.make_url("/telegram/webhook")),
            secret=SECRET,
            token=TOKEN,
            session=self.http,
            lose_answer=lose_answer,
        )
        return delivery.status


@pytest.fixture
def feed() -> Feed:
    return Feed()


@pytest.fixture
async def web(
    repos: Repos, demo: Municipality, clock: FakeClock, renderer: Renderer, feed: Feed
) -> AsyncIterator[Web]:
    ctx = WebContext(
        repos=repos,
        renderer=renderer,
        clock=clock,
        municipality=demo,
        telegram_secret=SECRET,
        telegram_feed=feed,
    )
    async with (
        TestServer(build_app(ctx), host="127.0.0.1") as server,
        aiohttp.ClientSession() as http,
    ):
        yield Web(ctx, server, http)


async def telegram_rows(repos: Repos) -> list[tuple[Any, ...]]:
    """The Telegram inbound rows, each reply as answered again (the stored one is sealed)."""
    rows = await repos.db.fetchall(
        "SELECT provider_id, command FROM inbound WHERE channel = 'telegram' ORDER BY id"
    )
    return [
        (*row, await repos.inbound.reply_to(channel="telegram", provider_id=row[0])) for row in rows
    ]


UPDATE = telegram_message_update("ME", USER, update_id=900_001)


@pytest.mark.parametrize(
    ("posts", "statuses", "fed"),
    [
        pytest.param([(UPDATE, None)], [200], 1, id="right-secret"),
        pytest.param([(UPDATE, telegram_webhook_headers("wrong"))], [403], 0, id="wrong-secret"),
        pytest.param(
            [(UPDATE, telegram_webhook_headers(SECRET.upper()))], [403], 0, id="secret-case"
        ),
        pytest.param([(UPDATE, telegram_webhook_headers(None))], [403], 0, id="missing-header"),
        pytest.param(
            [(UPDATE, {"Content-Type": "application/json", TELEGRAM_SECRET_HEADER: ""})],
            [403],
            0,
            id="empty-header",
        ),
        pytest.param([(UPDATE, None), (UPDATE, None)], [200, 200], 1, id="duplicate-update-id"),
        pytest.param(
            [(UPDATE, None), (telegram_message_update("HELP", USER, update_id=900_002), None)],
            [200, 200],
            2,
            id="two-updates",
        ),
        pytest.param([(b"{not json", None)], [400], 0, id="malformed-json"),
        pytest.param([(b"", None)], [400], 0, id="empty-body"),
        pytest.param([({"message": UPDATE["message"]}, None)], [400], 0, id="no-update-id"),
        pytest.param([({"update_id": "x1"}, None)], [400], 0, id="update-id-not-a-number"),
        pytest.param([(b"[1, 2]", None)], [400], 0, id="json-array"),
        pytest.param(
            [(b"{not json", telegram_webhook_headers("wrong"))],
            [403],
            0,
            id="secret-checked-before-body",
        ),
    ],
)
async def test_webhook(
    web: Web,
    repos: Repos,
    feed: Feed,
    posts: list[tuple[bytes | dict[str, Any], dict[str, str] | None]],
    statuses: list[int],
    fed: int,
) -> None:
    got = [await web.post(body, headers) for body, headers in posts]
    assert got == statuses
    assert len(feed.fed) == fed
    assert len(await telegram_rows(repos)) == fed


async def test_webhook_is_off_without_a_secret(
    repos: Repos, demo: Municipality, clock: FakeClock, renderer: Renderer, feed: Feed
) -> None:
    """Polling mode (no secret configured): the route does not exist for anyone."""
    ctx = WebContext(
        repos=repos, renderer=renderer, clock=clock, municipality=demo, telegram_feed=feed
    )
    async with (
        TestServer(build_app(ctx), host="127.0.0.1") as server,
        aiohttp.ClientSession() as http,
    ):
        web = Web(ctx, server, http)
        assert await web.post(UPDATE, telegram_webhook_headers(None)) == 404
        assert await web.post(UPDATE, telegram_webhook_headers("")) == 404
    assert feed.fed == []


async def test_a_failed_feed_is_answered_500_and_the_retry_is_handled(
    web: Web, repos: Repos, feed: Feed
) -> None:
    feed.failures = 1
    update = telegram_message_update("ME", USER, update_id=900_100)

    assert await web.post(update) == 500  # Telegram will deliver it again
    assert feed.fed == []
    assert await telegram_rows(repos) == [("900100", None, None)]  # arrived, not handled

    assert await web.post(update) == 200  # the retry
    assert feed.fed == [update]
    assert await telegram_rows(repos) == [("900100", "message", "")]

    assert await web.post(update) == 200  # and a later duplicate is dropped
    assert feed.fed == [update] and feed.attempts == 2


async def test_a_duplicate_in_flight_waits_for_the_first_delivery(
    web: Web, repos: Repos, feed: Feed
) -> None:
    """Telegram timed out and sent the update again while the first is being handled."""
    feed.gate = asyncio.Event()
    update = telegram_message_update("ME", USER, update_id=900_200)
    first = asyncio.create_task(web.post(update))
    await asyncio.wait_for(feed.entered.wait(), timeout=5)
    second = asyncio.create_task(web.post(update))
    await asyncio.sleep(0.05)
    assert not first.done() and not second.done()
    feed.gate.set()
    assert await asyncio.gather(first, second) == [200, 200]
    assert feed.fed == [update] and feed.attempts == 1


async def test_a_duplicate_in_flight_of_a_failing_update_is_answered_500(
    web: Web, repos: Repos, feed: Feed
) -> None:
    feed.gate = asyncio.Event()
    feed.failures = 1
    update = telegram_message_update("ME", USER, update_id=900_300)
    first = asyncio.create_task(web.post(update))
    await asyncio.wait_for(feed.entered.wait(), timeout=5)
    second = asyncio.create_task(web.post(update))
    await asyncio.sleep(0.05)
    feed.gate.set()
    assert await asyncio.gather(first, second) == [500, 500]
    assert await web.post(update) == 200
    assert feed.fed == [update]


# ------------------------------------------------------------------------------ real dispatcher


@pytest.fixture
async def live(
    repos: Repos, demo: Municipality, clock: FakeClock, renderer: Renderer, api: FakeTelegramAPI
) -> AsyncIterator[Web]:
    """The webhook as ``civic-bot run`` wires it: the real dispatcher on the one connection."""
    bot = fake_bot(api, TOKEN)
    ctx = WebContext(
        repos=repos,
        renderer=renderer,
        clock=clock,
        municipality=demo,
        telegram_secret=SECRET,
    )
    dp = build_dispatcher(
        repos=repos, renderer=renderer, clock=clock, municipality=demo, batches=ctx.batches
    )
    ctx.telegram_feed = webhook_feed(dp, bot)
    ctx.telegram_lane = TextLane(dp, bot, ctx)
    async with (
        TestServer(build_app(ctx), host="127.0.0.1") as server,
        aiohttp.ClientSession() as http,
    ):
        yield Web(ctx, server, http)
    await bot.session.close()


async def test_unlinked_user_is_asked_for_their_phone(
    live: Web, api: FakeTelegramAPI, renderer: Renderer
) -> None:
    update = telegram_message_update("ME", USER, update_id=901_001, language_code="ru")
    assert await live.deliver(api, update) == 200
    (sent,) = api.calls("sendMessage")
    assert sent.content_type == "webhook-answer"  # in the answer, not a request of ours
    assert sent.chat_id == USER
    assert sent.params["reply_markup"]["keyboard"][0][0]["request_contact"] is True
    assert sent.status == 200


async def test_a_lost_answer_is_given_again_to_telegrams_retry(
    live: Web, api: FakeTelegramAPI, repos: Repos, demo: Municipality, clock: FakeClock
) -> None:
    """The answer carried the reply; Telegram did not get it (a timeout) and delivers the
    update again: the same answer, handled once, the resident gets one message."""
    resident = await repos.residents.by_phone(demo.id, demo_data.RESIDENT_PHONE)
    assert resident is not None
    await repos.residents.link_telegram(resident.id, USER, now=iso(clock.now()))
    update = telegram_message_update("STOP", USER, update_id=901_004)
    assert await live.deliver(api, update, lose_answer=True) == 200
    assert api.calls("sendMessage") == []
    assert await live.deliver(api, update) == 200
    assert len(api.sent_messages(USER)) == 1
    stopped = await repos.residents.by_id(resident.id)
    assert stopped is not None and stopped.opted_out
    ((key, command, answer),) = await telegram_rows(repos)
    assert (key, command) == ("901004", "stop")  # a text command: recorded as the SMS are
    assert json.loads(answer)["method"] == "sendMessage"


async def test_linked_resident_gets_their_card(
    live: Web, api: FakeTelegramAPI, repos: Repos, demo: Municipality, clock: FakeClock
) -> None:
    resident = await repos.residents.by_phone(demo.id, demo_data.RESIDENT_PHONE)
    assert resident is not None
    await repos.residents.link_telegram(resident.id, USER, now=iso(clock.now()))
    assert await live.deliver(api, telegram_message_update("ME", USER, update_id=901_002)) == 200
    assert resident.name in api.messages_to(USER)[0]


async def test_bot_api_failure_is_retried_by_telegram_and_answered_once(
    live: Web, api: FakeTelegramAPI, repos: Repos
) -> None:
    """/start sends its two messages itself; the first fails (Telegram's side had a
    hiccup): 500, so Telegram retries; the retry answers the user; the update is not
    lost as a 'duplicate', and a delivery after that is not handled again."""
    api.fail_next("sendMessage", 500)
    update = telegram_message_update("/start", USER, update_id=901_003)
    assert await live.deliver(api, update) == 500
    assert api.sent_messages(USER) == []
    assert await live.deliver(api, update) == 200
    assert len(api.sent_messages(USER)) == 2
    assert await live.deliver(api, update) == 200
    assert len(api.sent_messages(USER)) == 2
    assert await telegram_rows(repos) == [("901003", "message", "")]


async def test_updates_arriving_together_are_each_handled_once(
    live: Web, api: FakeTelegramAPI, repos: Repos
) -> None:
    """Updates of many chats are handled side by side on the one connection."""
    updates = [telegram_message_update("HELP", USER + n, update_id=902_000 + n) for n in range(20)]
    statuses = await asyncio.wait_for(
        asyncio.gather(*(live.deliver(api, update) for update in updates)), timeout=10
    )
    assert statuses == [200] * 20
    assert sorted(int(c.params["chat_id"]) for c in api.calls("sendMessage")) == [
        USER + n for n in range(20)
    ]
    assert len(await telegram_rows(repos)) == 20


async def test_a_staff_broadcast_by_text_gets_its_progress_message(
    live: Web, api: FakeTelegramAPI, repos: Repos, demo: Municipality, clock: FakeClock
) -> None:
    """``BROADCAST`` typed by staff: queued for everyone, and the reply is the live
    progress message, which the bot sends itself (it is edited later): the webhook's
    answer is empty."""
    admin = await repos.residents.by_phone(demo.id, demo_data.ADMIN_PHONE)
    assert admin is not None
    await repos.residents.link_telegram(admin.id, USER, now=iso(clock.now()))
    update = telegram_message_update("BROADCAST Hearing on Friday", USER, update_id=901_010)
    delivery = await api.deliver_webhook(
        update, url=str(live.server.make_url("/telegram/webhook")), secret=SECRET, token=TOKEN
    )
    assert delivery.status == 200 and delivery.answer is None
    (progress,) = api.calls("sendMessage")
    assert progress.content_type != "webhook-answer" and progress.chat_id == USER
    assert "Hearing" not in progress.params["text"]  # counts, not the text
    queued = await repos.db.fetchval("SELECT COUNT(*) FROM outbox WHERE status = 'queued'")
    assert queued > 1000
    assert await telegram_rows(repos) == [("901010", "broadcast", "")]


async def test_a_broadcast_whose_progress_message_fails_is_queued_once(
    live: Web, api: FakeTelegramAPI, repos: Repos, demo: Municipality, clock: FakeClock
) -> None:
    """Telegram refuses the progress message (500): the broadcast is queued all the same,
    the update answered 200 (no retry that would queue it again), and a repeated
    delivery changes nothing."""
    admin = await repos.residents.by_phone(demo.id, demo_data.ADMIN_PHONE)
    assert admin is not None
    await repos.residents.link_telegram(admin.id, USER, now=iso(clock.now()))
    api.fail_next("sendMessage", status=500)
    update = telegram_message_update("BROADCAST Hearing on Friday", USER, update_id=901_020)
    assert await live.deliver(api, update) == 200
    queued = await repos.db.fetchval("SELECT COUNT(*) FROM outbox")
    assert queued > 1000
    assert await live.deliver(api, update) == 200
    assert await repos.db.fetchval("SELECT COUNT(*) FROM broadcasts") == 1
    assert await repos.db.fetchval("SELECT COUNT(*) FROM outbox") == queued


async def test_a_senders_updates_take_turns_in_the_order_they_came(
    live: Web, repos: Repos, demo: Municipality, clock: FakeClock
) -> None:
    """A button (the dispatcher's) is being handled when the same resident's text (the
    text lane's) arrives: the text waits for it; another sender does not."""
    resident = await repos.residents.by_phone(demo.id, demo_data.RESIDENT_PHONE)
    assert resident is not None
    await repos.residents.link_telegram(resident.id, USER, now=iso(clock.now()))
    dispatcher = live.ctx.telegram_feed
    assert dispatcher is not None
    gate, entered, finished = asyncio.Event(), asyncio.Event(), []

    async def slow_button(update: dict[str, Any]) -> str | None:
        if "callback_query" in update:
            entered.set()
            await gate.wait()
        answer = await dispatcher(update)
        finished.append(update["update_id"])
        return answer

    live.ctx.telegram_feed = slow_button
    button = asyncio.create_task(
        live.post(telegram_callback_update("menu:me", USER, update_id=901_031))
    )
    await asyncio.wait_for(entered.wait(), timeout=5)
    text = asyncio.create_task(live.post(telegram_message_update("ME", USER, update_id=901_032)))
    other = telegram_message_update("ME", USER + 1, update_id=901_033)
    assert await asyncio.wait_for(live.post(other), timeout=5) == 200  # not held up
    assert not text.done() and not button.done()
    assert [row[:2] for row in await telegram_rows(repos)] == [
        ("901031", None),  # arrived, being handled
        ("901033", "message"),
    ]
    gate.set()
    assert await asyncio.gather(button, text) == [200, 200]
    assert [row[:2] for row in await telegram_rows(repos)] == [
        ("901031", "callback_query"),
        ("901033", "message"),
        ("901032", "me"),
    ]
    assert len(live.ctx.telegram_turns) == 0  # nothing left behind
