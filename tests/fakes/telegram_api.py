"""A fake Telegram Bot API served over real HTTP on 127.0.0.1.

The fake is an aiohttp web server on an ephemeral port.  Point aiogram at it with::

    async with FakeTelegramAPI() as api:
        session = AiohttpSession(api=TelegramAPIServer.from_base(api.base_url))
        bot = Bot("123456:TEST", session=session)
        await bot.send_message(42, "hello")
        assert api.calls("sendMessage")[0].params["text"] == "hello"

aiogram builds ``{base}/bot{token}/{method}`` for API calls and
``{base}/file/bot{token}/{path}`` for downloads (``TelegramAPIServer.from_base``); both routes
are served.  Every request is recorded (:class:`TelegramRequest`), answers have the real Bot
API shapes (``{"ok": true, "result": ...}`` / ``{"ok": false, "error_code": ..., ...}``) so
that aiogram's own response checking and error mapping run unchanged.

This module also holds the primitives shared with :mod:`tests.fakes.twilio_api`:
:class:`FakeClock`, :class:`SlidingWindowLimiter` and the :class:`FakeHTTPServer` base.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import math
import secrets
import time
import zlib
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, Self
from urllib.parse import parse_qsl

from aiohttp import BodyPartReader, ClientResponse, ClientSession, MultipartReader, web

Clock = Callable[[], float]
"""A monotonic clock: returns seconds as a float (``time.monotonic`` by default)."""

JSON = Any
"""A JSON-compatible value."""


# --------------------------------------------------------------------------------------
# Shared primitives
# --------------------------------------------------------------------------------------


class FakeClock:
    """A manually advanced clock to inject into the fakes instead of ``time.monotonic``.

    >>> clock = FakeClock()
    >>> clock()
    1000.0
    >>> clock.advance(1.5)
    >>> clock()
    1001.5
    """

    def __init__(self, start: float = 1000.0) -> None:
        """Start the clock at ``start`` seconds."""
        self.now = float(start)

    def __call__(self) -> float:
        """Return the current fake time in seconds."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        if seconds < 0:
            raise ValueError("a clock only moves forward")
        self.now += seconds


class SlidingWindowLimiter:
    """Allow at most ``limit`` hits per key within any ``window``-second sliding window.

    Only *accepted* hits are remembered: a rejected attempt does not extend the ban (the
    caller is told how long until the oldest hit in the window expires).
    """

    def __init__(self, limit: int, window: float, clock: Clock) -> None:
        """Create a limiter of ``limit`` hits per ``window`` seconds measured by ``clock``."""
        if limit < 1:
            raise ValueError("limit must be >= 1")
        self.limit = limit
        self.window = window
        self.clock = clock
        self._hits: dict[Hashable, deque[float]] = defaultdict(deque)

    def wait_time(self, key: Hashable = None) -> float:
        """Return 0.0 if a hit for ``key`` is allowed now, else seconds until it will be."""
        now = self.clock()
        hits = self._hits[key]
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) < self.limit:
            return 0.0
        return max(hits[0] + self.window - now, 1e-9)

    def hit(self, key: Hashable = None) -> None:
        """Record an accepted hit for ``key`` at the current time."""
        self._hits[key].append(self.clock())

    def reset(self) -> None:
        """Forget every hit."""
        self._hits.clear()


class FakeHTTPServer:
    """Base class: an aiohttp application served on ``host:port`` (port 0 = ephemeral).

    Use as ``async with Fake() as fake:`` or ``await fake.start()`` / ``await fake.stop()``.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock = time.monotonic,
        latency: float = 0.0,
    ) -> None:
        """Configure the listening address, the clock and an artificial per-request latency."""
        self.host = host
        self._requested_port = port
        self.clock = clock
        self.latency = latency
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self.stopping = False

    def build_app(self) -> web.Application:
        """Return the aiohttp application to serve (subclasses implement)."""
        raise NotImplementedError

    @property
    def port(self) -> int:
        """The TCP port the fake listens on (only once started)."""
        if self._port is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://{self.host}:{self.port}"

    async def start(self) -> Self:
        """Bind the socket and start serving; returns ``self``."""
        if self._runner is not None:
            return self
        self.stopping = False
        runner = web.AppRunner(self.build_app(), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        return self

    def on_stopping(self) -> None:
        """Hook run before the server shuts down (wake long polls, ...)."""

    async def stop(self) -> None:
        """Stop serving; pending long polls return at once."""
        self.stopping = True
        self.on_stopping()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
        self._port = None

    async def __aenter__(self) -> Self:
        """Start the server."""
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        """Stop the server."""
        await self.stop()

    async def _apply_latency(self) -> None:
        if self.latency > 0:
            await asyncio.sleep(self.latency)


@dataclass(frozen=True)
class ReceivedFile:
    """A file uploaded in a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes


# --------------------------------------------------------------------------------------
# Telegram-specific data
# --------------------------------------------------------------------------------------


