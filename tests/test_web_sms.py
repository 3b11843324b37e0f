"""The SMS routes over real HTTP: a real aiohttp server on 127.0.0.1, a real client.

Requests are signed exactly as Twilio signs them: over the PUBLIC URL (``PUBLIC_BASE_URL``
+ path) and the form. The server listens on an ephemeral local port, so a request
signed for the local URL must be refused: the server checks against the public one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from twilio.request_validator import RequestValidator

from bot.app import http_app
from bot.channels.twilio.webhook import NAME as TWILIO
from bot.channels.twilio.webhook import TwilioChannel
from bot.core.clock import iso
from bot.core.rendering.templates import Renderer
from bot.core.services import demo_data, residents
from bot.core.services.municipalities import create_municipality
from bot.runtime.web import WebContext
from handlers.commands import MAX_MESSAGE_LENGTH
from storage.models import Municipality, OutboxDraft, Resident
from storage.repos import Repos
from tests.conftest import FakeClock, table_snapshot
from tests.fakes.webhooks import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    new_sid,
    twilio_inbound_form,
    twilio_signed_headers,
    twilio_status_form,
)

PUBLIC = "https://bot.example.kg"
OUR_NUMBER = "+15005550006"
RESIDENT = demo_data.RESIDENT_PHONE
UNKNOWN = demo_data.UNKNOWN_PHONE
OTHER_TOKEN = "0123456789abcdef" * 2


# ------------------------------------------------------------------------------ plumbing


@dataclass
class Web:
    """The running server, a client, and the context behind them."""

    ctx: WebContext
    server: TestServer
    http: aiohttp.ClientSession

    def local_url(self, path: str) -> str:
        return str(self.server.make_url(path))

    async def post(
        self,
        path: str,
        form: dict[str, str],
        *,
        sign: str | None = "public",
        token: str = DEFAULT_AUTH_TOKEN,
        signed_form: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        """POST ``form``; ``sign``: "public" (as Twilio does), "local" (the wrong URL),
        None (no signature header). ``signed_form``: sign this form instead (tampering)."""
        headers: dict[str, str] = {"Content-Type": "application/x-www-form-urlencoded"}
        if sign is not None:
            url = PUBLIC + path if sign == "public" else self.local_url(path)
            headers = twilio_signed_headers(token, url, signed_form or form)
        async with self.http.post(self.local_url(path), data=form, headers=headers) as resp:
            return resp.status, await resp.text()


@pytest.fixture
async def web(
    repos: Repos, demo: Municipality, clock: FakeClock, renderer: Renderer
) -> AsyncIterator[Web]:
    ctx = WebContext(
        repos=repos,
        renderer=renderer,
        clock=clock,
        municipality=demo,
        channels={TWILIO: TwilioChannel(RequestValidator(DEFAULT_AUTH_TOKEN), DEFAULT_ACCOUNT_SID)},
        public_base_url=PUBLIC,
    )
    server = TestServer(http_app(ctx), host="127.0.0.1")
    await server.start_server()
    async with aiohttp.ClientSession() as http:
        yield Web(ctx, server, http)
    await server.close()


def twiml(text: str | None) -> str:
    """The TwiML the server answers with (same builder as Twilio's docs)."""
    from twilio.twiml.messaging_response import MessagingResponse

    response = MessagingResponse()
    if text:
        response.message(text)
    return str(response)


async def inbound_rows(repos: Repos) -> list[tuple[Any, ...]]:
    """The inbound rows, each reply as answered again (the stored one is sealed)."""
    rows = await repos.db.fetchall(
        "SELECT channel, provider_id, resident_id, command, municipality_id FROM inbound"
        " ORDER BY id"
    )
    return [
        (
            *row[:4],
            await repos.inbound.reply_to(
                municipality_id=row[4], channel=row[0], provider_id=row[1]
            ),
        )
        for row in rows
    ]


async def resident(repos: Repos, demo: Municipality, phone: str = RESIDENT) -> Resident:
    found = await repos.residents.by_phone(demo.id, phone)
    assert found is not None
    return found


# ------------------------------------------------------------------------------ inbound SMS


@dataclass(frozen=True)
class Expect:
    """What a valid inbound SMS must produce."""

    template: str
    language: str
    command: str
    #: the sender is in the register (the inbound row names them)
    registered: bool = True
    #: the reply carries the resident's card (ME)
    card: bool = False
    #: the resident afterwards: (language, opted_out); None = unchanged
    after: tuple[str, bool] | None = None


@pytest.mark.parametrize(
    ("sender", "body", "expect"),
    [
        pytest.param(RESIDENT, "ME", Expect("me", "ky", "me", card=True), id="me-latin"),
        pytest.param(RESIDENT, "мен", Expect("me", "ky", "me", card=True), id="me-kyrgyz"),
        pytest.param(RESIDENT, "Я", Expect("me", "ky", "me", card=True), id="me-russian"),
        pytest.param(RESIDENT, "HELP", Expect("help", "ky", "help"), id="help"),
        pytest.param(
            RESIDENT,
            "ЯЗЫК русский",
            Expect("lang_set", "ru", "lang", after=("ru", False)),
            id="lang-russian-words",
        ),
        pytest.param(
            RESIDENT,
            "тил кыргызча",
            Expect("lang_set", "ky", "lang", after=("ky", False)),
            id="lang-kyrgyz-words",
        ),
        pytest.param(
            RESIDENT, "ТОКТОТ", Expect("stopped", "ky", "stop", after=("ky", True)), id="stop-ky"
        ),
        pytest.param(RESIDENT, "Салам, кандайсыз?", Expect("unknown", "ky", "unknown"), id="chat"),
        pytest.param(RESIDENT, "", Expect("empty", "ky", "empty"), id="empty-body"),
        pytest.param(RESIDENT, "   \n", Expect("empty", "ky", "empty"), id="blank-body"),
        pytest.param(RESIDENT, "x" * 5000, Expect("too_long", "ky", "too_long"), id="5000-chars"),
        pytest.param(
            RESIDENT, "ж" * 5000, Expect("too_long", "ky", "too_long"), id="5000-cyrillic"
        ),
        pytest.param(
            UNKNOWN,
            "ME",
            Expect("unregistered", "en", "me", registered=False),
            id="unknown-sender",
        ),
        pytest.param(
            UNKNOWN,
            "Я",
            Expect("unregistered", "ru", "me", registered=False),
            id="unknown-sender-russian",
        ),
        pytest.param(
            "Twilio",  # an alphanumeric sender: not a phone number at all
            "HELP",
            Expect("unregistered", "en", "help", registered=False),
            id="alphanumeric-sender",
        ),
    ],
)
async def test_inbound_sms_is_answered_and_recorded(
    web: Web,
    repos: Repos,
    demo: Municipality,
    renderer: Renderer,
    sender: str,
    body: str,
    expect: Expect,
) -> None:
    registered = await repos.residents.by_phone(demo.id, sender) if sender != "Twilio" else None
    assert (registered is not None) == expect.registered
    data = {"card": await residents.profile(repos, registered)} if expect.card else {}
    if expect.template == "help":
        from handlers.text import help_page

        data = help_page(expect.language)
    reply = renderer.render(expect.template, expect.language, "sms", **data)
    form = twilio_inbound_form(sender, OUR_NUMBER, body)

    status, text = await web.post("/sms/twilio", form)

    assert status == 200, text
    assert text == twiml(reply)
    if expect.card:
        assert registered is not None and registered.name in text
    if expect.template == "too_long":
        assert len(body) > MAX_MESSAGE_LENGTH and len(text) < 1000
    assert await inbound_rows(repos) == [
        ("sms", form["MessageSid"], registered and registered.id, expect.command, reply)
    ]
    if registered is not None:
        now = await resident(repos, demo, sender)
        assert (now.language, now.opted_out) == (
            expect.after or (registered.language, registered.opted_out)
        )


def _stop() -> dict[str, str]:
    return twilio_inbound_form(RESIDENT, OUR_NUMBER, "STOP")


def _without(*keys: str) -> Callable[[], dict[str, str]]:
    return lambda: {k: v for k, v in _stop().items() if k not in keys}


@pytest.mark.parametrize(
    ("make", "how", "status"),
    [
        pytest.param(_stop, {"token": OTHER_TOKEN}, 403, id="wrong-token"),
        pytest.param(_stop, {"sign": "local"}, 403, id="signed-for-local-url"),
        pytest.param(_stop, {"sign": None}, 403, id="missing-signature"),
        pytest.param(
            _stop,
            {"signed_form": twilio_inbound_form(RESIDENT, OUR_NUMBER, "ME")},
            403,
            id="signed-another-form",
        ),
        pytest.param(dict, {}, 400, id="no-params"),
        pytest.param(dict, {"sign": None}, 403, id="no-params-unsigned"),
        pytest.param(
            _without("MessageSid", "SmsSid", "SmsMessageSid"), {}, 400, id="missing-message-sid"
        ),
        pytest.param(_without("From"), {}, 400, id="missing-from"),
    ],
)
async def test_forged_or_incomplete_sms_changes_nothing(
    web: Web,
    repos: Repos,
    make: Callable[[], dict[str, str]],
    how: dict[str, Any],
    status: int,
) -> None:
    form = make()
    before = await table_snapshot(repos, "inbound", "residents", "outbox")

    got, _ = await web.post("/sms/twilio", form, **how)

    assert got == status
    assert await table_snapshot(repos, "inbound", "residents", "outbox") == before


async def test_a_duplicate_is_answered_from_the_record_and_not_handled_again(
    web: Web, repos: Repos, renderer: Renderer, demo: Municipality
) -> None:
    stop = _stop()
    status, first = await web.post("/sms/twilio", stop)
    assert (status, first) == (200, twiml(renderer.render("stopped", "ky", "sms")))
    assert (await resident(repos, demo)).opted_out
    status, _ = await web.post("/sms/twilio", twilio_inbound_form(RESIDENT, OUR_NUMBER, "START"))
    assert status == 200
    assert not (await resident(repos, demo)).opted_out
    before = await table_snapshot(repos, "inbound", "residents")

    # Twilio delivers the STOP again (it timed out waiting for our answer)
    status, again = await web.post("/sms/twilio", stop)

    assert status == 200
    assert again == first  # the same TwiML reply...
    assert await table_snapshot(repos, "inbound", "residents") == before  # ...handled once
    assert not (await resident(repos, demo)).opted_out
    sids = [row[1] for row in await inbound_rows(repos)]
    assert sids.count(stop["MessageSid"]) == 1


async def test_concurrent_duplicates_are_handled_once(
    web: Web, repos: Repos, demo: Municipality
) -> None:
    form = twilio_inbound_form(RESIDENT, OUR_NUMBER, "LANG RU")
    answers = await asyncio.gather(*(web.post("/sms/twilio", form) for _ in range(5)))
    assert {status for status, _ in answers} == {200}
    assert len({text for _, text in answers}) == 1
    assert len(await inbound_rows(repos)) == 1
    assert (await resident(repos, demo)).language == "ru"


# ------------------------------------------------------------------ re-cut and malformed


async def test_a_recut_replay_of_a_signed_broadcast_is_refused(
    web: Web, repos: Repos, demo: Municipality
) -> None:
    """Twilio joins names and values with no separator: a captured BROADCAST's YES whose
    ``NumMedia=0`` is dropped and ``NumMedia0`` appended to ``MessageSid`` carries the
    same signature, and a MessageSid never seen. It must not go out a second time."""
    asked = twilio_inbound_form(demo_data.ADMIN_PHONE, OUR_NUMBER, "BROADCAST Water off")
    assert (await web.post("/sms/twilio", asked))[0] == 200
    captured = twilio_inbound_form(demo_data.ADMIN_PHONE, OUR_NUMBER, "YES")  # it goes
    status, _ = await web.post("/sms/twilio", captured)
    assert status == 200
    queued = len((await table_snapshot(repos, "outbox"))["outbox"])
    assert queued > 1000  # the broadcast went out to every resident once
    recut = {k: v for k, v in captured.items() if k != "NumMedia"}
    recut["MessageSid"] = captured["MessageSid"] + "NumMedia0"
    validator = RequestValidator(DEFAULT_AUTH_TOKEN)
    assert validator.validate(
        PUBLIC + "/sms/twilio", recut, validator.compute_signature(PUBLIC + "/sms/twilio", captured)
    )  # the captured signature is valid for the re-cut form
    before = await table_snapshot(repos, "inbound", "outbox", "broadcasts", "residents")

    status, _ = await web.post("/sms/twilio", recut, signed_form=captured)

    assert status == 400
    assert await table_snapshot(repos, "inbound", "outbox", "broadcasts", "residents") == before


def _stop_with(**changes: str | None) -> Callable[[], dict[str, str]]:
    """STOP from the resident with ``changes`` (None removes the parameter)."""

    def make() -> dict[str, str]:
        form = _stop()
        for key, value in changes.items():
            if value is None:
                form.pop(key, None)
            else:
                form[key] = value
        return form

    return make


_SID = "SM" + "0123456789abcdef" * 2
_SIDS = {"MessageSid": _SID, "SmsSid": _SID, "SmsMessageSid": _SID}


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(
            _stop_with(**{k: _SID + "0" for k in _SIDS}, NumMedia=None), id="sid-too-long"
        ),
        pytest.param(_stop_with(**{k: _SID.upper() for k in _SIDS}), id="sid-upper-case"),
        pytest.param(_stop_with(**{k: "SM123" for k in _SIDS}), id="sid-too-short"),
        pytest.param(_stop_with(**{k: "AB" + _SID[2:] for k in _SIDS}), id="sid-not-a-message"),
        pytest.param(_stop_with(**(_SIDS | {"SmsSid": "SM" + "1" * 32})), id="sids-differ"),
        pytest.param(_stop_with(AccountSid="AC" + "1" * 32), id="another-account"),
        pytest.param(_stop_with(AccountSid=None), id="no-account"),
        pytest.param(_stop_with(NumMedia="0x"), id="num-media-not-a-number"),
        pytest.param(_stop_with(NumMedia="-1"), id="num-media-negative"),
        pytest.param(_stop_with(NumSegments="1.0"), id="num-segments-not-a-number"),
        pytest.param(_stop_with(NumMedia=None, NumMedia0=""), id="num-media-suffixed"),
        pytest.param(_stop_with(MessageSidX=""), id="message-sid-suffixed"),
        pytest.param(_stop_with(FromZip=None, FromZip2=""), id="from-zip-suffixed"),
        pytest.param(_stop_with(MediaUrl0="https://x.example/a.jpg"), id="media-beyond-num-media"),
        pytest.param(
            _stop_with(NumMedia="1", MediaUrl0="https://x.example/a", MediaUrl1="https://x/b"),
            id="second-media-of-one",
        ),
        pytest.param(_stop_with(NumMedia="99"), id="num-media-out-of-range"),
        pytest.param(_stop_with(ApiVersion="yesterday"), id="api-version"),
    ],
)
async def test_a_signed_but_malformed_sms_is_refused(
    web: Web, repos: Repos, make: Callable[[], dict[str, str]]
) -> None:
    """Signed with our token over exactly this form: the signature is right, the shape
    is not. 400, and nothing happens (the STOP would opt the resident out)."""
    before = await table_snapshot(repos, "inbound", "residents", "outbox")

    status, _ = await web.post("/sms/twilio", make())

    assert status == 400
    assert await table_snapshot(repos, "inbound", "residents", "outbox") == before


