"""The provider fakes behave like Telegram and Twilio as seen through the real client libraries."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from aiohttp import web
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from tests.fakes import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    TELEGRAM_SECRET_HEADER,
    TWILIO_SIGNATURE_HEADER,
    FakeClock,
    FakeTelegramAPI,
    FakeTwilioAPI,
    SlidingWindowLimiter,
    count_segments,
    point_twilio_client,
    sms_encoding,
    telegram_callback_update,
    telegram_contact_update,
    telegram_message_update,
    telegram_update,
    telegram_webhook_headers,
    twilio_inbound_form,
    twilio_signature,
)

TOKEN = "123456:TEST-token_abc"
FROM = "+15005550006"
TO = "+4915112345678"


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegramAPI]:
    """A running fake Telegram API."""
    async with FakeTelegramAPI() as api:
        yield api


def make_bot(api: FakeTelegramAPI, token: str = TOKEN) -> Bot:
    """An aiogram Bot whose real AiohttpSession talks to ``api``."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(api.base_url))
    return Bot(token, session=session)


@pytest.fixture
async def bot(tg: FakeTelegramAPI) -> AsyncIterator[Bot]:
    """An aiogram Bot pointed at the fake."""
    bot = make_bot(tg)
    yield bot
    await bot.session.close()


@pytest.fixture
async def tw() -> AsyncIterator[FakeTwilioAPI]:
    """A running fake Twilio API."""
    async with FakeTwilioAPI() as api:
        yield api


@pytest.fixture
async def twilio(tw: FakeTwilioAPI) -> AsyncIterator[Client]:
    """A real twilio Client with the async HTTP client, pointed at the fake."""
    client = Client(tw.account_sid, tw.auth_token, http_client=AsyncTwilioHttpClient())
    point_twilio_client(client, tw.base_url)
    yield client
    await client.http_client.close()


# ----------------------------------------------------------------------------- Telegram


async def test_get_me_and_send_message(tg: FakeTelegramAPI, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.id == 123456
    assert me.is_bot
    assert me.username == tg.bot_username

    first = await bot.send_message(42, "hello")
    second = await bot.send_message(42, "again")
    other = await bot.send_message(7, "hi seven")
    assert isinstance(first, Message)
    assert first.text == "hello"
    assert first.chat.id == 42
    assert first.from_user is not None and first.from_user.id == 123456
    assert (first.message_id, second.message_id, other.message_id) == (1, 2, 1)

    [call, *_] = tg.calls("sendMessage")
    assert call.token == TOKEN
    assert call.params == {"chat_id": 42, "text": "hello"}
    assert call.status == 200
    assert tg.messages_to(42) == ["hello", "again"]
    assert tg.stats.messages_per_chat == {42: 2, 7: 1}
    assert tg.stats.by_method["sendMessage"] == 3


async def test_reply_markup_is_decoded(tg: FakeTelegramAPI, bot: Bot) -> None:
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Yes", callback_data="vote:1")]]
    )
    message = await bot.send_message(5, "Vote?", reply_markup=markup)
    params = tg.calls("sendMessage")[0].params
    assert params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Yes", "callback_data": "vote:1"}]]
    }
    assert isinstance(tg.calls("sendMessage")[0].raw_params["reply_markup"], str)
    assert isinstance(message.reply_markup, InlineKeyboardMarkup)
    assert message.reply_markup.inline_keyboard[0][0].callback_data == "vote:1"


