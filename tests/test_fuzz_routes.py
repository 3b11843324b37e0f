"""Fuzz (hypothesis) over every route of the web server and every button's callback data:
no input is answered 5xx, and input that is refused changes nothing.

One real aiohttp server on 127.0.0.1 with the production app (``bot.app.http_app``): Twilio's
signature checked against ``PUBLIC_BASE_URL`` and our account, Telegram's secret token,
the real dispatcher and text lane feeding a Bot pointed at the fake Bot API; the demo
municipality behind it, with a resident and a staff member linked to Telegram so that
buttons reach their handlers. Requests are signed (or carry the secret) most of the
time, so that the fuzz reaches the handlers, and now and then not.

The callback-data prefixes are those of the ``CallbackData`` classes the Telegram
routers define, found by walking the subclasses: a new button is fuzzed without
touching this file.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiogram.filters.callback_data import CallbackData
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

import handlers.telegram  # noqa: F401  (every router's CallbackData class defined)
from bot.app import http_app, sms_gateway
from bot.channels.android.webhook import sign
from bot.channels.gateway_events import GatewayEvents
from bot.channels.http_gateway import STATUS_OUTCOMES
from bot.channels.twilio import form as twilio_form
from bot.channels.twilio.webhook import NAME as TWILIO
from bot.channels.twilio.webhook import TwilioChannel
from bot.config import Settings
from bot.core.clock import iso
from bot.core.rendering.templates import Renderer
from bot.core.services import demo_data
from bot.runtime.web import WebContext
from storage.models import Municipality
from storage.repos import Repos
from tests.conftest import FakeClock
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.webhooks import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    telegram_callback_update,
    telegram_message_update,
    twilio_inbound_form,
    twilio_signature,
    twilio_status_form,
)
from tests.telegram_helpers import live_webhook

PUBLIC = "https://bot.example.kg"
OUR_NUMBER = "+15005550006"
SECRET = "fuzz-secret_token"
TOKEN = "123456:FUZZ"
RESIDENT_USER = 7_100_001
STAFF_USER = 7_100_002
STRANGER = 7_100_003

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def callback_prefixes() -> list[str]:
    """The prefix of every ``CallbackData`` class (and its subclasses) defined."""
    found, todo = set(), list(CallbackData.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("handlers."):
            found.add(cls.__prefix__)
    return sorted(found)


PREFIXES = callback_prefixes()


# ------------------------------------------------------------------------------ the server


@dataclass
class Site:
    ctx: WebContext
    server: TestServer
    http: aiohttp.ClientSession

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        async with self.http.post(self.server.make_url(path), data=body, headers=headers) as r:
            await r.read()
            return r.status


@pytest.fixture
async def site(
    repos: Repos, demo: Municipality, clock: FakeClock, renderer: Renderer, api: FakeTelegramAPI
) -> AsyncIterator[Site]:
    for phone, user in (
        (demo_data.RESIDENT_PHONE, RESIDENT_USER),
        (demo_data.ADMIN_PHONE, STAFF_USER),
    ):
        person = await repos.residents.by_phone(demo.id, phone)
        assert person is not None
        await repos.residents.link_telegram(person.id, user, now=iso(clock.now()))
    async with live_webhook(
        repos,
        renderer,
        clock,
        demo,
        api,
        secret=SECRET,
        token=TOKEN,
        channels={TWILIO: TwilioChannel(RequestValidator(DEFAULT_AUTH_TOKEN), DEFAULT_ACCOUNT_SID)},
        public_base_url=PUBLIC,
    ) as served:
        yield Site(served.ctx, served.server, served.http)


ANDROID_KEY = "fuzz-android-signing-key"
GATEWAY_SECRET = "fuzz-gateway-secret"


@pytest.fixture
async def gateway_site(
    repos: Repos, demo: Municipality, clock: FakeClock, renderer: Renderer
) -> AsyncIterator[Site]:
    """The routes of the Android and HTTP gateways as ``civic-bot run`` mounts them
    (``bot.app.sms_gateway``), their events into the runtime (``GatewayEvents``)."""
    ctx = WebContext(
        repos=repos, renderer=renderer, clock=clock, municipality=demo, sms_gateway="android"
    )
    events = GatewayEvents(ctx)
    common = {"_env_file": None, "database_url": "sqlite:///unused.db"}
    android = Settings(
        **common,
        sms_gateway="android",
        android_gateway_phones="http://sms:pw@127.0.0.1:9",
        android_gateway_signing_keys=ANDROID_KEY,
    )
    http_gateway = Settings(
        **common,
        sms_gateway="http",
        http_gateway_send_url="http://127.0.0.1:9/send",
        http_gateway_inbound_secret=GATEWAY_SECRET,
    )
    async with AsyncExitStack() as stack:
        routes = []
        for settings in (android, http_gateway):
            gateway = await sms_gateway(settings, events, stack)
            assert gateway is not None
            routes.extend(gateway.routes)
        async with (
            TestServer(http_app(ctx, routes), host="127.0.0.1") as server,
            aiohttp.ClientSession() as http,
        ):
            yield Site(ctx, server, http)


async def fingerprint(repos: Repos) -> list[Any]:
    """Rows per table, and the residents' languages and opt-outs: what a request that is
    refused must leave as it was (cheap enough to take around every request)."""
    if repos.db.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    else:
        query = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    tables = sorted(row[0] for row in await repos.db.fetchall(query))
    counts = [
        (name, await repos.db.fetchval(f"SELECT COUNT(*) FROM {name}"))
        for name in tables
        if name != "rate_sends"
    ]
    residents = await repos.db.fetchall(
        "SELECT language, opted_out, COUNT(*) FROM residents GROUP BY language, opted_out"
        " ORDER BY 1, 2"
    )
    return counts + [tuple(row) for row in residents]


async def refused_changes_nothing(site: Site, request: Any) -> int:
    """Send; the status, after checking it is no 5xx and that a refusal changed nothing."""
    before = await fingerprint(site.ctx.repos)
    status = await request
    assert status < 500
    if status >= 400:
        assert await fingerprint(site.ctx.repos) == before
    return status


# ------------------------------------------------------------------------------ strategies

texts = st.text(max_size=40)
#: values that are (nearly) of a parameter's shape, and values that are not
twilio_values = st.one_of(
    texts,
    st.sampled_from(["0", "1", "10", "-1", "1e3", "SM" + "a" * 32, "MM" + "0" * 32]),
    st.builds(lambda d: "SM" + d, st.text("0123456789abcdef", min_size=30, max_size=34)),
    st.just(DEFAULT_ACCOUNT_SID),
    st.sampled_from([demo_data.RESIDENT_PHONE, demo_data.ADMIN_PHONE, demo_data.UNKNOWN_PHONE]),
)
twilio_names = st.one_of(
    st.sampled_from(sorted(twilio_form.KNOWN)),
    st.builds(lambda n, s: n + s, st.sampled_from(sorted(twilio_form.KNOWN)), texts),
    st.sampled_from(
        [f"MediaUrl{n}" for n in range(3)] + [f"MediaContentType{n}" for n in range(3)]
    ),
    texts,
)
bodies = st.one_of(
    texts,
    st.sampled_from(["ME", "HELP", "STOP", "START", "LANG RU", "V 1 3", "H1 YES", "BUDGET"]),
)


@st.composite
def twilio_requests(draw: st.DrawFn, path: str) -> tuple[bytes, dict[str, str]]:
    """A form as Twilio would post it to ``path``, changed a little or a lot; signed
    right, wrong or not at all; now and then bytes that are no form."""
    if path == "/sms/twilio":
        sender = draw(st.sampled_from([demo_data.RESIDENT_PHONE, demo_data.UNKNOWN_PHONE, "x"]))
        form = twilio_inbound_form(sender, OUR_NUMBER, draw(bodies))
    else:
        sid = draw(st.sampled_from(["SM" + "1" * 32, "SM" + "f" * 32]))
        status = draw(st.sampled_from(["sent", "delivered", "undelivered", "failed", "x"]))
        form = twilio_status_form(sid, status, to=demo_data.RESIDENT_PHONE, from_=OUR_NUMBER)
    for name in draw(st.lists(st.sampled_from(sorted(form)), max_size=3)):
        form.pop(name, None)
    form.update(draw(st.dictionaries(twilio_names, twilio_values, max_size=3)))
    body = urlencode(form).encode()
    how = draw(st.sampled_from(["signed"] * 6 + ["unsigned", "wrong", "bytes"]))
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if how == "bytes":
        body = draw(st.binary(max_size=200))
    if how != "unsigned":
        token = "0" * 32 if how == "wrong" else DEFAULT_AUTH_TOKEN
        headers["X-Twilio-Signature"] = twilio_signature(token, PUBLIC + path, form)
    return body, headers


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=12,
)
callback_parts = st.one_of(
    st.integers(min_value=-(10**25), max_value=10**25).map(str),
    st.sampled_from(["yes", "no", "maybe", "done", "vote", "ru", "all", "cancel", "0", "1"]),
    st.text(max_size=10),
)


@st.composite
def callback_data(draw: st.DrawFn) -> str:
    """A prefix the routers know, then anything: ids in and out of range, words."""
    parts = draw(st.lists(callback_parts, max_size=4))
    return ":".join([draw(st.sampled_from(PREFIXES)), *parts])[:64]


@st.composite
def telegram_updates(draw: st.DrawFn) -> dict[str, Any] | Any:
    """Updates as Telegram sends them (texts, commands, buttons) from a linked resident,
    staff or a stranger, some with a field dropped or replaced; and JSON that is none."""
    user = draw(st.sampled_from([RESIDENT_USER, STAFF_USER, STRANGER]))
    update_id = draw(st.integers(min_value=1, max_value=2**40))
    kind = draw(st.sampled_from(["text", "command", "button", "button", "json"]))
    if kind == "json":
        return draw(json_values)
    if kind == "button":
        update = telegram_callback_update(draw(callback_data()), user, update_id=update_id)
        body = update["callback_query"]
    else:
        text = (
            draw(bodies)
            if kind == "text"
            else "/"
            + draw(st.sampled_from(["start", "vote", "hearings", "newhearing", "cancel", "budget"]))
            + draw(st.sampled_from(["", " 1", " 99999999999999999999", " x"]))
        )
        update = telegram_message_update(text, user, update_id=update_id)
        body = update["message"]
    for name in draw(st.lists(st.sampled_from(sorted(body)), max_size=2)):
        body.pop(name, None)
    body.update(
        draw(
            st.dictionaries(
                st.sampled_from(["chat", "date", "from", "text"]), json_values, max_size=1
            )
        )
    )
    return update


senders = st.sampled_from([demo_data.RESIDENT_PHONE, demo_data.UNKNOWN_PHONE, "x", ""])
android_events = st.sampled_from(
    ["sms:received"] * 4 + ["sms:sent", "sms:delivered", "sms:failed", "system:ping", "x"]
)


@st.composite
def android_requests(draw: st.DrawFn) -> tuple[bytes, dict[str, str]]:
    """The phone app's webhook: a resident's SMS or a report, its fields kept, dropped or
    replaced; signed right, with another key, too long ago or not at all; or bytes."""
    payload: dict[str, Any] = {
        "messageId": draw(st.sampled_from(["m1", "m2"]) | texts),
        "phoneNumber": draw(senders),
        "message": draw(bodies),
        "reason": draw(texts),
    }
    for name in draw(st.lists(st.sampled_from(sorted(payload)), max_size=2)):
        payload.pop(name, None)
    payload.update(
        draw(st.dictionaries(st.sampled_from(["messageId", "phoneNumber", "message"]), json_values))
    )
    envelope = {"event": draw(android_events), "id": draw(texts), "payload": payload}
    body = json.dumps(envelope).encode()
    how = draw(st.sampled_from(["signed"] * 6 + ["unsigned", "wrong", "stale", "bytes"]))
    if how == "bytes":
        body = draw(st.binary(max_size=200))
    timestamp = str(int(time.time()) - (3600 if how == "stale" else 0))
    headers = {"Content-Type": "application/json", "X-Timestamp": timestamp}
    if how != "unsigned":
        headers["X-Signature"] = sign(body, timestamp, "wrong" if how == "wrong" else ANDROID_KEY)
    return body, headers


@st.composite
def http_gateway_requests(draw: st.DrawFn) -> tuple[bytes, dict[str, str]]:
    """An aggregator's post of a resident's SMS, as JSON or a form, with the secret or
    not; or bytes."""
    fields: dict[str, Any] = {"id": draw(texts), "from": draw(senders), "text": draw(bodies)}
    for name in draw(st.lists(st.sampled_from(sorted(fields)), max_size=2)):
        fields.pop(name, None)
    fields.update(draw(st.dictionaries(st.sampled_from(["id", "from", "text", "to"]), json_values)))
    kind = draw(st.sampled_from(["json", "form", "bytes"]))
    if kind == "json":
        body, content_type = json.dumps(fields).encode(), "application/json"
    elif kind == "form":
        body = urlencode({k: str(v) for k, v in fields.items()}).encode()
        content_type = "application/x-www-form-urlencoded"
    else:
        body = draw(st.binary(max_size=200))
        content_type = draw(st.sampled_from(["", "text/plain", "application/json; charset=x"]))
    headers = {"Content-Type": content_type} if content_type else {}
    secret = draw(st.sampled_from([GATEWAY_SECRET] * 6 + ["wrong", ""]))
    if secret:
        headers["X-Gateway-Secret"] = secret
    return body, headers


# ------------------------------------------------------------------------------ the tests


@FUZZ
@given(path=st.text(max_size=20), query=st.dictionaries(texts, texts, max_size=3))
async def test_healthz_answers_whatever_is_asked(
    site: Site, path: str, query: dict[str, str]
) -> None:
    async with site.http.get(site.server.make_url("/healthz"), params=query) as resp:
        assert resp.status == 200
    async with site.http.get(site.server.make_url("/healthz/" + path.replace("?", ""))) as resp:
        assert resp.status < 500


@FUZZ
@given(data=st.data())
@pytest.mark.parametrize("path", ["/sms/twilio", "/sms/twilio/status"])
async def test_twilio_routes_never_fail(site: Site, path: str, data: st.DataObject) -> None:
    body, headers = data.draw(twilio_requests(path))
    await refused_changes_nothing(site, site.post(path, body, headers))


@FUZZ
@given(update=telegram_updates(), secret=st.sampled_from([SECRET] * 8 + ["wrong", ""]))
async def test_the_telegram_webhook_never_fails(site: Site, update: Any, secret: str) -> None:
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret}
    body = json.dumps(update).encode()
    status = await refused_changes_nothing(site, site.post("/telegram/webhook", body, headers))
    if secret == SECRET and isinstance(update, dict) and type(update.get("update_id")) is int:
        assert status == 200  # an update with an id: 200, Telegram does not send it again


@FUZZ
@given(data=callback_data(), user=st.sampled_from([RESIDENT_USER, STAFF_USER, STRANGER]))
async def test_every_button_prefix_is_answered(
    site: Site, api: FakeTelegramAPI, data: str, user: int
) -> None:
    """Whatever follows a prefix of ours, the button press is answered 200 and its
    spinner stopped (answerCallbackQuery)."""
    update = telegram_callback_update(data, user)
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}
    answered = len(api.calls("answerCallbackQuery"))
    status = await site.post("/telegram/webhook", json.dumps(update).encode(), headers)
    assert status == 200
    assert len(api.calls("answerCallbackQuery")) == answered + 1


def test_the_prefixes_are_found() -> None:
    assert {"rsvp", "vp", "vt", "vs", "bp", "ba", "rate", "hf", "hp", "af", "lang", "menu"} <= set(
        PREFIXES
    )


@FUZZ
@given(request=android_requests())
async def test_the_android_webhook_never_fails(
    gateway_site: Site, request: tuple[bytes, dict[str, str]]
) -> None:
    answer = gateway_site.post("/sms/android", *request)
    status = await refused_changes_nothing(gateway_site, answer)
    assert status in (204, 400, 401)
    event(f"answered {status}")


@FUZZ
@given(
    request=http_gateway_requests(),
    path=st.sampled_from(["/sms/http"] * 3 + [f"/sms/http/status/{o}" for o in STATUS_OUTCOMES]),
)
async def test_the_http_gateway_routes_never_fail(
    gateway_site: Site, request: tuple[bytes, dict[str, str]], path: str
) -> None:
    answer = gateway_site.post(path, *request)
    status = await refused_changes_nothing(gateway_site, answer)
    assert status in (204, 400, 401)
    event(f"answered {status}")