async def test_an_mms_with_its_media_is_handled(web: Web, repos: Repos) -> None:
    media = [("https://api.twilio.com/m/1.jpg", "image/jpeg")] * 2
    form = twilio_inbound_form(RESIDENT, OUR_NUMBER, "ME", media=media)
    status, _ = await web.post("/sms/twilio", form)
    assert status == 200
    assert [row[1] for row in await inbound_rows(repos)] == [form["MessageSid"]]


@pytest.mark.parametrize("path", ["/sms/twilio", "/sms/twilio/status"])
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"Body=\xff\xfe&From=%2B996700000001", id="latin-1"),
        pytest.param(b"\xc3\x28=1", id="bad-utf8-name"),
        pytest.param(b"MessageSid=SM1&MessageSid=SM2", id="name-twice"),
    ],
)
async def test_a_body_that_is_no_form_is_answered_400(
    web: Web, repos: Repos, path: str, body: bytes
) -> None:
    before = await table_snapshot(repos, "inbound", "residents", "outbox")
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": "c2lnbmF0dXJl",
    }
    async with web.http.post(web.local_url(path), data=body, headers=headers) as resp:
        assert resp.status == 400
    assert await table_snapshot(repos, "inbound", "residents", "outbox") == before


async def test_the_same_sid_at_another_municipality_is_its_own_message(
    web: Web, repos: Repos, demo: Municipality, clock: FakeClock, renderer: Renderer
) -> None:
    """Deduplication is per municipality (per number): another municipality on the same
    database handles its message and answers it itself, not with the first one's reply."""
    other = await create_municipality(
        repos, slug="kara-suu", name="Kara-Suu", villages=["Kara-Suu"],
        default_language="ru", now=clock.now(),
    )  # fmt: skip
    ctx = WebContext(
        repos=repos,
        renderer=renderer,
        clock=clock,
        municipality=other,
        channels={TWILIO: TwilioChannel(RequestValidator(DEFAULT_AUTH_TOKEN), DEFAULT_ACCOUNT_SID)},
        public_base_url=PUBLIC,
    )
    form = _stop()
    status, first = await web.post("/sms/twilio", form)
    assert (status, first) == (200, twiml(renderer.render("stopped", "ky", "sms")))
    async with TestServer(http_app(ctx), host="127.0.0.1") as server:
        second = Web(ctx, server, web.http)
        status, text = await second.post("/sms/twilio", form)
    assert status == 200
    assert text != first
    assert [row[0] for row in await repos.db.fetchall(
        "SELECT municipality_id FROM inbound ORDER BY id"
    )] == [demo.id, other.id]  # fmt: skip


