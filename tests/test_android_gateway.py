"""The Android phone gateway: sends through fakes of the app's API on 127.0.0.1, and its
signed webhooks into the channel's aiohttp handler on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.channels.android import (
    AndroidPhone,
    AndroidSender,
    parse_phones,
    parse_webhook,
    webhook_handler,
)
from bot.channels.events import Event, InboundSms, StatusEvent
from bot.outbox.channel import PermanentFailure, TemporaryFailure
from tests.conftest import FakeClock
from tests.fakes.android_gateway import FakeAndroidGateway
from tests.fakes.telegram_api import FakeHTTPServer

PHONE = "+996555123456"


class Ticks:
    """Seconds on the test's clock, and a sleep that moves it instead of waiting."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.clock.now().timestamp()

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.clock.advance(seconds=seconds)


@pytest.fixture
def ticks(clock: FakeClock) -> Ticks:
    return Ticks(clock)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as client:
        yield client


@pytest.fixture
async def phones(ticks: Ticks) -> AsyncIterator[list[FakeAndroidGateway]]:
    async with (
        FakeAndroidGateway(clock=ticks, password="one", signing_key="key-one") as first,
        FakeAndroidGateway(clock=ticks, password="two", signing_key="key-two") as second,
    ):
        yield [first, second]


def account(fake: FakeAndroidGateway, per_minute: int = 20, *, cloud: bool = False) -> AndroidPhone:
    url = fake.base_url + ("/3rdparty/v1" if cloud else "")
    return AndroidPhone(url, fake.login, fake.password, per_minute)


def sender_for(
    session: aiohttp.ClientSession, ticks: Ticks, *accounts: AndroidPhone
) -> AndroidSender:
    return AndroidSender(accounts, session, clock=ticks, sleep=ticks.sleep)


# -- sending ---------------------------------------------------------------------------


@pytest.mark.parametrize("cloud", [False, True], ids=["local", "cloud"])
async def test_send_posts_the_message_with_basic_auth(
    phones: list[FakeAndroidGateway], session: aiohttp.ClientSession, ticks: Ticks, cloud: bool
) -> None:
    phone = phones[0]
    sender = sender_for(session, ticks, account(phone, cloud=cloud))
    message_id = await sender.send(PHONE, "Салам! Жыйын эртең саат 10до.")
    [sent] = phone.messages
    assert message_id == sent.id
    assert (sent.phone_numbers, sent.text) == ([PHONE], "Салам! Жыйын эртең саат 10до.")
    assert sent.with_delivery_report
    assert phone.requests == [("/3rdparty/v1/messages" if cloud else "/messages", 202)]


async def test_each_phone_keeps_its_per_minute_limit(
    phones: list[FakeAndroidGateway], session: aiohttp.ClientSession, ticks: Ticks
) -> None:
    """Two phones at 20 a minute send 40 SMS in under a minute, none refused."""
    sender = sender_for(session, ticks, account(phones[0]), account(phones[1]))
    started = ticks()
    for n in range(40):
        await sender.send(PHONE, f"message {n}")
    assert [len(p.messages) for p in phones] == [20, 20]
    assert all(status == 202 for p in phones for _, status in p.requests)
    assert 54 <= ticks() - started < 60


async def test_one_phone_alone_is_spaced_three_seconds_apart(
    phones: list[FakeAndroidGateway], session: aiohttp.ClientSession, ticks: Ticks
) -> None:
    sender = sender_for(session, ticks, account(phones[0], per_minute=20))
    for n in range(3):
        await sender.send(PHONE, f"m{n}")
    assert ticks.slept == [3.0, 3.0]


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_a_busy_phone_rests_and_the_other_sends(
    phones: list[FakeAndroidGateway], session: aiohttp.ClientSession, ticks: Ticks, status: int
) -> None:
    sender = sender_for(session, ticks, account(phones[0]), account(phones[1]))
    phones[0].fail_next(status)
    assert await sender.send(PHONE, "hello")
    assert phones[0].requests == [("/messages", status)]
    assert [m.text for m in phones[1].messages] == ["hello"]
    # the busy phone rests a minute: the next sends all go to the other one
    await sender.send(PHONE, "again")
    assert len(phones[0].requests) == 1