async def test_html_parse_mode(tg: FakeTelegramAPI, bot: Bot) -> None:
    message = await bot.send_message(5, "<b>Budget</b> &amp; vote", parse_mode="HTML")
    assert message.text == "Budget & vote"
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(5, "<div>nope</div>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(5, "<b>unclosed", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(5, "x" * 4097)


async def test_edit_and_photo(tg: FakeTelegramAPI, bot: Bot) -> None:
    sent = await bot.send_message(9, "draft")
    edited = await bot.edit_message_text(text="final", chat_id=9, message_id=sent.message_id)
    assert isinstance(edited, Message)
    assert edited.text == "final"
    assert edited.message_id == sent.message_id
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(text="final", chat_id=9, message_id=sent.message_id)

    photo = await bot.send_photo(9, BufferedInputFile(b"\x89PNG fake", "chart.png"), caption="c")
    assert photo.photo and photo.caption == "c"
    call = tg.calls("sendPhoto")[0]
    assert call.content_type == "multipart/form-data"
    [upload] = call.files.values()
    assert upload.filename == "chart.png"
    assert upload.data == b"\x89PNG fake"
    # the uploaded file can be fetched back through getFile + the file URL
    file = await bot.get_file(photo.photo[-1].file_id)
    assert file.file_path is not None
    data = await bot.download_file(file.file_path)
    assert data is not None and data.read() == b"\x89PNG fake"


async def test_boolean_methods(tg: FakeTelegramAPI, bot: Bot) -> None:
    assert await bot.set_webhook("https://example.org/tg", secret_token="s3cret") is True
    info = await bot.get_webhook_info()
    assert info.url == "https://example.org/tg"
    assert tg.webhook is not None and tg.webhook["secret_token"] == "s3cret"
    assert await bot.delete_webhook() is True
    commands = [BotCommand(command="start", description="Start")]
    assert await bot.set_my_commands(commands) is True
    assert [c.command for c in await bot.get_my_commands()] == ["start"]
    assert await bot.answer_callback_query("123", text="ok") is True
    assert tg.calls("setMyCommands")[0].params["commands"] == [
        {"command": "start", "description": "Start"}
    ]


async def test_fail_next_429_maps_to_retry_after(tg: FakeTelegramAPI, bot: Bot) -> None:
    tg.fail_next("sendMessage", status=429, retry_after=3)
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(1, "x")
    assert info.value.retry_after == 3
    call = tg.calls("sendMessage")[0]
    assert call.status == 429
    assert call.response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    # the rule is consumed: the next call succeeds
    assert (await bot.send_message(1, "x")).text == "x"
    assert tg.stats.too_many_requests == 1
    assert tg.stats.messages_per_chat[1] == 1


async def test_fail_next_error_mapping(tg: FakeTelegramAPI, bot: Bot) -> None:
    tg.fail_next("sendMessage", status=403)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(1, "x")
    tg.fail_next("sendMessage", status=400)
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(1, "x")
    tg.fail_next(None, status=500)
    with pytest.raises(TelegramServerError):
        await bot.get_me()
    tg.fail_next("sendMessage", status=500, chat_id=2)
    assert (await bot.send_message(1, "not chat 2")).text == "not chat 2"
    with pytest.raises(TelegramServerError):
        await bot.send_message(2, "x")
    assert tg.stats.injected_failures == 4
    assert tg.stats.errors_by_status == {403: 1, 400: 1, 500: 2}


async def test_block_chat(tg: FakeTelegramAPI, bot: Bot) -> None:
    tg.block_chat(77)
    for _ in range(2):
        with pytest.raises(TelegramForbiddenError):
            await bot.send_message(77, "x")
    assert (await bot.send_message(78, "fine")).chat.id == 78
    tg.unblock_chat(77)
    assert (await bot.send_message(77, "back")).text == "back"
    tg.chat_not_found(79)
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(79, "x")


async def test_unauthorized_token() -> None:
    async with FakeTelegramAPI(token=TOKEN) as api:
        bot = make_bot(api, "999:WRONG")
        try:
            with pytest.raises(TelegramUnauthorizedError):
                await bot.get_me()
        finally:
            await bot.session.close()


async def test_disconnect_after_processing_is_ambiguous(tg: FakeTelegramAPI, bot: Bot) -> None:
    tg.fail_next("sendMessage", disconnect=True, after_processing=True)
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(3, "once")
    await bot.send_message(3, "once")  # a naive retry
    assert tg.messages_to(3) == ["once", "once"]
    assert tg.duplicates() == {("3", "once"): 2}
    assert tg.stats.dropped_connections == 1


async def test_per_chat_rate_limit_with_fake_clock() -> None:
    clock = FakeClock()
    async with FakeTelegramAPI(per_chat_rate=1, global_rate=30, clock=clock) as api:
        bot = make_bot(api)
        try:
            await bot.send_message(1, "a")
            await bot.send_message(2, "b")  # another chat: fine
            with pytest.raises(TelegramRetryAfter) as info:
                await bot.send_message(1, "c")
            assert info.value.retry_after == 1
            clock.advance(0.5)
            with pytest.raises(TelegramRetryAfter):
                await bot.send_message(1, "c")
            clock.advance(0.5)
            await bot.send_message(1, "c")
        finally:
            await bot.session.close()
        assert api.stats.rate_limited == 2
        assert api.stats.too_many_requests == 2
        assert api.messages_to(1) == ["a", "c"]


async def test_global_rate_limit_with_fake_clock() -> None:
    clock = FakeClock()
    async with FakeTelegramAPI(global_rate=3, clock=clock) as api:
        bot = make_bot(api)
        try:
            results = await asyncio.gather(
                *(bot.send_message(chat, "x") for chat in range(1, 6)), return_exceptions=True
            )
        finally:
            await bot.session.close()
        assert sum(isinstance(r, Message) for r in results) == 3
        assert sum(isinstance(r, TelegramRetryAfter) for r in results) == 2
        assert api.stats.rate_limited == 2


def test_sliding_window_limiter() -> None:
    clock = FakeClock(0.0)
    limiter = SlidingWindowLimiter(2, 1.0, clock)
    limiter.hit()
    clock.advance(0.4)
    limiter.hit()
    assert limiter.wait_time() == pytest.approx(0.6)
    clock.advance(0.6)
    assert limiter.wait_time() == 0.0


async def test_get_updates_offset_and_long_poll(tg: FakeTelegramAPI, bot: Bot) -> None:
    first = tg.queue_update(telegram_message_update("/start", user_id=42))
    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [first["update_id"]]
    assert isinstance(updates[0], Update)
    assert updates[0].message is not None and updates[0].message.text == "/start"
    # confirming with offset drops it
    assert await bot.get_updates(offset=first["update_id"] + 1, timeout=0) == []
    assert tg.pending_updates == []

    # a long poll is woken by a queued update
    poll = asyncio.create_task(bot.get_updates(offset=first["update_id"] + 1, timeout=30))
    await asyncio.sleep(0.05)
    assert not poll.done()
    second = tg.queue_update(telegram_callback_update("vote:1", user_id=42))
    updates = await asyncio.wait_for(poll, 2)
    assert [u.update_id for u in updates] == [second["update_id"]]
    assert updates[0].callback_query is not None
    assert updates[0].callback_query.data == "vote:1"


async def test_get_updates_conflicts_with_webhook(tg: FakeTelegramAPI, bot: Bot) -> None:
    await bot.set_webhook("https://example.org/hook")
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates()


async def test_stop_releases_long_poll() -> None:
    api = await FakeTelegramAPI(long_poll_cap=30).start()
    bot = make_bot(api)
    try:
        poll = asyncio.create_task(bot.get_updates(timeout=30))
        await asyncio.sleep(0.05)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await api.stop()
        assert await asyncio.wait_for(poll, 3) == []
        assert loop.time() - started < 2
    finally:
        await bot.session.close()


async def test_dispatcher_polling_end_to_end(tg: FakeTelegramAPI, bot: Bot) -> None:
    from aiogram import Dispatcher
    from aiogram.filters import CommandStart

    dp = Dispatcher()
    seen: list[str] = []

    @dp.message(CommandStart())
    async def start(message: Message) -> None:
        seen.append(message.text or "")
        await message.answer("welcome")

    tg.queue_update(telegram_message_update("/start abc", user_id=42))
    polling = asyncio.create_task(
        dp.start_polling(bot, polling_timeout=1, handle_signals=False, close_bot_session=False)
    )
    try:
        for _ in range(100):
            if tg.messages_to(42):
                break
            await asyncio.sleep(0.02)
    finally:
        await dp.stop_polling()
        await polling
    assert seen == ["/start abc"]
    assert tg.messages_to(42) == ["welcome"]


def test_update_builders_validate_as_aiogram_updates() -> None:
    message = Update.model_validate(telegram_message_update("/vote 3", user_id=5, chat_id=5))
    assert message.message is not None
    assert message.message.entities is not None
    assert message.message.entities[0].type == "bot_command"
    contact = Update.model_validate(telegram_contact_update(5, "79991234567"))
    assert contact.message is not None and contact.message.contact is not None
    assert contact.message.contact.user_id == 5
    callback = Update.model_validate(telegram_update("callback", "vote:2", 5))
    assert callback.callback_query is not None
    ids = [message.update_id, contact.update_id, callback.update_id]
    assert ids == sorted(ids) and len(set(ids)) == 3
    assert telegram_webhook_headers("tok") == {
        "Content-Type": "application/json",
        TELEGRAM_SECRET_HEADER: "tok",
    }
    assert TELEGRAM_SECRET_HEADER == "X-Telegram-Bot-Api-Secret-Token"


# ----------------------------------------------------------------------------- Twilio


async def test_twilio_create_async_through_fake(tw: FakeTwilioAPI, twilio: Client) -> None:
    message = await twilio.messages.create_async(
        to=TO, from_=FROM, body="Hello", status_callback="https://example.org/status"
    )
    assert message.sid is not None and message.sid.startswith("SM") and len(message.sid) == 34
    assert message.status == "queued"
    assert message.to == TO and message.from_ == FROM
    assert message.num_segments == "1"
    assert message.date_created is not None  # parsed from RFC 2822 by the library
    assert message.api_version == "2010-04-01"
    assert message.uri == f"/2010-04-01/Accounts/{tw.account_sid}/Messages/{message.sid}.json"

    [call] = tw.calls("POST")
    assert call.path == f"/2010-04-01/Accounts/{tw.account_sid}/Messages.json"
    assert call.auth == (tw.account_sid, tw.auth_token)
    assert call.params["Body"] == "Hello"
    assert call.params["StatusCallback"] == "https://example.org/status"
    assert call.status == 201
    assert call.sid == message.sid
    assert tw.messages[message.sid]["status"] == "queued"
    assert tw.stats.messages_per_recipient == {TO: 1}

    fetched = await twilio.messages(message.sid).fetch_async()
    assert fetched.sid == message.sid


async def test_twilio_messaging_service(tw: FakeTwilioAPI, twilio: Client) -> None:
    service = "MG" + "a" * 32
    message = await twilio.messages.create_async(to=TO, messaging_service_sid=service, body="x")
    assert message.status == "accepted"
    assert message.from_ is None
    assert message.messaging_service_sid == service


async def test_twilio_error_21610(tw: FakeTwilioAPI, twilio: Client) -> None:
    tw.fail_next(code=21610)
    with pytest.raises(TwilioRestException) as info:
        await twilio.messages.create_async(to=TO, from_=FROM, body="x")
    assert info.value.code == 21610
    assert info.value.status == 400
    assert "unsubscribed recipient" in info.value.msg
    assert tw.requests[0].response == {
        "code": 21610,
        "message": "Attempt to send to unsubscribed recipient",
        "more_info": "https://www.twilio.com/docs/errors/21610",
        "status": 400,
    }
    # unsubscribe() is the permanent version (a STOP reply)
    tw.unsubscribe(TO)
    with pytest.raises(TwilioRestException) as info:
        await twilio.messages.create_async(to=TO, from_=FROM, body="x")
    assert info.value.code == 21610
    tw.resubscribe(TO)
    assert (await twilio.messages.create_async(to=TO, from_=FROM, body="x")).sid


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"status": 500}, 500, 20500),
        ({"status": 503}, 503, 20503),
        ({"status": 429}, 429, 20429),
        ({"code": 21211}, 400, 21211),
    ],
)
async def test_twilio_injected_failures(
    tw: FakeTwilioAPI, twilio: Client, kwargs: dict[str, int], status: int, code: int
) -> None:
    tw.fail_next(**kwargs)
    with pytest.raises(TwilioRestException) as info:
        await twilio.messages.create_async(to=TO, from_=FROM, body="x")
    assert (info.value.status, info.value.code) == (status, code)
    assert tw.stats.created == 0
    assert (await twilio.messages.create_async(to=TO, from_=FROM, body="x")).sid


