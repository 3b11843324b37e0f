"""The generic HTTP gateway: templated sends to a fake aggregator API on 127.0.0.1, and
the aggregator's inbound POSTs into the channel's aiohttp handler on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from urllib.parse import parse_qs

import aiohttp
import pytest
from aiohttp import web

from bot.channels.events import Event, InboundSms, StatusEvent
from bot.channels.http_gateway import (
    STATUS_OUTCOMES,
    HttpGatewayConfig,
    HttpGatewaySender,
    InvalidSetting,
    inbound_handler,
    status_handler,
)
from bot.outbox.channel import PermanentFailure, TemporaryFailure
from tests.fakes.http_gateway import FakeHttpGateway
from tests.fakes.telegram_api import FakeHTTPServer

PHONE = "+996555123456"
TRICKY = 'Салам "айыл" & 1+1=2 \\ {{to}}'


@pytest.fixture
async def gateway() -> AsyncIterator[FakeHttpGateway]:
    async with FakeHttpGateway() as fake:
        yield fake


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as client:
        yield client


async def test_json_body_template_with_auth_and_id_path(
    gateway: FakeHttpGateway, session: aiohttp.ClientSession
) -> None:
    config = HttpGatewayConfig(
        send_url=f"{gateway.base_url}/api/send",
        body_template='{"phone": {{to_no_plus}}, "sms": {{text}}, "sender": {{from}}}',
        auth_header="Authorization: Bearer k3y",
        from_number="AyilBudget",
        id_path="data.0.id",
    )
    message_id = await HttpGatewaySender(config, session).send(PHONE, TRICKY)
    assert message_id == "msg-1"
    [request] = gateway.requests
    assert (request.method, request.path) == ("POST", "/api/send")
    assert request.headers["Authorization"] == "Bearer k3y"
    assert request.headers["Content-Type"] == "application/json"
    # the text's quotes and braces stay text: the body is valid JSON, nothing re-expanded
    assert json.loads(request.body) == {
        "phone": "996555123456",
        "sms": TRICKY,
        "sender": "AyilBudget",
    }


async def test_form_body_and_url_templates_are_url_encoded(
    gateway: FakeHttpGateway, session: aiohttp.ClientSession
) -> None:
    config = HttpGatewayConfig(
        send_url=f"{gateway.base_url}/send?login=civic&to={{{{to}}}}",
        body_template="msg={{text}}&from={{from}}",
        content_type="application/x-www-form-urlencoded",
        from_number="+996700000001",
    )
    assert await HttpGatewaySender(config, session).send(PHONE, TRICKY) is None  # no id_path
    [request] = gateway.requests
    assert request.query == {"login": "civic", "to": PHONE}
    assert parse_qs(request.body.decode()) == {"msg": [TRICKY], "from": ["+996700000001"]}


async def test_a_get_with_everything_in_the_url(
    gateway: FakeHttpGateway, session: aiohttp.ClientSession
) -> None:
    config = HttpGatewayConfig(
        send_url=f"{gateway.base_url}/sms?to={{{{to_no_plus}}}}&text={{{{text}}}}",
        method="GET",
        id_path="status",
    )
    assert await HttpGatewaySender(config, session).send(PHONE, "Салам") == "ok"
    [request] = gateway.requests
    assert (request.method, request.query) == ("GET", {"to": "996555123456", "text": "Салам"})


@pytest.mark.parametrize(
    ("status", "headers", "retry_after"),
    [(429, {"Retry-After": "7"}, 7.0), (429, {}, None), (500, {}, None), (503, {}, None)],
)
async def test_busy_or_failing_gateway_is_retried(
    gateway: FakeHttpGateway,
    session: aiohttp.ClientSession,
    status: int,
    headers: dict[str, str],
    retry_after: float | None,
) -> None:
    sender = HttpGatewaySender(HttpGatewayConfig(send_url=f"{gateway.base_url}/s"), session)
    gateway.answer_next(status, {"error": "busy"}, headers)
    with pytest.raises(TemporaryFailure) as failure:
        await sender.send(PHONE, "hi")
    assert failure.value.retry_after == retry_after
    assert not failure.value.unknown_outcome


async def test_a_refused_message_is_not_retried(
    gateway: FakeHttpGateway, session: aiohttp.ClientSession
) -> None:
    sender = HttpGatewaySender(HttpGatewayConfig(send_url=f"{gateway.base_url}/s"), session)
    gateway.answer_next(400, {"error": "bad number"})
    with pytest.raises(PermanentFailure, match=r"http gateway 400: .*bad number"):
        await sender.send(PHONE, "hi")


@pytest.mark.parametrize(
    ("status", "answer", "unsubscribed"),
    [
        (400, {"error": "bad number"}, False),
        (400, {"error": "BLACKLISTED number"}, True),
        (451, {"error": "refused"}, True),
    ],
)
async def test_a_refusal_that_says_the_recipient_refuses_opts_them_out(
    gateway: FakeHttpGateway,
    session: aiohttp.ClientSession,
    status: int,
    answer: dict[str, str],
    unsubscribed: bool,
) -> None:
    config = HttpGatewayConfig(
        send_url=f"{gateway.base_url}/s", optout_codes=frozenset({"blacklisted", "451"})
    )
    gateway.answer_next(status, answer)
    with pytest.raises(PermanentFailure) as failure:
        await HttpGatewaySender(config, session).send(PHONE, "hi")
    assert failure.value.unsubscribed is unsubscribed


async def test_an_unreachable_gateway_is_retried(session: aiohttp.ClientSession) -> None:
    sender = HttpGatewaySender(HttpGatewayConfig(send_url="http://127.0.0.1:9/s"), session)
    with pytest.raises(TemporaryFailure) as failure:
        await sender.send(PHONE, "hi")
    assert not failure.value.unknown_outcome


@pytest.mark.parametrize(
    "settings",
    [
        {"body_template": "{{to}} {{password}}"},
        {"send_url": "http://x/{{ text.upper() }}"},
        {"method": "DELETE"},
        {"content_type": "text/xml"},
        {"auth_header": "Bearer abc"},
    ],
)
def test_a_wrong_configuration_is_refused(settings: dict[str, str]) -> None:
    with pytest.raises(InvalidSetting, match=r"must be|unknown template variable"):
        HttpGatewayConfig(**{"send_url": "http://x/send", **settings})


# -- inbound ---------------------------------------------------------------------------

INBOUND = HttpGatewayConfig(
    send_url="http://x/send",
    inbound_secret="s3cret",
    inbound_from_field="msisdn",
    inbound_text_field="message",
    inbound_id_field="msgid",
)


class Bot(FakeHTTPServer):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[Event] = []

        async def record(event: Event) -> None:
            self.events.append(event)

        self.handler = inbound_handler(INBOUND, record)
        self.reports = {
            outcome: status_handler(INBOUND, outcome, record) for outcome in STATUS_OUTCOMES
        }

    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/sms/http", self.handler)
        for outcome, handler in self.reports.items():
            app.router.add_post(f"/sms/http/status/{outcome}", handler)
        return app


@pytest.fixture
async def bot() -> AsyncIterator[Bot]:
    async with Bot() as server:
        yield server


async def post(
    session: aiohttp.ClientSession,
    bot: Bot,
    secret: str | None = "s3cret",
    path: str = "/sms/http",
    **kwargs: object,
) -> int:
    headers = {"X-Gateway-Secret": secret} if secret is not None else {}
    async with session.post(f"{bot.base_url}{path}", headers=headers, **kwargs) as response:
        return response.status


async def test_delivery_reports_by_url(bot: Bot, session: aiohttp.ClientSession) -> None:
    for outcome in ("sent", "delivered", "failed"):
        path = f"/sms/http/status/{outcome}"
        assert await post(session, bot, path=path, data={"id": "msg-7"}) == 204
    assert [(e.provider_id, e.status, e.error) for e in bot.events] == [
        ("msg-7", "sent", None),
        ("msg-7", "delivered", None),
        ("msg-7", "failed", "http gateway: failed"),
    ]
    assert all(isinstance(e, StatusEvent) for e in bot.events)
    path = "/sms/http/status/delivered"
    assert await post(session, bot, "guess", path=path, data={"id": "msg-7"}) == 401
    assert await post(session, bot, path=path, data={"msgid": "msg-7"}) == 400
    assert await post(session, bot, path=path, json={"id": "msg\x007"}) == 400
    assert len(bot.events) == 3


async def test_inbound_form_and_json(bot: Bot, session: aiohttp.ClientSession) -> None:
    assert await post(session, bot, data={"msisdn": PHONE, "message": "1 2", "msgid": "77"}) == 204
    json_body = {"msisdn": 996555123456, "message": "Салам", "to": "7070"}
    assert await post(session, bot, json=json_body) == 204
    assert bot.events == [
        InboundSms(PHONE, "1 2", "", "http:77"),
        InboundSms(
            "996555123456", "Салам", "7070", bot.events[1].dedupe_key, keyed_by_content=True
        ),
    ]


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("missing secret", 401),
        ("wrong secret", 401),
        ("no sender", 400),
        ("sender is a list", 400),
        ("JSON not an object", 400),
        ("broken JSON", 400),
        ("empty form", 400),
        ("id with a NUL", 400),
    ],
)
async def test_inbound_rejections(
    bot: Bot, session: aiohttp.ClientSession, case: str, status: int
) -> None:
    good = {"msisdn": PHONE, "message": "1"}
    kwargs: dict[str, object] = {
        "missing secret": {"data": good},
        "wrong secret": {"data": good},
        "no sender": {"data": {"message": "1"}},
        "sender is a list": {"json": {"msisdn": [PHONE], "message": "1"}},
        "JSON not an object": {"json": [good]},
        "broken JSON": {"data": b"{", "headers": {"Content-Type": "application/json"}},
        "empty form": {"data": b""},
        "id with a NUL": {"json": {**good, "msgid": "7\x00"}},
    }[case]
    secret = {"missing secret": None, "wrong secret": "guess"}.get(case, "s3cret")
    if "headers" in kwargs:
        extra = kwargs.pop("headers")
        async with session.post(
            f"{bot.base_url}/sms/http", headers={"X-Gateway-Secret": "s3cret", **extra}, **kwargs
        ) as response:
            assert response.status == status
    else:
        assert await post(session, bot, secret, **kwargs) == status
    assert bot.events == []