async def test_when_every_phone_is_busy_the_outbox_retries_later(
    phones: list[FakeAndroidGateway], session: aiohttp.ClientSession, ticks: Ticks
) -> None:
    sender = sender_for(session, ticks, account(phones[0]))
    phones[0].fail_next(429)
    with pytest.raises(TemporaryFailure) as failure:
        await sender.send(PHONE, "hello")
    assert failure.value.reason == "android 429"
    assert failure.value.retry_after == 60
    with pytest.raises(TemporaryFailure, match="every phone is resting"):
        await sender.send(PHONE, "hello")
    ticks.clock.advance(seconds=60)
    assert await sender.send(PHONE, "hello")


async def test_a_refused_number_is_not_retried(
    phones: list[FakeAndroidGateway], session: aiohttp.ClientSession, ticks: Ticks
) -> None:
    sender = sender_for(session, ticks, account(phones[0]), account(phones[1]))
    with pytest.raises(PermanentFailure, match="invalid phone number"):
        await sender.send("+12", "hello")
    assert len(phones[0].requests) + len(phones[1].requests) == 1


@pytest.mark.parametrize("answer", [{}, {"id": "x", "state": "Exploded", "recipients": []}])
async def test_an_unreadable_answer_is_an_unknown_outcome(
    phones: list[FakeAndroidGateway],
    session: aiohttp.ClientSession,
    ticks: Ticks,
    answer: dict[str, object],
) -> None:
    """The phone took the request: it may send the SMS, so the outbox must know."""
    sender = sender_for(session, ticks, account(phones[0]))
    phones[0].answer_next(202, answer)
    with pytest.raises(TemporaryFailure, match="unreadable answer") as failure:
        await sender.send(PHONE, "hello")
    assert failure.value.unknown_outcome


async def test_wrong_credentials_and_an_unreachable_phone_fall_over_to_the_next(
    phones: list[FakeAndroidGateway], session: aiohttp.ClientSession, ticks: Ticks
) -> None:
    wrong = AndroidPhone(phones[0].base_url, "sms", "not-the-password")
    unreachable = AndroidPhone("http://127.0.0.1:9", "sms", "x")
    sender = sender_for(session, ticks, wrong, unreachable, account(phones[1]))
    assert await sender.send(PHONE, "hello")
    assert phones[0].requests == [("/messages", 401)]
    assert [m.text for m in phones[1].messages] == ["hello"]


# -- webhooks --------------------------------------------------------------------------


class Receiver(FakeHTTPServer):
    """The bot's side: the channel's webhook handler on a real aiohttp server."""

    def __init__(self, ticks: Ticks, keys: list[str]) -> None:
        super().__init__()
        self.events: list[Event] = []
        self.failing = False

        async def record(event: Event) -> None:
            if self.failing:
                raise RuntimeError("database is locked")
            self.events.append(event)

        self.handler = webhook_handler(keys, record, clock=ticks)

    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/sms/android", self.handler)
        return app


@pytest.fixture
async def receiver(phones: list[FakeAndroidGateway], ticks: Ticks) -> AsyncIterator[Receiver]:
    async with Receiver(ticks, [p.signing_key for p in phones]) as bot:
        for phone in phones:
            phone.webhook_url = f"{bot.base_url}/sms/android"
        yield bot


async def test_an_inbound_sms_reaches_the_runtime(
    phones: list[FakeAndroidGateway], receiver: Receiver
) -> None:
    assert await phones[1].receive(PHONE, "1 3") == 204
    [event] = receiver.events
    assert isinstance(event, InboundSms)
    assert (event.sender, event.text) == (PHONE, "1 3")
    assert event.dedupe_key.startswith("android:")


async def test_status_webhooks_map_to_outbox_statuses(
    phones: list[FakeAndroidGateway],
    receiver: Receiver,
    session: aiohttp.ClientSession,
    ticks: Ticks,
) -> None:
    phone = phones[0]
    message_id = await sender_for(session, ticks, account(phone)).send(PHONE, "hi")
    assert message_id
    assert await phone.report(message_id, "sms:sent") == 204
    assert await phone.report(message_id, "sms:delivered") == 204
    assert await phone.report(message_id, "sms:failed", reason="RESULT_ERROR_NO_SERVICE") == 204
    assert [(e.provider_id, e.status, e.error) for e in receiver.events] == [
        (message_id, "sent", None),
        (message_id, "delivered", None),
        (message_id, "failed", "android: RESULT_ERROR_NO_SERVICE"),
    ]
    assert all(isinstance(e, StatusEvent) for e in receiver.events)