async def test_twilio_validation(tw: FakeTwilioAPI, twilio: Client) -> None:
    with pytest.raises(TwilioRestException) as info:
        await twilio.messages.create_async(to="12345", from_=FROM, body="x")
    assert info.value.code == 21211
    with pytest.raises(TwilioRestException) as info:
        await twilio.messages.create_async(to="+15005550004", from_=FROM, body="x")
    assert info.value.code == 21610  # Twilio's magic test number
    with pytest.raises(TwilioRestException) as info:
        await twilio.messages.create_async(to=TO, body="x")
    assert info.value.code == 21603


async def test_twilio_bad_credentials(tw: FakeTwilioAPI) -> None:
    client = Client(tw.account_sid, "wrong" * 6, http_client=AsyncTwilioHttpClient())
    point_twilio_client(client, tw.base_url)
    try:
        with pytest.raises(TwilioRestException) as info:
            await client.messages.create_async(to=TO, from_=FROM, body="x")
    finally:
        await client.http_client.close()
    assert info.value.status == 401
    assert info.value.code == 20003


async def test_twilio_rate_limit_with_fake_clock() -> None:
    clock = FakeClock()
    async with FakeTwilioAPI(rate=1, clock=clock) as api:
        client = api.make_client()
        try:
            await client.messages.create_async(to=TO, from_=FROM, body="1")
            with pytest.raises(TwilioRestException) as info:
                await client.messages.create_async(to=TO, from_=FROM, body="2")
            assert (info.value.status, info.value.code) == (429, 20429)
            clock.advance(1.0)
            await client.messages.create_async(to=TO, from_=FROM, body="2")
        finally:
            await client.http_client.close()
        assert api.messages_to(TO) == ["1", "2"]
        assert api.stats.rate_limited == 1