async def test_replies_follow_the_residents_language_across_messages(
    web: Web, repos: Repos, renderer: Renderer, demo: Municipality
) -> None:
    await web.post("/sms/twilio", twilio_inbound_form(RESIDENT, OUR_NUMBER, "LANG EN"))
    _, text = await web.post("/sms/twilio", twilio_inbound_form(RESIDENT, OUR_NUMBER, "СТОП"))
    assert text == twiml(renderer.render("stopped", "en", "sms"))


# ------------------------------------------------------------------------------ status callbacks


@dataclass(frozen=True)
class Sent:
    sid: str
    message_id: int
    resident: Resident


@pytest.fixture
async def sent(repos: Repos, demo: Municipality, clock: FakeClock) -> Sent:
    """One SMS to the demo resident, handed to Twilio: the outbox row has a provider id."""
    person = await resident(repos, demo)
    now = iso(clock.now())
    await repos.outbox.enqueue(
        [
            OutboxDraft(
                municipality_id=demo.id,
                dedupe_key=f"test:status:resident:{person.id}:sms",
                channel="sms",
                address=person.phone,
                body="Hearing tomorrow at 10:00",
                resident_id=person.id,
            )
        ],
        now=now,
    )
    (claimed,) = await repos.outbox.claim_due(
        municipality_id=demo.id, channel="sms", now=now, limit=10
    )
    sid = new_sid("SM")
    await repos.outbox.mark_sent(claimed.id, sid, now=now)
    return Sent(sid, claimed.id, person)