@pytest.mark.parametrize(
    ("reason", "unsubscribed"),
    [("RESULT_ERROR_NO_SERVICE", False), ("RESULT_ERROR_BLOCKED", True), ("", False)],
)
def test_a_failure_that_says_the_recipient_refuses_opts_them_out(
    phones: list[FakeAndroidGateway], ticks: Ticks, reason: str, unsubscribed: bool
) -> None:
    phone = phones[0]
    body = phone.envelope("sms:failed", {"messageId": "m1", "phoneNumber": PHONE, "reason": reason})
    event = parse_webhook(
        body,
        phone.signed_headers(body),
        signing_keys=[phone.signing_key],
        now=ticks(),
        optout_codes=frozenset({"result_error_blocked"}),
    )
    assert isinstance(event, StatusEvent)
    assert (event.status, event.unsubscribed) == ("failed", unsubscribed)


def _received(phone: FakeAndroidGateway, **payload: Any) -> bytes:
    fields = {"messageId": "abc", "message": "1", "phoneNumber": PHONE, **payload}
    return phone.envelope("sms:received", {k: v for k, v in fields.items() if v is not None})


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("valid", 204),
        ("ping", 204),
        ("invalid signature", 401),
        ("signed with another key", 401),
        ("missing signature", 401),
        ("stale timestamp", 401),
        ("timestamp not a number", 401),
        ("body changed after signing", 401),
        ("not JSON", 400),
        ("no payload", 400),
        ("no phone number", 400),
        ("phone number not a string", 400),
        ("unknown event", 400),
        ("message id with a NUL", 400),
        ("too large", 413),
    ],
)
async def test_webhook_requests(
    phones: list[FakeAndroidGateway], receiver: Receiver, ticks: Ticks, case: str, status: int
) -> None:
    phone = phones[0]
    body = _received(phone)
    headers = phone.signed_headers(body)
    if case == "ping":
        body = phone.envelope("system:ping", {"health": {"status": "pass"}})
        headers = phone.signed_headers(body)
    elif case == "invalid signature":
        headers["X-Signature"] = "0" * 64
    elif case == "signed with another key":
        headers = phone.signed_headers(body, key="not-our-key")
    elif case == "missing signature":
        del headers["X-Signature"]
    elif case == "stale timestamp":
        ticks.clock.advance(seconds=-301)
        headers = phone.signed_headers(body)
        ticks.clock.advance(seconds=301)
    elif case == "timestamp not a number":
        headers["X-Timestamp"] = "soon"
    elif case == "body changed after signing":
        body = json.dumps(json.loads(body), indent=1).encode()
    else:
        body = {
            "not JSON": b"{not json",
            "no payload": json.dumps({"event": "sms:received", "id": "x"}).encode(),
            "no phone number": _received(phone, phoneNumber=None),
            "phone number not a string": _received(phone, phoneNumber=996555123456),
            "unknown event": phone.envelope("sms:exploded", {}),
            "message id with a NUL": phone.envelope("sms:delivered", {"messageId": "a\x00"}),
            "too large": _received(phone, message="ж" * 40_000),
        }.get(case, body)
        headers = phone.signed_headers(body)
    assert await phone.post(body, headers) == status
    assert len(receiver.events) == (1 if case == "valid" else 0)


async def test_a_webhook_not_recorded_is_answered_for_a_retry(
    phones: list[FakeAndroidGateway], receiver: Receiver
) -> None:
    phone = phones[0]
    body = _received(phone)
    receiver.failing = True
    assert await phone.post(body, phone.signed_headers(body)) == 503
    receiver.failing = False
    # the app's retry: same event id, a fresh signature
    assert await phone.post(body, phone.signed_headers(body)) == 204
    assert await phone.post(body, phone.signed_headers(body)) == 204  # a duplicate
    first, second = receiver.events
    assert first == second  # the same dedupe_key: the runtime records it once


def test_phones_from_the_setting() -> None:
    phones = parse_phones(
        "http://sms:p%40ss@192.168.1.10:8080/, https://sms:two@api.sms-gate.app/3rdparty/v1",
        "20,30",
    )
    assert phones == [
        AndroidPhone("http://192.168.1.10:8080", "sms", "p@ss", 20),
        AndroidPhone("https://api.sms-gate.app/3rdparty/v1", "sms", "two", 30),
    ]
    assert [p.per_minute for p in parse_phones("http://a:b@h1,http://a:b@h2")] == [20, 20]
