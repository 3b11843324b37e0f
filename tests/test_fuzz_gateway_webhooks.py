"""Fuzz: random requests to the Android and HTTP gateways' webhook handlers: never a 5xx.

One real aiohttp server on 127.0.0.1 serves both handlers. The requests come from a seeded
``random.Random`` (the same ones every run): random bytes, JSON of random shapes — signed
with the right key, so that the shape checks behind the signature are reached — forms,
wrong and missing secrets and signatures, odd content types. Every answer must be one of
the handlers' documented ones, and an event is recorded exactly for each 204.
"""

from __future__ import annotations

import json
import random
import string
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.channels.android import webhook_handler
from bot.channels.android.webhook import sign
from bot.channels.events import Event
from bot.channels.http_gateway import HttpGatewayConfig, inbound_handler
from tests.fakes.telegram_api import FakeHTTPServer

SEED = 20_261_207
REQUESTS = 600
KEY = "signing-key"
SECRET = "s3cret"
NOW = 1_795_000_000
EVENTS = ["sms:received", "sms:sent", "sms:delivered", "sms:failed", "system:ping", "x", ""]
FIELDS = ["messageId", "message", "phoneNumber", "reason", "recipient", "from", "text", "id"]


def _value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(8 if depth < 2 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False, 0, -1, 2**70, 1.5, float("1e308")])
    if kind in (2, 3, 4):
        alphabet = string.printable + "жөүңЁ😀\x00\u202e"
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 30)))
    if kind in (5, 6):
        return {rng.choice(FIELDS): _value(rng, depth + 1) for _ in range(rng.randrange(0, 5))}
    return [_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))]


def _android_request(rng: random.Random) -> tuple[bytes, dict[str, str]]:
    shape = rng.randrange(4)
    if shape == 0:
        body = rng.randbytes(rng.randrange(0, 200))
    else:
        envelope: dict[str, Any] = {
            "event": rng.choice(EVENTS),
            "id": _value(rng),
            "payload": _value(rng) if shape == 1 else {f: _value(rng) for f in FIELDS},
        }
        if shape == 3:
            envelope["payload"]["phoneNumber"] = "+996555123456"
            envelope["id"] = "event-id"
        body = json.dumps(envelope).encode()
    timestamp = str(NOW + rng.choice([0, 0, 0, -400, 400]))
    headers = {"X-Timestamp": timestamp, "X-Signature": sign(body, timestamp, KEY)}
    damage = rng.randrange(6)
    if damage == 0:
        headers["X-Signature"] = rng.choice(["", "zz", "0" * 64])
    elif damage == 1:
        del headers[rng.choice(["X-Signature", "X-Timestamp"])]
    elif damage == 2:
        headers["X-Timestamp"] = rng.choice(["-1", "1e9", "٣٣", " 1"])
    return body, headers


def _http_request(rng: random.Random) -> tuple[bytes, dict[str, str]]:
    shape = rng.randrange(3)
    if shape == 0:
        body = rng.randbytes(rng.randrange(0, 200))
    elif shape == 1:
        body = json.dumps({f: _value(rng) for f in FIELDS if rng.random() < 0.6}).encode()
    else:
        pairs = [(rng.choice(FIELDS), str(_value(rng))) for _ in range(rng.randrange(0, 5))]
        body = "&".join(f"{k}={v}" for k, v in pairs).encode()
    content_type = rng.choice(
        ["application/json", "application/x-www-form-urlencoded", "text/plain", ""]
    )
    headers = {"Content-Type": content_type} if content_type else {}
    if rng.random() < 0.8:
        headers["X-Gateway-Secret"] = SECRET if rng.random() < 0.85 else "guess"
    return body, headers


class Bot(FakeHTTPServer):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[Event] = []

        async def record(event: Event) -> None:
            self.events.append(event)

        config = HttpGatewayConfig(send_url="http://x/send", inbound_secret=SECRET)
        self.android = webhook_handler([KEY], record, clock=lambda: NOW)
        self.http = inbound_handler(config, record)

    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/sms/android", self.android)
        app.router.add_post("/sms/http", self.http)
        return app


@pytest.fixture
async def bot() -> AsyncIterator[Bot]:
    async with Bot() as server:
        yield server


async def test_no_request_gets_a_5xx(bot: Bot) -> None:
    rng = random.Random(SEED)
    answers: Counter[tuple[str, int]] = Counter()
    async with aiohttp.ClientSession() as session:
        for _ in range(REQUESTS):
            route = rng.choice(["android", "http"])
            make = _android_request if route == "android" else _http_request
            body, headers = make(rng)
            async with session.post(
                f"{bot.base_url}/sms/{route}", data=body, headers=headers
            ) as response:
                answers[route, response.status] += 1
    statuses = {status for _, status in answers}
    assert statuses <= {204, 400, 401}, answers
    # the fuzz reached past the signature and secret checks, both ways
    for route in ("android", "http"):
        assert answers[route, 204] and answers[route, 400] and answers[route, 401], answers
    accepted = answers["android", 204] + answers["http", 204]
    ignored = accepted - len(bot.events)  # system:ping is accepted and not recorded
    assert 0 <= ignored < accepted