def status_form(sent: Sent, status: str, error_code: int | None = None) -> dict[str, str]:
    return twilio_status_form(
        sent.sid,
        status,
        to=sent.resident.phone,
        from_=OUR_NUMBER,
        account_sid=DEFAULT_ACCOUNT_SID,
        error_code=error_code,
    )


@pytest.mark.parametrize(
    ("callbacks", "final", "opted_out"),
    [
        pytest.param(
            [("queued", None), ("sent", None), ("delivered", None)],
            "delivered",
            False,
            id="in-order",
        ),
        pytest.param(
            [("delivered", None), ("sent", None)],
            "delivered",
            False,
            id="out-of-order-stays-delivered",
        ),
        pytest.param(
            [("sent", None), ("delivered", None), ("delivered", None)],
            "delivered",
            False,
            id="repeated",
        ),
        pytest.param([("read", None)], "delivered", False, id="read-counts-as-delivered"),
        pytest.param(
            [("sent", None), ("undelivered", 21610)],
            "undelivered",
            True,
            id="unsubscribed-opts-out",
        ),
        pytest.param(
            [("undelivered", 30003)], "undelivered", False, id="unreachable-stays-opted-in"
        ),
        pytest.param([("failed", 30008)], "failed", False, id="failed"),
        pytest.param(
            [("delivered", None), ("failed", 30008)], "delivered", False, id="final-is-final"
        ),
    ],
)
async def test_status_callbacks_move_the_row_forward_only(
    web: Web,
    repos: Repos,
    demo: Municipality,
    sent: Sent,
    callbacks: list[tuple[str, int | None]],
    final: str,
    opted_out: bool,
) -> None:
    for status, code in callbacks:
        got, body = await web.post("/sms/twilio/status", status_form(sent, status, code))
        assert (got, body) == (204, "")
    message = await repos.outbox.by_provider_id("sms", sent.sid)
    assert message is not None and message.status == final
    assert (await resident(repos, demo)).opted_out is opted_out


