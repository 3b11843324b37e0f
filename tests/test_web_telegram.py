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

from bot.app import http_app
from bot.channels.telegram.sender import TelegramSender
from bot.channels.telegram.webhook import NAME, TelegramChannel, channel_of
from bot.core.clock import iso
from bot.core.rendering.templates import Renderer
from bot.core.services import demo_data
from bot.core.services.municipalities import create_municipality
from bot.outbox.worker import ChannelLimit, OutboxWorker
from bot.runtime.web import WebContext
from handlers.telegram import screens
from storage.models import Municipality
from storage.repos import Repos
from tests.conftest import FakeClock, table_snapshot
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.webhooks import (
    TELEGRAM_SECRET_HEADER,
    next_update_id,
    telegram_callback_update,
    telegram_message_update,
    telegram_webhook_headers,
)
from tests.telegram_helpers import TOKEN, fake_bot, live_webhook

SECRET = "s3cret-token_for-the-webhook"
USER = 7_000_001


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
        channels={NAME: TelegramChannel("webhook", SECRET, feed)},
    )
    async with (
        TestServer(http_app(ctx), host="127.0.0.1") as server,
        aiohttp.ClientSession() as http,
    ):
        yield Web(ctx, server, http)


async def telegram_rows(repos: Repos) -> list[tuple[Any, ...]]:
    """The Telegram inbound rows, each reply as answered again (the stored one is sealed)."""
    rows = await repos.db.fetchall(
        "SELECT provider_id, command, municipality_id FROM inbound"
        " WHERE channel = 'telegram' ORDER BY id"
    )
    return [
        (
            *row[:2],
            await repos.inbound.reply_to(
                municipality_id=row[2], channel="telegram", provider_id=row[0]
            ),
        )
        for row in rows
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
            [(b'{"update_id": 1, "x": ' + b"[" * 20_000 + b"]" * 20_000 + b"}", None)],
            [400],
            0,
            id="nested-deeper-than-json-parses",
        ),
        pytest.param([(b'{"update_id": 1e400}', None)], [400], 0, id="update-id-infinite"),
        pytest.param([({"update_id": 1.5}, None)], [400], 0, id="update-id-fraction"),
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


async def test_two_municipalities_on_one_database_each_handle_their_own_update_ids(
    web: Web, repos: Repos, clock: FakeClock, renderer: Renderer, feed: Feed
) -> None:
    """Each municipality's bot counts its update ids on its own: update 900_001 of the
    second one is another update than the first one's, handled all the same; and a
    repeated delivery is still recognised within each."""
    other = await create_municipality(
        repos, slug="kara-suu", name="Kara-Suu", villages=["Kara-Suu"],
        default_language="ru", now=clock.now(),
    )  # fmt: skip
    other_feed = Feed()
    ctx = WebContext(
        repos=repos,
        renderer=renderer,
        clock=clock,
        municipality=other,
        channels={NAME: TelegramChannel("webhook", SECRET, other_feed)},
    )
    async with (
        TestServer(http_app(ctx), host="127.0.0.1") as server,
        aiohttp.ClientSession() as http,
    ):
        second = Web(ctx, server, http)
        assert await web.post(UPDATE) == 200
        assert await second.post(UPDATE) == 200
        assert await second.post(UPDATE) == 200  # Telegram's retry: not handled again
        assert await web.post(UPDATE) == 200
    assert feed.fed == [UPDATE]
    assert other_feed.fed == [UPDATE]
    rows = await repos.db.fetchall(
        "SELECT municipality_id, provider_id FROM inbound WHERE channel = 'telegram' ORDER BY id"
    )
    assert [tuple(row) for row in rows] == [
        (web.ctx.municipality.id, str(UPDATE["update_id"])),
        (other.id, str(UPDATE["update_id"])),
    ]