@dataclass
class TelegramRequest:
    """One recorded Bot API request.

    ``params`` holds decoded values: JSON-encoded fields (``reply_markup``, ``entities``,
    ``commands``...) become objects, numbers (``chat_id``, ``offset``...) become ints and
    ``true``/``false`` become bools; free-text fields (``text``, ``caption``...) stay strings.
    ``raw_params`` keeps the strings exactly as sent.
    """

    method: str
    token: str
    params: dict[str, Any]
    files: dict[str, ReceivedFile]
    received_at: float
    raw_params: dict[str, Any] = field(default_factory=dict)
    content_type: str = ""
    status: int | None = None
    """HTTP status the fake answered (``None`` for a dropped connection)."""
    response: JSON = None
    """The JSON body the fake answered."""

    @property
    def chat_id(self) -> Any:
        """The request's ``chat_id`` parameter, if any."""
        return self.params.get("chat_id")


@dataclass(frozen=True)
class WebhookAnswer:
    """What :meth:`FakeTelegramAPI.deliver_webhook` saw: the bot's HTTP status, and the
    method its answer carried (run by the fake), if any."""

    status: int
    answer: TelegramRequest | None


async def _webhook_answer(response: ClientResponse) -> dict[str, Any]:
    """The fields of a webhook's answer: JSON, form-encoded or multipart, as Telegram
    reads them (``{}`` for an empty or unreadable answer)."""
    ctype = response.content_type
    if ctype == "application/json":
        body = await response.json()
        return dict(body) if isinstance(body, dict) else {}
    if ctype == "application/x-www-form-urlencoded":
        return dict(parse_qsl(await response.text(), keep_blank_values=True))
    if ctype.startswith("multipart/"):
        fields = {}
        reader = MultipartReader.from_response(response)
        while (part := await reader.next()) is not None:
            if isinstance(part, BodyPartReader) and part.name:
                fields[part.name] = await part.text()
        return fields
    return {}


@dataclass(frozen=True)
class DeliveredMessage:
    """A message the fake accepted (answered with ``ok: true``)."""

    chat_id: Any
    message_id: int
    method: str
    text: str | None
    received_at: float


@dataclass
class TelegramStats:
    """Counters a benchmark can read."""

    requests: int = 0
    by_method: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0
    """429 answers produced by the built-in rate limiter."""
    injected_failures: int = 0
    """Failures produced by :meth:`FakeTelegramAPI.fail_next` and per-chat rules."""
    errors_by_status: Counter[int] = field(default_factory=Counter)
    """Every non-2xx answer by HTTP status (429s of any origin are under ``429``)."""
    dropped_connections: int = 0
    messages_per_chat: Counter[Any] = field(default_factory=Counter)
    """Messages accepted per chat (send*/copy*/forward* that answered ok)."""

    @property
    def too_many_requests(self) -> int:
        """All 429 answers sent (rate limiter + injected)."""
        return self.errors_by_status[429]


@dataclass
class _Failure:
    method: str | None
    status: int
    description: str | None
    retry_after: int | None
    chat_id: Any
    disconnect: bool
    after_processing: bool
    remaining: int
    #: matching calls still let through before the failures begin
    skip: int = 0

    def matches(self, method: str, chat_id: Any) -> bool:
        if self.method is not None and self.method.lower() != method.lower():
            return False
        return self.chat_id is None or _same_chat(self.chat_id, chat_id)


class _APIError(Exception):
    """Raised inside handlers to answer with a Bot API error."""

    def __init__(
        self, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


DEFAULT_DESCRIPTIONS: dict[int, str] = {
    400: "Bad Request: chat not found",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
    413: "Request Entity Too Large",
    429: "Too Many Requests: retry after {retry_after}",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
"""Bot API ``description`` used by :meth:`FakeTelegramAPI.fail_next` for each status."""

# Parameters whose values are free text / identifiers: never JSON-decoded when recording.
_TEXT_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "url",
        "callback_query_id",
        "inline_query_id",
        "inline_message_id",
        "secret_token",
        "name",
        "title",
        "description",
        "short_description",
        "first_name",
        "last_name",
        "phone_number",
        "vcard",
        "address",
        "question",
        "emoji",
        "payload",
        "currency",
        "provider_token",
        "start_parameter",
        "file_id",
        "photo",
        "document",
        "audio",
        "video",
        "voice",
        "animation",
        "sticker",
        "thumbnail",
        "language_code",
        "message_effect_id",
        "business_connection_id",
        "custom_emoji_id",
        "ip_address",
        "switch_pm_text",
        "switch_pm_parameter",
        "next_offset",
        "query",
        "action",
    }
)

_MESSAGE_PREFIXES = ("send", "copymessage", "forwardmessage")
_HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)
_MAX_TEXT = 4096
_MAX_CAPTION = 1024


def _same_chat(a: Any, b: Any) -> bool:
    return str(a) == str(b)


def _is_message_method(method: str) -> bool:
    lowered = method.lower()
    return lowered.startswith(_MESSAGE_PREFIXES) and lowered != "sendchataction"


def _decode_value(key: str, value: Any) -> Any:
    """Decode one form value the way the Bot API would interpret it."""
    if not isinstance(value, str) or key in _TEXT_PARAMS:
        return value
    stripped = value.strip()
    if not stripped:
        return value
    if stripped[0] in "[{" or stripped in ("true", "false", "null") or _looks_numeric(stripped):
        try:
            return json.loads(stripped)
        except ValueError:
            return value
    return value