@pytest.mark.parametrize(
    ("body", "segments", "encoding"),
    [
        ("", 1, "GSM-7"),
        ("a" * 160, 1, "GSM-7"),
        ("a" * 161, 2, "GSM-7"),
        ("a" * 306, 2, "GSM-7"),
        ("a" * 307, 3, "GSM-7"),
        ("€" * 80, 1, "GSM-7"),  # extension chars: 2 septets each
        ("€" * 81, 2, "GSM-7"),
        ("a" * 152 + "€", 1, "GSM-7"),
        ("a" * 152 + "€" * 77, 3, "GSM-7"),  # an escape pair never straddles segments
        ("ж" * 70, 1, "UCS-2"),
        ("ж" * 71, 2, "UCS-2"),
        ("ж" * 134, 2, "UCS-2"),
        ("ж" * 135, 3, "UCS-2"),
        ("😀" * 35, 1, "UCS-2"),  # surrogate pairs: 2 code units each
        ("😀" * 36, 2, "UCS-2"),
    ],
)
def test_count_segments(body: str, segments: int, encoding: str) -> None:
    assert count_segments(body) == segments
    assert sms_encoding(body) == encoding


async def test_twilio_num_segments_in_resource(tw: FakeTwilioAPI, twilio: Client) -> None:
    message = await twilio.messages.create_async(to=TO, from_=FROM, body="Привет " * 20)
    assert message.num_segments == "3"
    assert tw.stats.segments == 3