async def test_webhook_is_off_without_a_secret(
    repos: Repos, demo: Municipality, clock: FakeClock, renderer: Renderer, feed: Feed
) -> None:
    """Polling mode (no secret configured): the route does not exist for anyone."""
    ctx = WebContext(
        repos=repos,
        renderer=renderer,
        clock=clock,
        municipality=demo,
        channels={NAME: TelegramChannel("polling", feed=feed)},
    )
    async with (
        TestServer(http_app(ctx), host="127.0.0.1") as server,
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
    async with live_webhook(repos, renderer, clock, demo, api, secret=SECRET) as served:
        yield Web(served.ctx, served.server, served.http)


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
    """/start sends its two messages itself; the first is refused, not for the moment
    (a 400: a Telegram busy for the moment is the outbox's, see
    ``test_a_reply_telegram_refuses_for_the_moment_is_queued_and_sent_once``): 500, so
    Telegram retries; the retry answers the user; the update is not lost as a
    'duplicate', and a delivery after that is not handled again."""
    api.fail_next("sendMessage", 400)
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


async def test_a_staff_broadcast_by_text_asks_first_then_gets_its_progress_message(
    live: Web, api: FakeTelegramAPI, repos: Repos, demo: Municipality, clock: FakeClock
) -> None:
    """``BROADCAST`` typed by staff: the webhook's answer is who it would reach, by
    channel, with Confirm / Cancel (nothing queued); Confirm queues it for everyone and
    the counts become the live progress message."""
    admin = await repos.residents.by_phone(demo.id, demo_data.ADMIN_PHONE)
    assert admin is not None
    await repos.residents.link_telegram(admin.id, USER, now=iso(clock.now()))
    update = telegram_message_update("BROADCAST Hearing on Friday", USER, update_id=901_010)
    delivery = await api.deliver_webhook(
        update, url=str(live.server.make_url("/telegram/webhook")), secret=SECRET, token=TOKEN
    )
    assert delivery.status == 200 and delivery.answer is not None
    asked = delivery.answer.params
    assert asked["text"].startswith("Жарыя <b>3\xa0728</b> кишиге: Telegram 1, SMS 3\xa0727.")
    data = [b["callback_data"] for row in asked["reply_markup"]["inline_keyboard"] for b in row]
    assert data == ["bd:1:go", "bd:1:drop"]
    assert await repos.db.fetchval("SELECT COUNT(*) FROM outbox") == 0
    tap = telegram_callback_update("bd:1:go", USER, update_id=901_011, message_id=77)
    assert await live.post(tap) == 200
    (progress,) = api.calls("editMessageText")
    assert progress.params["message_id"] == 77 and "Hearing" not in progress.params["text"]
    queued = await repos.db.fetchval("SELECT COUNT(*) FROM outbox WHERE status = 'queued'")
    assert queued > 1000


async def test_a_broadcast_whose_progress_message_fails_is_queued_once(
    live: Web, api: FakeTelegramAPI, repos: Repos, demo: Municipality, clock: FakeClock
) -> None:
    """Telegram refuses the progress message (500): the broadcast is queued all the same,
    the Confirm answered 200 (no retry that would queue it again), and a repeated
    delivery changes nothing."""
    admin = await repos.residents.by_phone(demo.id, demo_data.ADMIN_PHONE)
    assert admin is not None
    await repos.residents.link_telegram(admin.id, USER, now=iso(clock.now()))
    update = telegram_message_update("BROADCAST Hearing on Friday", USER, update_id=901_020)
    assert await live.deliver(api, update) == 200
    api.fail_next("editMessageText", status=500)
    tap = telegram_callback_update("bd:1:go", USER, update_id=901_021, message_id=77)
    assert await live.post(tap) == 200
    queued = await repos.db.fetchval("SELECT COUNT(*) FROM outbox")
    assert queued > 1000
    assert await live.post(tap) == 200
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
    channel = channel_of(live.ctx)
    assert channel is not None and channel.feed is not None
    dispatcher = channel.feed
    gate, entered, finished = asyncio.Event(), asyncio.Event(), []

    async def slow_button(update: dict[str, Any]) -> str | None:
        if "callback_query" in update:
            entered.set()
            await gate.wait()
        answer = await dispatcher(update)
        finished.append(update["update_id"])
        return answer

    channel.feed = slow_button
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
    assert len(channel.turns) == 0  # nothing left behind


# ------------------------------------------------------------------------------ garbage updates


def _without(update: dict[str, Any], key: str) -> dict[str, Any]:
    message = {k: v for k, v in update["message"].items() if k != key}
    return {"update_id": update["update_id"], "message": message}


@pytest.mark.parametrize(
    "update",
    [
        pytest.param(_without(telegram_message_update("/start", USER), "chat"), id="no-chat"),
        pytest.param(_without(telegram_message_update("/start", USER), "date"), id="no-date"),
        pytest.param(
            {"update_id": next_update_id(), "message": {"chat": "x", "date": "y"}},
            id="wrong-types",
        ),
        pytest.param(
            {"update_id": next_update_id(), "message": {"text": {"a": [[[[[[[[[]]]]]]]]]}}},
            id="nested",
        ),
    ],
)
async def test_an_update_that_is_none_is_answered_200_and_dropped(
    live: Web, api: FakeTelegramAPI, repos: Repos, update: dict[str, Any]
) -> None:
    """No handler could ever take it: 200 (Telegram stops delivering it), recorded as
    handled, nothing sent."""
    assert await live.post(update) == 200
    assert await live.post(update) == 200  # were it delivered again: not fed again
    assert api.calls("sendMessage") == []
    assert [row[0] for row in await telegram_rows(repos)] == [str(update["update_id"])]


async def test_a_staff_command_without_a_sender_is_answered(
    live: Web, api: FakeTelegramAPI
) -> None:
    """A message without ``from`` has no FSM context: the staff-only guard asks for the
    phone number as to anyone unknown, and does not fail (found by the fuzz)."""
    update = _without(telegram_message_update("/newhearing", USER), "from")
    assert await live.post(update) == 200
    assert await live.post(update) == 200
    assert [call.chat_id for call in api.calls("sendMessage")] == [USER]


@pytest.mark.parametrize(
    "data",
    [
        "rsvp:99999999999999999999:yes",
        "rsvp:0:yes",
        "rsvp:-1:no",
        "hp:99999999999999999999",
        "vp:99999999999999999999",
        "vt:1:99999999999999999999:0",
        "bp:99999999999999999999",
        "ba:1e9",
        "rate:99999999999999999999:4",
        "menu:nothing",
        "lang:xx",
        "nobody:1",
    ],
)
async def test_a_button_with_data_out_of_range_is_answered_politely(
    live: Web,
    api: FakeTelegramAPI,
    repos: Repos,
    demo: Municipality,
    clock: FakeClock,
    renderer: Renderer,
    data: str,
) -> None:
    """Callback data comes from the client: an id out of range is answered as a button
    nobody handles (a short note), not an error that Telegram retries for ever."""
    resident = await repos.residents.by_phone(demo.id, demo_data.ADMIN_PHONE)
    assert resident is not None
    await repos.residents.link_telegram(resident.id, USER, now=iso(clock.now()))
    before = await table_snapshot(repos, "hearings", "rsvps", "outbox", "ratings")

    assert await live.post(telegram_callback_update(data, USER)) == 200

    (answered,) = api.calls("answerCallbackQuery")
    stale = renderer.render("tg_stale_button", resident.language, "telegram")
    assert answered.params["text"] == stale
    assert await table_snapshot(repos, "hearings", "rsvps", "outbox", "ratings") == before


# ------------------------------------------------------------------------------ Telegram busy


@pytest.fixture
async def worker(
    repos: Repos, demo: Municipality, api: FakeTelegramAPI, clock: FakeClock
) -> AsyncIterator[OutboxWorker]:
    """The outbox worker of ``civic-bot run``, sending to the fake Telegram."""

    async def sleep(seconds: float) -> None:  # time passes only on the test's clock
        clock.advance(seconds=seconds)

    bot = fake_bot(api, TOKEN)
    yield OutboxWorker(
        repos,
        {"telegram": TelegramSender(bot)},
        {"telegram": ChannelLimit(30, 1)},
        municipality_id=demo.id,
        clock=clock,
        sleep=sleep,
    )
    await bot.session.close()


async def drain(worker: OutboxWorker, clock: FakeClock) -> None:
    """Every row the worker would send over the next minute (one a second per chat)."""
    for _ in range(30):
        await worker.drain_channel("telegram")
        clock.advance(seconds=2)


@pytest.mark.parametrize(
    ("failure", "refused"),
    [
        pytest.param({"status": 429, "retry_after": 5, "skip": 1}, 2, id="second-throttled"),
        pytest.param({"status": 429, "retry_after": 5}, 1, id="first-throttled"),
        pytest.param({"status": 502, "skip": 1}, 2, id="second-bad-gateway"),
        pytest.param({"disconnect": True, "skip": 1}, 2, id="second-network-error"),
    ],
)
async def test_a_reply_telegram_refuses_for_the_moment_is_queued_and_sent_once(
    live: Web,
    api: FakeTelegramAPI,
    repos: Repos,
    demo: Municipality,
    clock: FakeClock,
    renderer: Renderer,
    worker: OutboxWorker,
    failure: dict[str, Any],
    refused: int,
) -> None:
    """A new user's ``/start`` sends two messages itself; Telegram refuses one for the
    moment. The update is answered 200 (not 500: Telegram would deliver it again), the
    refused message and any after it wait in the outbox and go out once, in order."""
    welcome = renderer.render("tg_welcome", "en", "telegram", municipality=demo.name)
    languages = renderer.render("tg_choose_language", "en", "telegram")
    api.fail_next("sendMessage", **failure)
    update = telegram_message_update("/start", USER, update_id=905_001)

    assert await live.deliver(api, update) == 200
    assert await live.deliver(api, update) == 200  # delivered again: not handled again

    keys = await repos.db.fetchall(
        "SELECT dedupe_key FROM outbox WHERE channel = 'telegram' ORDER BY id"
    )
    queued = [await repos.outbox.by_key(key[0]) for key in keys]  # kept sealed, read in clear
    expected = [welcome, languages][refused - 1 :]
    assert [(m.address, m.body) for m in queued if m] == [(str(USER), t) for t in expected]
    assert len({key[0] for key in keys}) == len(keys)
    await drain(worker, clock)
    statuses = await repos.db.fetchall("SELECT status FROM outbox ORDER BY id")
    assert [row[0] for row in statuses] == ["sent"] * len(expected)
    sent = [c for c in api.calls("sendMessage") if c.status == 200]
    assert [(c.chat_id, c.params["text"]) for c in sent] == [(USER, welcome), (USER, languages)]
    assert [c.params["reply_markup"] for c in sent] == [
        screens.contact_keyboard(renderer, "en").model_dump(mode="json", exclude_none=True),
        screens.language_keyboard().model_dump(mode="json", exclude_none=True),
    ]
    assert api.duplicates() == {}


async def test_a_button_answer_telegram_refuses_for_the_moment_is_let_go(
    live: Web, api: FakeTelegramAPI, repos: Repos, demo: Municipality, clock: FakeClock
) -> None:
    """The spinner's answer has no later: the button's action is done all the same, and
    the update is answered 200."""
    resident = await repos.residents.by_phone(demo.id, demo_data.RESIDENT_PHONE)
    assert resident is not None
    await repos.residents.link_telegram(resident.id, USER, now=iso(clock.now()))
    api.fail_next("answerCallbackQuery", 429, retry_after=3)

    assert await live.post(telegram_callback_update("lang:ru", USER)) == 200

    changed = await repos.residents.by_phone(demo.id, demo_data.RESIDENT_PHONE)
    assert changed is not None and changed.language == "ru"


async def test_a_budget_chart_telegram_refuses_for_the_moment_is_queued_and_sent_once(
    live: Web,
    api: FakeTelegramAPI,
    repos: Repos,
    demo: Municipality,
    clock: FakeClock,
    worker: OutboxWorker,
) -> None:
    """``BUDGET`` answers with the household's summary and the budget's picture, which the
    handler uploads itself. Telegram refuses the upload for the moment: the update is
    answered 200 (not 500, which would make Telegram deliver it again and the summary go
    twice), the picture waits in the outbox with its bytes, and the worker uploads it once."""
    resident = await repos.residents.by_phone(demo.id, demo_data.RESIDENT_PHONE)
    assert resident is not None
    await repos.residents.link_telegram(resident.id, USER, now=iso(clock.now()))
    api.fail_next("sendPhoto", 429, retry_after=5)
    update = telegram_message_update("/budget", USER, update_id=906_001)

    assert await live.deliver(api, update) == 200
    assert await live.deliver(api, update) == 200  # delivered again: not handled again
    assert [c.status for c in api.calls("sendPhoto")] == [429]
    [queued] = await repos.db.fetchall(
        "SELECT address, media FROM outbox WHERE dedupe_key LIKE '%:update:906001:%'"
    )
    assert queued["address"] == str(USER)
    [photo] = json.loads(queued["media"])["photos"]
    assert photo["filename"].startswith("budget-") and len(photo["png"]) > 1000

    await drain(worker, clock)
    sent = [c for c in api.calls("sendPhoto") if c.status == 200]
    assert len(sent) == 1 and int(sent[0].params["chat_id"]) == USER
    statuses = await repos.db.fetchall(
        "SELECT status FROM outbox WHERE dedupe_key LIKE '%:update:906001:%'"
    )
    assert [row[0] for row in statuses] == ["sent"]


async def test_an_acts_album_telegram_refuses_for_the_moment_is_queued_by_file_id(
    live: Web,
    api: FakeTelegramAPI,
    repos: Repos,
    demo: Municipality,
    clock: FakeClock,
    worker: OutboxWorker,
) -> None:
    """The photos of a monitoring act go by ``file_id`` as an album; refused for the
    moment, the album waits in the outbox (file ids and caption) and goes once."""
    resident = await repos.residents.by_phone(demo.id, demo_data.RESIDENT_PHONE)
    assert resident is not None
    await repos.residents.link_telegram(resident.id, USER, now=iso(clock.now()))
    [project_id] = [
        row[0]
        for row in await repos.db.fetchall(
            "SELECT id FROM projects WHERE municipality_id = ? ORDER BY id LIMIT 1", (demo.id,)
        )
    ]
    monitor = await repos.db.fetchval(
        "SELECT resident_id FROM roles WHERE role = 'monitor' LIMIT 1"
    )
    await repos.acts.add(
        municipality_id=demo.id,
        project_id=project_id,
        author_id=monitor,
        kind="purchase",
        body="Excavator delivered",
        photos=("PHOTO-A", "PHOTO-B"),
        now=iso(clock.now()),
    )
    api.fail_next("sendMediaGroup", 502)
    update = telegram_message_update(f"/acts {project_id}", USER, update_id=907_001)

    assert await live.deliver(api, update) == 200
    [queued] = await repos.db.fetchall(
        "SELECT media, body FROM outbox WHERE dedupe_key LIKE '%:update:907001:%'"
        " AND media IS NOT NULL"
    )
    photos = json.loads(queued["media"])["photos"]
    assert photos == [{"file_id": "PHOTO-A"}, {"file_id": "PHOTO-B"}]
    # the caption, in the resident's Kyrgyz (acts 1-4: the demo's on the excavator)
    assert queued["body"].startswith("Акт №5")

    await drain(worker, clock)
    albums = [c for c in api.calls("sendMediaGroup") if c.status == 200]
    assert len(albums) == 1