def _looks_numeric(value: str) -> bool:
    body = value[1:] if value[0] == "-" else value
    return bool(body) and body.replace(".", "", 1).isdigit()


class _TelegramHTML(HTMLParser):
    """Validate Telegram's HTML subset and extract the plain text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.parts: list[str] = []
        self.error: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.error:
            return
        if tag not in _HTML_TAGS:
            self.error = f'Unsupported start tag "{tag}" at byte offset {self._offset()}'
            return
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.error:
            return
        if not self.stack or self.stack[-1] != tag:
            self.error = (
                f"Unexpected end tag at byte offset {self._offset()}"
                if not self.stack
                else f'Can\'t find end tag corresponding to start tag "{self.stack[-1]}"'
            )
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def _offset(self) -> int:
        return len("".join(self.parts).encode())


def _plain_text(text: str, parse_mode: Any) -> str:
    """Return the message text after entity parsing; raise 400 on bad HTML."""
    if not isinstance(parse_mode, str) or parse_mode.upper() != "HTML":
        return text
    parser = _TelegramHTML()
    parser.feed(text)
    parser.close()
    if parser.error is None and parser.stack:
        parser.error = f'Can\'t find end tag corresponding to start tag "{parser.stack[-1]}"'
    if parser.error is not None:
        raise _APIError(400, f"Bad Request: can't parse entities: {parser.error}")
    return html.unescape("".join(parser.parts))


async def read_request_params(
    request: web.Request,
) -> tuple[dict[str, Any], dict[str, ReceivedFile], list[tuple[str, str]]]:
    """Read query string + body (JSON, urlencoded or multipart) of ``request``.

    Returns ``(params, files, pairs)``: the last value per key, the uploaded files, and every
    ``(key, value)`` pair in order (for repeated keys such as Twilio's ``MediaUrl``).
    """
    params: dict[str, Any] = dict(request.query)
    pairs: list[tuple[str, str]] = list(request.query.items())
    files: dict[str, ReceivedFile] = {}
    if not request.can_read_body:
        return params, files, pairs
    ctype = request.content_type
    if ctype == "application/json":
        body = await request.json()
        if isinstance(body, dict):
            params.update(body)
            pairs.extend((str(k), v) for k, v in body.items())
        return params, files, pairs
    if ctype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        post = await request.post()
        for key, value in post.items():
            if isinstance(value, web.FileField):
                files[key] = ReceivedFile(value.filename, value.content_type, value.file.read())
            else:
                text = value if isinstance(value, str) else bytes(value).decode()
                params[key] = text
                pairs.append((key, text))
    return params, files, pairs


class FakeTelegramAPI(FakeHTTPServer):
    """A fake Telegram Bot API server (real HTTP on 127.0.0.1).

    Rate limiting (optional) uses **sliding windows** of one second: with
    ``global_rate=30`` at most 30 message-sending calls are accepted in any 1 s window over
    all chats, and with ``per_chat_rate=1`` at most one per chat; ``group_rate_per_minute``
    adds Telegram's 20 msg/min per group (negative chat ids) over a 60 s window.  Calls that
    exceed a limit get ``429`` with ``retry_after`` = whole seconds until the oldest accepted
    call leaves the window (at least 1); rejected calls do not count against the window.
    "Message-sending" = methods starting with ``send`` (except ``sendChatAction``),
    ``copyMessage(s)`` and ``forwardMessage(s)``.
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        bot_username: str = "civic_test_bot",
        bot_first_name: str = "Civic Test Bot",
        global_rate: int | None = None,
        per_chat_rate: int | None = None,
        group_rate_per_minute: int | None = None,
        strict_edits: bool = False,
        long_poll_cap: float = 1.0,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
        latency: float = 0.0,
    ) -> None:
        """Create the fake.

        :param token: if given, requests with another token get 401 ``Unauthorized``.
        :param bot_username: ``username`` of the bot returned by ``getMe`` and in ``from``.
        :param bot_first_name: ``first_name`` of the bot.
        :param global_rate: max message-sending calls per second overall (``None`` = off).
        :param per_chat_rate: max message-sending calls per second to one chat.
        :param group_rate_per_minute: max messages per minute to one group (chat id < 0).
        :param strict_edits: editing/deleting an unknown message gives 400 (as Telegram does);
            by default unknown messages are assumed to exist (e.g. from queued updates).
        :param long_poll_cap: longest a ``getUpdates`` long poll waits (seconds), whatever
            ``timeout`` the client asks for.
        :param clock: monotonic clock for rate limits and ``received_at``.
        :param wall_clock: epoch clock for ``date`` fields.
        :param latency: artificial delay before answering each request (seconds).
        """
        super().__init__(host=host, port=port, clock=clock, latency=latency)
        self.token = token
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.strict_edits = strict_edits
        self.long_poll_cap = long_poll_cap
        self.wall_clock = wall_clock
        self.global_limiter = SlidingWindowLimiter(global_rate, 1.0, clock) if global_rate else None
        self.chat_limiter = (
            SlidingWindowLimiter(per_chat_rate, 1.0, clock) if per_chat_rate else None
        )
        self.group_limiter = (
            SlidingWindowLimiter(group_rate_per_minute, 60.0, clock)
            if group_rate_per_minute
            else None
        )
        self.requests: list[TelegramRequest] = []
        self.stats = TelegramStats()
        self.delivered: list[DeliveredMessage] = []
        self.webhook: dict[str, Any] | None = None
        """Parameters of the last ``setWebhook`` (``None`` when no webhook is set)."""
        self._webhook_token: str | None = None
        self.commands: dict[tuple[str, str], list[Any]] = {}
        """``setMyCommands`` lists keyed by ``(scope json, language_code)``."""
        self.files: dict[str, dict[str, Any]] = {}
        """Known files: file_id -> ``{"file": File dict, "data": bytes}``."""
        self._failures: list[_Failure] = []
        self._chat_errors: dict[str, tuple[int, str]] = {}
        self._results: dict[str, Any] = {}
        self._messages: dict[tuple[str, int], dict[str, Any]] = {}
        self._next_message_id: Counter[str] = Counter()
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 1
        self._wakeup = asyncio.Event()
        self._poll_generation = 0
        self._polls_waiting = 0
        self._file_counter = itertools.count(1)

    # ------------------------------------------------------------------ public helpers

    @property
    def bot_id(self) -> int:
        """The bot's user id: the numeric prefix of the configured token (or 123456)."""
        if self.token and self.token.partition(":")[0].isdigit():
            return int(self.token.partition(":")[0])
        return 123456

    def bot_user(self, token: str | None = None) -> dict[str, Any]:
        """The bot ``User`` object (id taken from ``token`` when it has a numeric prefix)."""
        bot_id = self.bot_id
        if token and token.partition(":")[0].isdigit():
            bot_id = int(token.partition(":")[0])
        return {
            "id": bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def calls(self, method: str | None = None) -> list[TelegramRequest]:
        """Recorded requests for ``method`` (case-insensitive), or all when ``None``."""
        if method is None:
            return list(self.requests)
        lowered = method.lower()
        return [r for r in self.requests if r.method.lower() == lowered]

    def sent_messages(self, chat_id: Any = None) -> list[DeliveredMessage]:
        """Messages accepted by the fake, optionally only those to ``chat_id``."""
        if chat_id is None:
            return list(self.delivered)
        return [m for m in self.delivered if _same_chat(m.chat_id, chat_id)]

    def messages_to(self, chat_id: Any) -> list[str | None]:
        """Texts (or captions) of the messages accepted for ``chat_id``, in order."""
        return [m.text for m in self.sent_messages(chat_id)]

    def duplicates(self) -> dict[tuple[str, str | None], int]:
        """``{(chat_id, text): count}`` for every text accepted more than once in a chat."""
        counts = Counter((str(m.chat_id), m.text) for m in self.delivered)
        return {key: n for key, n in counts.items() if n > 1}

    async def deliver_webhook(
        self,
        update: dict[str, Any],
        *,
        url: str | None = None,
        secret: str | None = None,
        token: str | None = None,
        session: ClientSession | None = None,
        lose_answer: bool = False,
    ) -> WebhookAnswer:
        """POST ``update`` to the bot's webhook as Telegram does, then run the Bot API
        method the bot put in its answer, if any, as Telegram does (recorded like any
        request, ``content_type`` ``"webhook-answer"``; its errors are not told to the
        bot). ``lose_answer``: the answer never arrives (a timeout: Telegram runs nothing
        and delivers the update again later). ``url``/``secret``/``token`` default to
        those of the last ``setWebhook``."""
        hook = self.webhook or {}
        url = url or hook.get("url")
        if not url:
            raise ValueError("no webhook set and no url given")
        secret = secret if secret is not None else hook.get("secret_token")
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        own = session is None
        client = session or ClientSession()
        try:
            async with client.post(url, json=update, headers=headers) as response:
                raw = await _webhook_answer(response)
                status = response.status
        finally:
            if own:
                await client.close()
        record = None
        if status == 200 and raw.get("method") and not lose_answer:
            record = await self._run_webhook_answer(raw, token or self._webhook_token or "")
        return WebhookAnswer(status=status, answer=record)

    async def _run_webhook_answer(self, raw: dict[str, Any], token: str) -> TelegramRequest:
        method = str(raw.pop("method"))
        record = TelegramRequest(
            method=method,
            token=token,
            params={key: _decode_value(key, value) for key, value in raw.items()},
            files={},
            received_at=self.clock(),
            raw_params=raw,
            content_type="webhook-answer",
        )
        self.requests.append(record)
        self.stats.requests += 1
        self.stats.by_method[method] += 1
        try:
            result, description = await self._process(record)
        except _APIError as err:
            self._respond(record, err.status, self._error_body(err.status, err.description))
        else:
            self._respond(record, 200, self._ok(result, description))
        return record

    def queue_update(self, update: dict[str, Any] | Any) -> dict[str, Any]:
        """Queue an update for ``getUpdates``; assigns ``update_id`` if missing.

        Accepts a dict or an aiogram ``Update`` (dumped to JSON).  Returns the queued dict.
        """
        if not isinstance(update, dict):
            update = update.model_dump(mode="json", exclude_none=True, by_alias=True)
        update = dict(update)
        if "update_id" not in update:
            update["update_id"] = self._next_update_id
        self._next_update_id = max(self._next_update_id, int(update["update_id"]) + 1)
        self._updates.append(update)
        self._notify()
        return update

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates queued and not yet confirmed by a later ``offset``."""
        return list(self._updates)

    def fail_next(
        self,
        method: str | None = None,
        status: int = 429,
        *,
        retry_after: int | None = 3,
        description: str | None = None,
        chat_id: Any = None,
        count: int = 1,
        disconnect: bool = False,
        after_processing: bool = False,
        skip: int = 0,
    ) -> None:
        """Make the next ``count`` matching calls fail (after ``skip`` more succeed).

        :param method: Bot API method (case-insensitive); ``None`` matches any method.
        :param status: HTTP status / ``error_code``: 429 (with ``parameters.retry_after``),
            400, 401, 403, 404, 409, 500, 502...; description from :data:`DEFAULT_DESCRIPTIONS`
            unless ``description`` is given.
        :param retry_after: seconds for 429 answers (ignored for other statuses).
        :param chat_id: only match calls to this chat.
        :param disconnect: drop the TCP connection instead of answering (the client sees a
            network error: ``aiogram.exceptions.TelegramNetworkError``).
        :param after_processing: with ``disconnect``: process the call first (the message
            counts as delivered) and lose only the answer, the ambiguous failure that makes
            naive retries produce duplicates.
        """
        self._failures.append(
            _Failure(
                method=method,
                status=status,
                description=description,
                retry_after=retry_after if status == 429 else None,
                chat_id=chat_id,
                disconnect=disconnect,
                after_processing=after_processing,
                remaining=count,
                skip=skip,
            )
        )

    def clear_failures(self) -> None:
        """Drop every pending :meth:`fail_next` rule."""
        self._failures.clear()

    def block_chat(
        self, chat_id: Any, description: str = "Forbidden: bot was blocked by the user"
    ) -> None:
        """Every message-sending call to ``chat_id`` gets 403 until :meth:`unblock_chat`."""
        self._chat_errors[str(chat_id)] = (403, description)

    def chat_not_found(self, chat_id: Any) -> None:
        """Every message-sending call to ``chat_id`` gets 400 ``chat not found``."""
        self._chat_errors[str(chat_id)] = (400, "Bad Request: chat not found")

    def unblock_chat(self, chat_id: Any) -> None:
        """Remove a rule set by :meth:`block_chat` / :meth:`chat_not_found`."""
        self._chat_errors.pop(str(chat_id), None)

    def set_result(self, method: str, result: Any) -> None:
        """Override the ``result`` of ``method``.

        ``result`` is a JSON value, or a callable ``(TelegramRequest) -> JSON value`` (it may
        raise nothing; use :meth:`fail_next` for errors).
        """
        self._results[method.lower()] = result

    def add_file(
        self, data: bytes, *, file_path: str | None = None, file_id: str | None = None
    ) -> dict[str, Any]:
        """Register a downloadable file; returns its ``File`` object (for ``getFile``)."""
        n = next(self._file_counter)
        file_id = file_id or f"FILE{n:06d}{secrets.token_hex(6)}"
        file = {
            "file_id": file_id,
            "file_unique_id": f"U{n:06d}",
            "file_size": len(data),
            "file_path": file_path or f"documents/file_{n}",
        }
        self.files[file_id] = {"file": file, "data": data}
        return file

    def reset(self) -> None:
        """Forget requests, stats, deliveries, failure rules and rate-limit windows."""
        self.requests.clear()
        self.stats = TelegramStats()
        self.delivered.clear()
        self._failures.clear()
        self._chat_errors.clear()
        for limiter in (self.global_limiter, self.chat_limiter, self.group_limiter):
            if limiter is not None:
                limiter.reset()

    # ------------------------------------------------------------------ server plumbing

    def build_app(self) -> web.Application:
        """Routes: ``/bot{token}/{method}`` (any HTTP verb) and ``/file/bot{token}/{path}``."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        return app

    def on_stopping(self) -> None:
        """Wake pending long polls so they answer at once."""
        self._notify()

    def _notify(self) -> None:
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    @staticmethod
    def _ok(result: Any, description: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": True, "result": result}
        if description:
            body["description"] = description
        return body

    @staticmethod
    def _error_body(
        status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        return body

    def _respond(self, record: TelegramRequest, status: int, body: dict[str, Any]) -> web.Response:
        record.status = status
        record.response = body
        if status >= 300:
            self.stats.errors_by_status[status] += 1
        return web.json_response(body, status=status)

    def _take_failure(self, method: str, chat_id: Any) -> _Failure | None:
        for failure in self._failures:
            if failure.matches(method, chat_id):
                if failure.skip > 0:
                    failure.skip -= 1
                    return None
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        method = request.match_info["method"]
        raw, files, _ = await read_request_params(request)
        params = {key: _decode_value(key, value) for key, value in raw.items()}
        record = TelegramRequest(
            method=method,
            token=token,
            params=params,
            files=files,
            received_at=self.clock(),
            raw_params=raw,
            content_type=request.content_type,
        )
        self.requests.append(record)
        self.stats.requests += 1
        self.stats.by_method[method] += 1
        await self._apply_latency()

        failure = self._take_failure(method, params.get("chat_id"))
        if failure is not None:
            self.stats.injected_failures += 1
            if failure.disconnect:
                if failure.after_processing:
                    with contextlib.suppress(_APIError):
                        await self._process(record)
                self.stats.dropped_connections += 1
                if request.transport is not None:
                    request.transport.close()
                return web.Response(status=500)
            retry_after = failure.retry_after
            description = failure.description or DEFAULT_DESCRIPTIONS.get(
                failure.status, "Unknown error"
            )
            description = description.format(retry_after=retry_after)
            parameters = {"retry_after": retry_after} if retry_after is not None else None
            return self._respond(
                record, failure.status, self._error_body(failure.status, description, parameters)
            )
        try:
            result, description = await self._process(record)
        except _APIError as err:
            return self._respond(
                record, err.status, self._error_body(err.status, err.description, err.parameters)
            )
        return self._respond(record, 200, self._ok(result, description))

    async def _process(self, record: TelegramRequest) -> tuple[Any, str | None]:
        """Apply auth, per-chat rules and rate limits, then run the method handler."""
        if self.token is not None and record.token != self.token:
            raise _APIError(401, "Unauthorized")
        method = record.method
        lowered = method.lower()
        params = record.params
        is_message = _is_message_method(method)
        if is_message:
            chat_id = params.get("chat_id")
            if chat_id is None or chat_id == "":
                raise _APIError(400, "Bad Request: chat_id is empty")
            rule = self._chat_errors.get(str(chat_id))
            if rule is not None:
                self.stats.injected_failures += 1
                raise _APIError(*rule)
            self._enforce_rate_limits(chat_id)

        override = self._results.get(lowered)
        if override is not None:
            result = override(record) if callable(override) else override
            description = None
        else:
            handler = getattr(self, f"_m_{lowered}", None)
            if handler is None and is_message:
                result, description = await self._m_send_generic(record)
            elif handler is None:
                result, description = True, None
            else:
                result, description = await handler(record)
        if is_message:
            self._record_delivery(record, result)
        return result, description

    def _enforce_rate_limits(self, chat_id: Any) -> None:
        key = str(chat_id)
        waits = []
        if self.global_limiter is not None:
            waits.append(self.global_limiter.wait_time())
        if self.chat_limiter is not None:
            waits.append(self.chat_limiter.wait_time(key))
        is_group = isinstance(chat_id, int) and chat_id < 0
        if self.group_limiter is not None and is_group:
            waits.append(self.group_limiter.wait_time(key))
        wait = max(waits, default=0.0)
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            self.stats.rate_limited += 1
            raise _APIError(
                429,
                f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after},
            )
        if self.global_limiter is not None:
            self.global_limiter.hit()
        if self.chat_limiter is not None:
            self.chat_limiter.hit(key)
        if self.group_limiter is not None and is_group:
            self.group_limiter.hit(key)

    def _record_delivery(self, record: TelegramRequest, result: Any) -> None:
        messages = result if isinstance(result, list) else [result]
        chat_id = record.params.get("chat_id")
        for message in messages:
            if not isinstance(message, dict) or "message_id" not in message:
                continue
            text = message.get("text", message.get("caption"))
            self.delivered.append(
                DeliveredMessage(
                    chat_id=chat_id,
                    message_id=message["message_id"],
                    method=record.method,
                    text=text,
                    received_at=record.received_at,
                )
            )
            self.stats.messages_per_chat[chat_id] += 1

    # ------------------------------------------------------------------ object builders

    def _chat(self, chat_id: Any) -> dict[str, Any]:
        if isinstance(chat_id, int):
            if chat_id > 0:
                return {"id": chat_id, "first_name": f"User{chat_id}", "type": "private"}
            if str(chat_id).startswith("-100"):
                return {"id": chat_id, "title": f"Chat {chat_id}", "type": "supergroup"}
            return {"id": chat_id, "title": f"Chat {chat_id}", "type": "group"}
        username = str(chat_id).lstrip("@")
        fake_id = -1_000_000_000_000 - zlib.crc32(username.encode())
        return {"id": fake_id, "title": username, "username": username, "type": "channel"}

    def _new_message(self, record: TelegramRequest, **content: Any) -> dict[str, Any]:
        chat_id = record.params.get("chat_id")
        key = str(chat_id)
        self._next_message_id[key] += 1
        message: dict[str, Any] = {
            "message_id": self._next_message_id[key],
            "from": self.bot_user(record.token),
            "chat": self._chat(chat_id),
            "date": int(self.wall_clock()),
        }
        message.update({k: v for k, v in content.items() if v is not None})
        if "reply_markup" in record.params and isinstance(record.params["reply_markup"], dict):
            markup = record.params["reply_markup"]
            if "inline_keyboard" in markup:
                message["reply_markup"] = markup
        self._messages[(key, message["message_id"])] = message
        return message

    def _text_param(self, record: TelegramRequest, name: str, limit: int) -> str | None:
        raw = record.params.get(name)
        if raw is None:
            return None
        text = _plain_text(str(raw), record.params.get("parse_mode"))
        if name == "text" and not text.strip():
            raise _APIError(400, "Bad Request: message text is empty")
        if len(text) > limit:
            what = "message is too long" if name == "text" else "message caption is too long"
            raise _APIError(400, f"Bad Request: {what}")
        return text

    def _store_upload(self, record: TelegramRequest, field_name: str, kind: str) -> str:
        """Return a file_id for ``field_name`` (registering an uploaded file)."""
        value = record.params.get(field_name)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = record.files.get(value.removeprefix("attach://"))
        else:
            upload = record.files.get(field_name)
        if upload is not None:
            suffix = ".jpg" if kind == "photos" else ""
            name = upload.filename or f"file{suffix}"
            file = self.add_file(upload.data, file_path=f"{kind}/{name}")
            return str(file["file_id"])
        if isinstance(value, str) and value in self.files:
            return value
        return str(value) if value else f"FILE{secrets.token_hex(8)}"

    # ------------------------------------------------------------------ method handlers
    # Each returns (result, description).

    async def _m_getme(self, record: TelegramRequest) -> tuple[Any, str | None]:
        user = self.bot_user(record.token) | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        return user, None

    async def _m_sendmessage(self, record: TelegramRequest) -> tuple[Any, str | None]:
        text = self._text_param(record, "text", _MAX_TEXT)
        if text is None:
            raise _APIError(400, "Bad Request: message text is empty")
        return self._new_message(record, text=text), None

    async def _m_sendphoto(self, record: TelegramRequest) -> tuple[Any, str | None]:
        caption = self._text_param(record, "caption", _MAX_CAPTION)
        file_id = self._store_upload(record, "photo", "photos")
        size = len(self.files.get(file_id, {}).get("data", b""))
        photo = [
            {
                "file_id": f"{file_id}_s",
                "file_unique_id": f"{file_id[-8:]}s",
                "width": 90,
                "height": 90,
                "file_size": max(size // 10, 1),
            },
            {
                "file_id": file_id,
                "file_unique_id": f"{file_id[-8:]}m",
                "width": 800,
                "height": 600,
                "file_size": size or 1,
            },
        ]
        return self._new_message(record, photo=photo, caption=caption), None

    async def _m_senddocument(self, record: TelegramRequest) -> tuple[Any, str | None]:
        caption = self._text_param(record, "caption", _MAX_CAPTION)
        file_id = self._store_upload(record, "document", "documents")
        stored = self.files.get(file_id)
        document: dict[str, Any] = {"file_id": file_id, "file_unique_id": f"{file_id[-8:]}d"}
        if stored is not None:
            document["file_name"] = stored["file"]["file_path"].rpartition("/")[2]
            document["file_size"] = len(stored["data"])
        return self._new_message(record, document=document, caption=caption), None

    async def _m_send_generic(self, record: TelegramRequest) -> tuple[Any, str | None]:
        """Any other send*/forwardMessage: a Message echoing text/caption when present."""
        text = self._text_param(record, "text", _MAX_TEXT)
        caption = self._text_param(record, "caption", _MAX_CAPTION)
        return self._new_message(record, text=text, caption=caption), None

    async def _m_sendmediagroup(self, record: TelegramRequest) -> tuple[Any, str | None]:
        media = record.params.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise _APIError(400, "Bad Request: wrong number of media specified")
        messages = []
        for item in media:
            caption = item.get("caption") if isinstance(item, dict) else None
            messages.append(self._new_message(record, caption=caption))
        return messages, None

    async def _m_sendchataction(self, record: TelegramRequest) -> tuple[Any, str | None]:
        return True, None

    async def _m_copymessage(self, record: TelegramRequest) -> tuple[Any, str | None]:
        message = self._new_message(record)
        return {"message_id": message["message_id"]}, None

    def _find_message(self, record: TelegramRequest) -> dict[str, Any] | None:
        """The stored message addressed by chat_id + message_id (``None`` for inline)."""
        params = record.params
        if "inline_message_id" in params:
            return None
        chat_id, message_id = params.get("chat_id"), params.get("message_id")
        if chat_id is None or message_id is None:
            raise _APIError(400, "Bad Request: message identifier is not specified")
        key = (str(chat_id), int(message_id))
        message = self._messages.get(key)
        if message is None:
            if self.strict_edits:
                raise _APIError(400, "Bad Request: message to edit not found")
            message = {
                "message_id": int(message_id),
                "from": self.bot_user(record.token),
                "chat": self._chat(chat_id),
                "date": int(self.wall_clock()),
            }
            self._messages[key] = message
        return message

    def _apply_edit(
        self, record: TelegramRequest, message: dict[str, Any] | None, **changes: Any
    ) -> tuple[Any, str | None]:
        if message is None:  # inline message: Bot API answers True
            return True, None
        markup = record.params.get("reply_markup")
        new = dict(message)
        new.update({k: v for k, v in changes.items() if v is not None})
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            new["reply_markup"] = markup
        else:
            new.pop("reply_markup", None)
        same = {k: v for k, v in new.items() if k != "edit_date"} == {
            k: v for k, v in message.items() if k != "edit_date"
        }
        if same:
            raise _APIError(
                400,
                "Bad Request: message is not modified: specified new message content and "
                "reply markup are exactly the same as a current content and reply markup "
                "of the message",
            )
        new["edit_date"] = int(self.wall_clock())
        message.clear()
        message.update(new)
        return dict(message), None

    async def _m_editmessagetext(self, record: TelegramRequest) -> tuple[Any, str | None]:
        text = self._text_param(record, "text", _MAX_TEXT)
        if text is None:
            raise _APIError(400, "Bad Request: message text is empty")
        return self._apply_edit(record, self._find_message(record), text=text)

    async def _m_editmessagecaption(self, record: TelegramRequest) -> tuple[Any, str | None]:
        caption = self._text_param(record, "caption", _MAX_CAPTION)
        return self._apply_edit(record, self._find_message(record), caption=caption or "")

    async def _m_editmessagereplymarkup(self, record: TelegramRequest) -> tuple[Any, str | None]:
        return self._apply_edit(record, self._find_message(record))

    async def _m_deletemessage(self, record: TelegramRequest) -> tuple[Any, str | None]:
        key = (str(record.params.get("chat_id")), int(record.params.get("message_id", 0)))
        if self._messages.pop(key, None) is None and self.strict_edits:
            raise _APIError(400, "Bad Request: message to delete not found")
        return True, None

    async def _m_answercallbackquery(self, record: TelegramRequest) -> tuple[Any, str | None]:
        return True, None

    async def _m_setwebhook(self, record: TelegramRequest) -> tuple[Any, str | None]:
        url = record.params.get("url") or ""
        if not url:
            self.webhook = None
            return True, "Webhook was deleted"
        self.webhook = dict(record.params)
        self._webhook_token = record.token
        return True, "Webhook was set"

    async def _m_deletewebhook(self, record: TelegramRequest) -> tuple[Any, str | None]:
        if self.webhook is None:
            return True, "Webhook is already deleted"
        self.webhook = None
        if record.params.get("drop_pending_updates"):
            self._updates.clear()
        return True, "Webhook was deleted"

    async def _m_getwebhookinfo(self, record: TelegramRequest) -> tuple[Any, str | None]:
        info: dict[str, Any] = {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook is not None:
            info["url"] = self.webhook["url"]
            info["max_connections"] = self.webhook.get("max_connections", 40)
            info["ip_address"] = "127.0.0.1"
            if self.webhook.get("allowed_updates"):
                info["allowed_updates"] = self.webhook["allowed_updates"]
        return info, None

    def _commands_key(self, record: TelegramRequest) -> tuple[str, str]:
        scope = record.params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(record.params.get("language_code") or "")

    async def _m_setmycommands(self, record: TelegramRequest) -> tuple[Any, str | None]:
        commands = record.params.get("commands") or []
        if not isinstance(commands, list):
            raise _APIError(400, "Bad Request: can't parse commands JSON object")
        self.commands[self._commands_key(record)] = commands
        return True, None

    async def _m_getmycommands(self, record: TelegramRequest) -> tuple[Any, str | None]:
        return self.commands.get(self._commands_key(record), []), None

    async def _m_deletemycommands(self, record: TelegramRequest) -> tuple[Any, str | None]:
        self.commands.pop(self._commands_key(record), None)
        return True, None

    async def _m_getchat(self, record: TelegramRequest) -> tuple[Any, str | None]:
        chat_id = record.params.get("chat_id")
        rule = self._chat_errors.get(str(chat_id))
        if rule is not None and rule[0] == 400:
            raise _APIError(*rule)
        chat = self._chat(chat_id) | {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }
        return chat, None

    async def _m_getchatmember(self, record: TelegramRequest) -> tuple[Any, str | None]:
        user_id = record.params.get("user_id")
        user = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
        return {"status": "member", "user": user}, None

    async def _m_getfile(self, record: TelegramRequest) -> tuple[Any, str | None]:
        stored = self.files.get(str(record.params.get("file_id")))
        if stored is None:
            raise _APIError(400, "Bad Request: invalid file_id")
        return stored["file"], None

    async def _m_getupdates(self, record: TelegramRequest) -> tuple[Any, str | None]:
        if self.webhook is not None:
            raise _APIError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        params = record.params
        offset = int(params.get("offset") or 0)
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = float(params.get("timeout") or 0)
        # A newer getUpdates terminates a pending one with 409, as Telegram does.
        self._poll_generation += 1
        generation = self._poll_generation
        if self._polls_waiting:
            self._notify()
        if not self._updates and timeout > 0 and not self.stopping:
            wakeup = self._wakeup
            self._polls_waiting += 1
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wakeup.wait(), min(timeout, self.long_poll_cap))
            finally:
                self._polls_waiting -= 1
            if generation != self._poll_generation and not self.stopping:
                raise _APIError(409, DEFAULT_DESCRIPTIONS[409])
        return list(self._updates[:limit]), None

    # ------------------------------------------------------------------ file downloads

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        for stored in self.files.values():
            if stored["file"]["file_path"] == path:
                return web.Response(body=stored["data"])
        return web.json_response(self._error_body(404, "Not Found"), status=404)