StatusPost = Callable[[Web, Sent], Awaitable[int]]


async def _unknown_sid(web: Web, sent: Sent) -> int:
    form = twilio_status_form(new_sid("SM"), "delivered", to=RESIDENT, from_=OUR_NUMBER)
    return (await web.post("/sms/twilio/status", form))[0]


async def _unknown_sid_unsubscribed(web: Web, sent: Sent) -> int:
    form = twilio_status_form(
        new_sid("SM"), "undelivered", to=RESIDENT, from_=OUR_NUMBER, error_code=21610
    )
    return (await web.post("/sms/twilio/status", form))[0]


async def _unsigned(web: Web, sent: Sent) -> int:
    return (await web.post("/sms/twilio/status", status_form(sent, "delivered"), sign=None))[0]


async def _forged(web: Web, sent: Sent) -> int:
    form = status_form(sent, "undelivered", 21610)
    return (await web.post("/sms/twilio/status", form, token=OTHER_TOKEN))[0]


async def _signed_for_inbound_route(web: Web, sent: Sent) -> int:
    """A signature for another path does not open this one."""
    form = status_form(sent, "undelivered", 21610)
    headers = twilio_signed_headers(DEFAULT_AUTH_TOKEN, PUBLIC + "/sms/twilio", form)
    async with web.http.post(
        web.local_url("/sms/twilio/status"), data=form, headers=headers
    ) as resp:
        return resp.status