def test_twilio_signature_validates() -> None:
    url = "https://bot.example.org/sms/inbound?x=1"
    form = twilio_inbound_form("+15551230000", FROM, "YES 3")
    assert form["MessageSid"] == form["SmsSid"] and form["MessageSid"].startswith("SM")
    assert form["AccountSid"] == DEFAULT_ACCOUNT_SID
    assert form["NumMedia"] == "0"
    signature = twilio_signature(DEFAULT_AUTH_TOKEN, url, form)
    validator = RequestValidator(DEFAULT_AUTH_TOKEN)
    assert validator.validate(url, form, signature)
    assert not validator.validate(url, form | {"Body": "NO"}, signature)
    assert not RequestValidator("other" * 6).validate(url, form, signature)


async def test_status_callback_and_inbound_are_signed(tw: FakeTwilioAPI, twilio: Client) -> None:
    received: list[tuple[str, dict[str, str], bool]] = []
    validator = RequestValidator(tw.auth_token)

    async def hook(request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        ok = validator.validate(str(request.url), form, request.headers[TWILIO_SIGNATURE_HEADER])
        received.append((request.path, form, ok))
        return web.Response(text="<Response/>", content_type="text/xml")

    app = web.Application()
    app.router.add_post("/status", hook)
    app.router.add_post("/inbound", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        message = await twilio.messages.create_async(
            to=TO, from_=FROM, body="x", status_callback=f"http://127.0.0.1:{port}/status"
        )
        assert message.sid is not None
        delivery = await tw.send_status_callback(message.sid, "undelivered")
        assert delivery.status == 200
        inbound = await tw.send_inbound(f"http://127.0.0.1:{port}/inbound", TO, FROM, "STOP")
        assert inbound.body == "<Response/>"
    finally:
        await runner.cleanup()
    [(path1, status_form, ok1), (path2, inbound_form, ok2)] = received
    assert (path1, path2, ok1, ok2) == ("/status", "/inbound", True, True)
    assert status_form["MessageSid"] == message.sid
    assert status_form["MessageStatus"] == "undelivered"
    assert status_form["ErrorCode"] == "30003"
    assert status_form["AccountSid"] == tw.account_sid
    assert inbound_form["Body"] == "STOP"
    assert tw.messages[message.sid]["status"] == "undelivered"
    fetched = await twilio.messages(message.sid).fetch_async()
    assert fetched.status == "undelivered"
    assert fetched.error_code == 30003


async def test_twilio_unknown_route_is_twilio_404(tw: FakeTwilioAPI) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"{tw.base_url}/2010-04-01/Accounts/{tw.account_sid}/Calls.json",
            headers={"Authorization": aiohttp.encode_basic_auth(tw.account_sid, tw.auth_token)},
        ) as response,
    ):
        body = await response.json()
    assert response.status == 404
    assert body["code"] == 20404


async def test_raw_json_and_urlencoded_requests(tg: FakeTelegramAPI) -> None:
    url = f"{tg.base_url}/bot{TOKEN}/sendMessage"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"chat_id": 5, "text": "json", "reply_markup": {}}) as r:
            assert r.status == 200
            assert (await r.json())["result"]["text"] == "json"
        form = {"chat_id": "-1001234", "text": "123", "disable_notification": "true"}
        async with session.post(url, data=form) as r:
            body = await r.json()
        assert body["result"]["chat"]["type"] == "supergroup"
    json_call, form_call = tg.calls("sendmessage")
    assert json_call.content_type == "application/json"
    assert form_call.content_type == "application/x-www-form-urlencoded"
    assert form_call.params == {"chat_id": -1001234, "text": "123", "disable_notification": True}


async def test_newer_get_updates_terminates_pending_one(tg: FakeTelegramAPI, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=30))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(bot.get_updates(timeout=30))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        await asyncio.wait_for(first, 2)
    update = tg.queue_update(Update.model_validate(telegram_message_update("hi", user_id=1)))
    assert [u.update_id for u in await asyncio.wait_for(second, 2)] == [update["update_id"]]