async def _unknown_status(web: Web, sent: Sent) -> int:
    return (await web.post("/sms/twilio/status", status_form(sent, "teleported")))[0]


async def _no_status(web: Web, sent: Sent) -> int:
    form = {k: v for k, v in status_form(sent, "delivered").items() if k != "MessageStatus"}
    return (await web.post("/sms/twilio/status", form))[0]


async def _recut_status(web: Web, sent: Sent) -> int:
    """``ApiVersion`` moved into the SID: the same signature, another message."""
    captured = status_form(sent, "undelivered", 21610)
    recut = {k: v for k, v in captured.items() if k != "ApiVersion"}
    recut["AccountSid"] = captured["AccountSid"] + "ApiVersion" + captured["ApiVersion"]
    return (await web.post("/sms/twilio/status", recut, signed_form=captured))[0]


async def _status_of_another_account(web: Web, sent: Sent) -> int:
    form = status_form(sent, "undelivered", 21610) | {"AccountSid": "AC" + "1" * 32}
    return (await web.post("/sms/twilio/status", form))[0]


async def _status_with_error_text(web: Web, sent: Sent) -> int:
    form = status_form(sent, "undelivered") | {"ErrorCode": "21610; DROP"}
    return (await web.post("/sms/twilio/status", form))[0]


@pytest.mark.parametrize(
    ("post", "status"),
    [
        pytest.param(_unknown_sid, 204, id="unknown-sid"),
        pytest.param(_unknown_sid_unsubscribed, 204, id="unknown-sid-21610"),
        pytest.param(_unknown_status, 204, id="unknown-status"),
        pytest.param(_unsigned, 403, id="unsigned"),
        pytest.param(_forged, 403, id="wrong-token"),
        pytest.param(_signed_for_inbound_route, 403, id="signed-for-another-path"),
        pytest.param(_no_status, 400, id="missing-status"),
        pytest.param(_recut_status, 400, id="recut-sid"),
        pytest.param(_status_of_another_account, 400, id="another-account"),
        pytest.param(_status_with_error_text, 400, id="error-code-not-a-number"),
    ],
)
async def test_status_callbacks_that_change_nothing(
    web: Web, repos: Repos, sent: Sent, post: StatusPost, status: int
) -> None:
    before = await table_snapshot(repos, "outbox", "residents", "inbound")
    assert await post(web, sent) == status
    assert await table_snapshot(repos, "outbox", "residents", "inbound") == before


# ------------------------------------------------------------------------------ the rest


async def test_healthz(web: Web, repos: Repos, demo: Municipality, clock: FakeClock) -> None:
    draft = OutboxDraft(demo.id, "test:healthz", "sms", RESIDENT, "Hello")
    await repos.outbox.enqueue([draft], now=iso(clock.now()))
    async with web.http.get(web.local_url("/healthz")) as resp:
        assert resp.status == 200
        assert resp.content_type == "application/json"
        body = await resp.json()
    assert body == {"status": "ok", "sms": True, "telegram": False, "outbox_pending": 1}


async def test_sms_routes_refuse_everything_when_sms_is_off(
    repos: Repos, demo: Municipality, clock: FakeClock, renderer: Renderer
) -> None:
    """Without Twilio credentials there is no validator: every SMS webhook is 403."""
    ctx = WebContext(repos=repos, renderer=renderer, clock=clock, municipality=demo)
    async with (
        TestServer(http_app(ctx), host="127.0.0.1") as server,
        aiohttp.ClientSession() as http,
    ):
        form = twilio_inbound_form(RESIDENT, OUR_NUMBER, "STOP")
        headers = twilio_signed_headers(
            DEFAULT_AUTH_TOKEN, str(server.make_url("/sms/twilio")), form
        )
        async with http.post(server.make_url("/sms/twilio"), data=form, headers=headers) as resp:
            assert resp.status == 403
    assert await inbound_rows(repos) == []
