"""A fake Twilio REST API (Programmable Messaging) served over real HTTP on 127.0.0.1.

Serves ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` (and fetch/update of one
message) with HTTP basic auth, Twilio's message resource JSON and Twilio's error JSON, so
that the real ``twilio`` library (its ``AsyncTwilioHttpClient`` and ``TwilioRestException``
mapping) is exercised.  Point the library at it with :func:`point_twilio_client`::

    async with FakeTwilioAPI() as api:
        client = Client(api.account_sid, api.auth_token, http_client=AsyncTwilioHttpClient())
        point_twilio_client(client, api.base_url)        # client.api.base_url = ...
        msg = await client.messages.create_async(to="+4915112345678", from_="+15005550006",
                                                 body="hi")
        assert api.messages[msg.sid]["status"] == "queued"
        await client.http_client.close()
"""

from __future__ import annotations

import base64
import contextlib
import re
import secrets
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aiohttp import ClientSession, web

from tests.fakes.telegram_api import (
    Clock,
    FakeHTTPServer,
    SlidingWindowLimiter,
    read_request_params,
)
from tests.fakes.webhooks import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    TWILIO_API_VERSION,
    new_sid,
    twilio_inbound_form,
    twilio_signed_headers,
    twilio_status_form,
)

if TYPE_CHECKING:
    from twilio.rest import Client

# --------------------------------------------------------------------------------------
# SMS segmentation
# --------------------------------------------------------------------------------------

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""The GSM 03.38 default alphabet (one septet each)."""

GSM7_EXTENDED = "^{}\\[~]|€\f"
"""GSM 03.38 extension table characters (escape + char = two septets each)."""

_GSM7_BASIC_SET = frozenset(GSM7_BASIC)
_GSM7_EXT_SET = frozenset(GSM7_EXTENDED)

SMART_ENCODING = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2026": "...",
    "\u00a0": " ",
    "\u2002": " ",
    "\u2003": " ",
    "\u2009": " ",
    "\u00ab": '"',
    "\u00bb": '"',
}
"""A subset of Twilio's Smart Encoding replacements (applied when ``SmartEncoded=true``)."""


def is_gsm7(body: str) -> bool:
    """True when every character of ``body`` is in the GSM-7 basic or extension table."""
    return all(ch in _GSM7_BASIC_SET or ch in _GSM7_EXT_SET for ch in body)


def sms_encoding(body: str) -> str:
    """``"GSM-7"`` or ``"UCS-2"``: the encoding an SMS with ``body`` is sent in."""
    return "GSM-7" if is_gsm7(body) else "UCS-2"


def count_segments(body: str) -> int:
    """Number of SMS segments for ``body``, as Twilio bills them.

    GSM-7: up to 160 septets in one SMS, else 153 per segment (extension characters take two
    septets and never straddle a segment).  UCS-2: up to 70 UTF-16 code units in one SMS,
    else 67 per segment (a surrogate pair never straddles a segment).  An empty body is one
    segment.
    """
    if is_gsm7(body):
        units = [2 if ch in _GSM7_EXT_SET else 1 for ch in body]
        single, multi = 160, 153
    else:
        units = [len(ch.encode("utf-16-le")) // 2 for ch in body]
        single, multi = 70, 67
    if sum(units) <= single:
        return 1
    segments, used = 1, 0
    for unit in units:
        if used + unit > multi:
            segments += 1
            used = 0
        used += unit
    return segments


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------

TWILIO_ERRORS: dict[int, tuple[int, str]] = {
    20001: (400, "Invalid parameter"),
    20003: (401, "Authenticate"),
    20404: (404, "The requested resource {path} was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
    20503: (503, "Service Unavailable"),
    21211: (400, "Invalid 'To' Phone Number: {to}"),
    21408: (
        400,
        "Permission to send an SMS has not been enabled for the region indicated by the "
        "'To' number: {to}",
    ),
    21602: (400, "Message body is required."),
    21603: (400, "A 'From' phone number is required."),
    21604: (400, "A 'To' phone number is required."),
    21606: (
        400,
        "The From phone number {from_} is not a valid, SMS-capable inbound phone number or "
        "short code for your account.",
    ),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21612: (
        400,
        "The 'To' phone number: {to}, is not currently reachable using the 'From' phone "
        "number: {from_} via SMS.",
    ),
    21614: (400, "'To' number {to} is not a valid mobile number"),
    21617: (400, "The concatenated message body exceeds the 1600 character limit."),
}
"""Twilio error code -> (HTTP status, message template)."""

_DEFAULT_CODE_FOR_STATUS = {401: 20003, 404: 20404, 429: 20429, 500: 20500, 503: 20503}

MAGIC_TO_NUMBERS: dict[str, int] = {
    "+15005550001": 21211,
    "+15005550002": 21612,
    "+15005550003": 21408,
    "+15005550004": 21610,
    "+15005550009": 21614,
}
"""Twilio's test-credential magic 'To' numbers and the error each one produces."""

MAGIC_FROM_NUMBER = "+15005550006"
"""Twilio's magic valid 'From' number for test credentials."""

_E164 = re.compile(r"^\+[1-9]\d{1,14}$")
_CHANNEL = re.compile(r"^(whatsapp|messenger|rcs):.+$")


class _TwilioError(Exception):
    def __init__(self, code: int | None, status: int | None = None, **fmt: Any) -> None:
        known_status, template = TWILIO_ERRORS.get(code or 0, (status or 400, "Error"))
        self.code = code
        self.status = status or known_status
        self.message = template.format_map(_Missing(fmt))
        super().__init__(self.message)


class _Missing(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def twilio_error_body(code: int | None, status: int, message: str) -> dict[str, Any]:
    """Twilio's REST error JSON: ``{"code", "message", "more_info", "status"}``."""
    more_info = f"https://www.twilio.com/docs/errors/{code}" if code else None
    return {"code": code, "message": message, "more_info": more_info, "status": status}


# --------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------


@dataclass
class TwilioRequest:
    """One recorded REST request."""

    method: str
    path: str
    account_sid: str | None
    params: dict[str, str]
    """Form/query parameters, last value per key."""
    pairs: list[tuple[str, str]]
    """Every ``(key, value)`` in order (repeated keys such as ``MediaUrl`` appear twice)."""
    auth: tuple[str, str] | None
    received_at: float
    status: int | None = None
    """HTTP status answered (``None`` for a dropped connection)."""
    response: Any = None
    """JSON body answered."""

    @property
    def sid(self) -> str | None:
        """SID of the message created/fetched by this request, if any."""
        if isinstance(self.response, dict):
            sid = self.response.get("sid")
            return str(sid) if sid else None
        return None


@dataclass
class TwilioStats:
    """Counters a benchmark can read."""

    requests: int = 0
    created: int = 0
    rate_limited: int = 0
    injected_failures: int = 0
    dropped_connections: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    messages_per_recipient: Counter[str] = field(default_factory=Counter)
    segments: int = 0
    """Total SMS segments of all created messages (what Twilio would bill)."""


@dataclass
class WebhookDelivery:
    """Outcome of a webhook the fake POSTed to the application."""

    url: str
    form: dict[str, str]
    status: int
    body: str


@dataclass
class _Failure:
    status: int
    code: int | None
    message: str | None
    to: str | None
    disconnect: bool
    after_processing: bool
    remaining: int


# --------------------------------------------------------------------------------------
# Client wiring
# --------------------------------------------------------------------------------------


def point_twilio_client(client: Client, base_url: str) -> Client:
    """Make ``client`` send its Api-domain requests (Messages...) to ``base_url``.

    ``Client.api`` is a lazily created, cached ``twilio.base.domain.Domain`` whose
    ``base_url`` (``"https://api.twilio.com"``) prefixes every request URI, so overriding it
    redirects ``client.messages.create_async`` and friends.  Edge/region are cleared because
    ``ClientBase.get_hostname`` would otherwise rewrite the host (``TWILIO_EDGE`` /
    ``TWILIO_REGION`` in the environment would mangle ``127.0.0.1:PORT``).
    """
    client.api.base_url = base_url.rstrip("/")
    client.edge = None
    client.region = None
    return client


# --------------------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------------------


class FakeTwilioAPI(FakeHTTPServer):
    """A fake Twilio Messaging REST API (real HTTP on 127.0.0.1)."""

    def __init__(
        self,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        *,
        api_keys: dict[str, str] | None = None,
        owned_numbers: set[str] | None = None,
        magic_numbers: bool = True,
        rate: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
        latency: float = 0.0,
    ) -> None:
        """Create the fake.

        :param account_sid: the only account served (``AC`` + 32 hex).
        :param auth_token: its auth token (basic-auth password).
        :param api_keys: extra accepted credentials ``{"SK...": secret}``.
        :param owned_numbers: if given, ``From`` must be one of these (else error 21606).
        :param magic_numbers: honour Twilio's test magic 'To' numbers (+15005550001 -> 21211,
            +15005550002 -> 21612, +15005550003 -> 21408, +15005550004 -> 21610,
            +15005550009 -> 21614).
        :param rate: max message creations per second (sliding 1 s window) before
            429/20429; ``None`` = unlimited.
        :param clock: monotonic clock for rate limiting and ``received_at``.
        :param wall_clock: epoch clock for ``date_created``/``date_updated``.
        :param latency: artificial delay before answering each request (seconds).
        """
        super().__init__(host=host, port=port, clock=clock, latency=latency)
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.api_keys = dict(api_keys or {})
        self.owned_numbers = set(owned_numbers) if owned_numbers is not None else None
        self.magic_numbers = magic_numbers
        self.wall_clock = wall_clock
        self.limiter = SlidingWindowLimiter(rate, 1.0, clock) if rate else None
        self.requests: list[TwilioRequest] = []
        self.messages: dict[str, dict[str, Any]] = {}
        """Created message resources by SID (status kept up to date by set_status)."""
        self.created: list[dict[str, Any]] = []
        """Created message resources in creation order."""
        self.stats = TwilioStats()
        self.unsubscribed: set[str] = set()
        self._failures: list[_Failure] = []
        self._list_failures: list[int] = []

    # ------------------------------------------------------------------ public helpers

    @property
    def messages_url(self) -> str:
        """Absolute URL of this account's Messages list resource."""
        return f"{self.base_url}/{TWILIO_API_VERSION}/Accounts/{self.account_sid}/Messages.json"

    def make_client(self) -> Client:
        """A real ``twilio.rest.Client`` with ``AsyncTwilioHttpClient`` pointed at the fake.

        Call inside a running event loop; close with ``await client.http_client.close()``.
        """
        from twilio.http.async_http_client import AsyncTwilioHttpClient
        from twilio.rest import Client

        client = Client(self.account_sid, self.auth_token, http_client=AsyncTwilioHttpClient())
        return point_twilio_client(client, self.base_url)

    def calls(self, method: str | None = None) -> list[TwilioRequest]:
        """Recorded requests, optionally only those with HTTP ``method`` (``"POST"``...)."""
        if method is None:
            return list(self.requests)
        return [r for r in self.requests if r.method == method.upper()]

    def messages_to(self, number: str) -> list[str]:
        """Bodies of the messages created for ``number``, in order."""
        return [m["body"] for m in self.created if m["to"] == number]

    def duplicates(self) -> dict[tuple[str, str], int]:
        """``{(to, body): count}`` for every body created more than once for a number."""
        counts = Counter((m["to"], m["body"]) for m in self.created)
        return {key: n for key, n in counts.items() if n > 1}

    def fail_next(
        self,
        status: int | None = None,
        *,
        code: int | None = None,
        message: str | None = None,
        to: str | None = None,
        count: int = 1,
        disconnect: bool = False,
        after_processing: bool = False,
    ) -> None:
        """Make the next ``count`` message creations (optionally only to ``to``) fail.

        ``fail_next(500)``, ``fail_next(503)``, ``fail_next(429)`` (code 20429),
        ``fail_next(code=21610)`` (HTTP 400 "Attempt to send to unsubscribed recipient"),
        ``fail_next(code=21211)``...  The HTTP status defaults from :data:`TWILIO_ERRORS`
        for a known ``code``, else 500.  ``disconnect=True`` drops the TCP connection instead
        (``after_processing=True``: the message is created first, only the answer is lost).
        """
        if status is None:
            status = TWILIO_ERRORS[code][0] if code in TWILIO_ERRORS else 500
        if code is None:
            code = _DEFAULT_CODE_FOR_STATUS.get(status)
        self._failures.append(
            _Failure(status, code, message, to, disconnect, after_processing, count)
        )

    def fail_next_list(self, status: int = 500, *, count: int = 1) -> None:
        """Make the next ``count`` Messages list requests fail with ``status``."""
        self._list_failures += [status] * count

    def clear_failures(self) -> None:
        """Drop every pending :meth:`fail_next` and :meth:`fail_next_list` rule."""
        self._failures.clear()
        self._list_failures.clear()

    def unsubscribe(self, number: str) -> None:
        """``number`` replied STOP: every message to it now fails with 21610."""
        self.unsubscribed.add(number)

    def resubscribe(self, number: str) -> None:
        """``number`` replied START: messages to it succeed again."""
        self.unsubscribed.discard(number)

    def set_status(self, sid: str, status: str, error_code: int | None = None) -> None:
        """Change a created message's status (what a later fetch returns)."""
        message = self.messages[sid]
        message["status"] = status
        message["error_code"] = error_code
        message["date_updated"] = self._now_rfc2822()
        if status in ("sent", "delivered") and message["date_sent"] is None:
            message["date_sent"] = message["date_updated"]

    def status_callback_payload(
        self, sid: str, status: str, error_code: int | None = None
    ) -> dict[str, str]:
        """The form Twilio would POST to the message's StatusCallback for ``status``.

        ``status`` is one of queued/sending/sent/delivered/undelivered/failed (or
        accepted/scheduled/canceled/read); ``ErrorCode`` is included for failed/undelivered.
        """
        message = self.messages[sid]
        return twilio_status_form(
            sid,
            status,
            to=message["to"],
            from_=message["from"],
            account_sid=self.account_sid,
            messaging_service_sid=message["messaging_service_sid"],
            error_code=error_code,
        )

    async def send_status_callback(
        self,
        sid: str,
        status: str,
        *,
        error_code: int | None = None,
        url: str | None = None,
        signature_url: str | None = None,
        session: ClientSession | None = None,
    ) -> WebhookDelivery:
        """POST a signed status callback for message ``sid`` to its ``StatusCallback``.

        :param url: where to POST (defaults to the StatusCallback given at creation).
        :param signature_url: URL to sign (defaults to ``url``); use the public URL when the
            app validates against a proxy-facing address.
        Also updates the stored message status.
        """
        message = self.messages[sid]
        target = url or message.get("_status_callback")
        if not target:
            raise ValueError(f"message {sid} has no StatusCallback and no url was given")
        form = self.status_callback_payload(sid, status, error_code)
        self.set_status(sid, status, int(form["ErrorCode"]) if "ErrorCode" in form else None)
        return await post_twilio_webhook(
            target, form, self.auth_token, signature_url=signature_url, session=session
        )

    async def send_inbound(
        self,
        url: str,
        from_: str,
        to: str,
        body: str,
        *,
        signature_url: str | None = None,
        session: ClientSession | None = None,
        **form_fields: Any,
    ) -> WebhookDelivery:
        """POST a signed inbound-SMS webhook (see :func:`twilio_inbound_form`) to ``url``."""
        form = twilio_inbound_form(from_, to, body, account_sid=self.account_sid, **form_fields)
        return await post_twilio_webhook(
            url, form, self.auth_token, signature_url=signature_url, session=session
        )

    def reset(self) -> None:
        """Forget requests, messages, stats, failure rules and the rate window."""
        self.requests.clear()
        self.messages.clear()
        self.created.clear()
        self.stats = TwilioStats()
        self.clear_failures()
        if self.limiter is not None:
            self.limiter.reset()

    # ------------------------------------------------------------------ server plumbing

    def build_app(self) -> web.Application:
        """Messages list/create, instance fetch/update, and a Twilio-style 404 elsewhere."""
        app = web.Application()
        base = f"/{TWILIO_API_VERSION}/Accounts/{{account}}/Messages"
        app.router.add_post(f"{base}.json", self._handle_create)
        app.router.add_get(f"{base}.json", self._handle_list)
        app.router.add_get(f"{base}/{{sid}}.json", self._handle_fetch)
        app.router.add_post(f"{base}/{{sid}}.json", self._handle_update)
        app.router.add_route("*", "/{tail:.*}", self._handle_not_found)
        return app

    def _now_rfc2822(self) -> str:
        return format_datetime(datetime.fromtimestamp(self.wall_clock(), UTC))

    def _respond(self, record: TwilioRequest, status: int, body: Any) -> web.Response:
        record.status = status
        record.response = body
        self.stats.by_status[status] += 1
        headers = {"Twilio-Request-Id": new_sid("RQ")}
        return web.json_response(body, status=status, headers=headers)

    def _error(self, record: TwilioRequest, err: _TwilioError) -> web.Response:
        body = twilio_error_body(err.code, err.status, err.message)
        return self._respond(record, err.status, body)

    async def _record(self, request: web.Request) -> TwilioRequest:
        params, _files, pairs = await read_request_params(request)
        auth = _decode_basic_auth(request.headers.get("Authorization", ""))
        record = TwilioRequest(
            method=request.method,
            path=request.path,
            account_sid=request.match_info.get("account"),
            params={k: str(v) for k, v in params.items()},
            pairs=[(k, str(v)) for k, v in pairs],
            auth=auth,
            received_at=self.clock(),
        )
        self.requests.append(record)
        self.stats.requests += 1
        await self._apply_latency()
        return record

    def _check_auth(self, record: TwilioRequest) -> None:
        if record.auth is None:
            raise _TwilioError(20003)
        user, password = record.auth
        expected = self.auth_token if user == self.account_sid else self.api_keys.get(user)
        if expected is None or not secrets.compare_digest(password, expected):
            raise _TwilioError(20003)
        if record.account_sid is not None and record.account_sid != self.account_sid:
            raise _TwilioError(20404, path=record.path)

    def _take_failure(self, to: str | None) -> _Failure | None:
        for failure in self._failures:
            if failure.to is None or failure.to == to:
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    async def _handle_not_found(self, request: web.Request) -> web.Response:
        record = await self._record(request)
        return self._error(record, _TwilioError(20404, path=request.path))

    async def _handle_fetch(self, request: web.Request) -> web.Response:
        record = await self._record(request)
        try:
            self._check_auth(record)
            message = self.messages.get(request.match_info["sid"])
            if message is None:
                raise _TwilioError(20404, path=request.path)
        except _TwilioError as err:
            return self._error(record, err)
        return self._respond(record, 200, _public(message))

    async def _handle_list(self, request: web.Request) -> web.Response:
        """The Messages list: newest first, filtered by ``To``, ``From`` and ``DateSent``
        (``DateSent<``, ``DateSent>``: on or before / after that day, in GMT), in pages of
        ``PageSize`` (default 50, at most 1000) numbered by ``Page``."""
        record = await self._record(request)
        try:
            self._check_auth(record)
            query = request.query
            size = int(query.get("PageSize", "50"))
            page = int(query.get("Page", "0"))
            if not 1 <= size <= 1000 or page < 0:
                raise ValueError
            if self._list_failures:
                status = self._list_failures.pop(0)
                raise _TwilioError(_DEFAULT_CODE_FOR_STATUS.get(status), status)
        except _TwilioError as err:
            return self._error(record, err)
        except ValueError:
            return self._error(record, _TwilioError(20001))
        found = [m for m in reversed(self.created) if _listed(m, query)]
        chosen = found[page * size : (page + 1) * size]
        uri = f"/{TWILIO_API_VERSION}/Accounts/{self.account_sid}/Messages.json"
        others = [(k, v) for k, v in query.items() if k not in ("Page", "PageSize", "PageToken")]

        def page_uri(number: int) -> str:
            return f"{uri}?{urlencode([*others, ('PageSize', size), ('Page', number)])}"

        more = len(found) > (page + 1) * size
        body = {
            "end": page * size + max(len(chosen) - 1, 0),
            "first_page_uri": page_uri(0),
            "messages": [_public(m) for m in chosen],
            "next_page_uri": page_uri(page + 1) + f"&PageToken=PA{new_sid('')}" if more else None,
            "page": page,
            "page_size": size,
            "previous_page_uri": page_uri(page - 1) if page else None,
            "start": page * size,
            "uri": page_uri(page),
        }
        return self._respond(record, 200, body)

    async def _handle_update(self, request: web.Request) -> web.Response:
        record = await self._record(request)
        try:
            self._check_auth(record)
            message = self.messages.get(request.match_info["sid"])
            if message is None:
                raise _TwilioError(20404, path=request.path)
        except _TwilioError as err:
            return self._error(record, err)
        if record.params.get("Status") == "canceled":
            self.set_status(message["sid"], "canceled")
        if record.params.get("Body") == "":
            message["body"] = ""
        return self._respond(record, 200, _public(message))

    async def _handle_create(self, request: web.Request) -> web.StreamResponse:
        record = await self._record(request)
        try:
            self._check_auth(record)
        except _TwilioError as err:
            return self._error(record, err)
        failure = self._take_failure(record.params.get("To"))
        if failure is not None:
            self.stats.injected_failures += 1
            if failure.disconnect:
                if failure.after_processing:
                    with contextlib.suppress(_TwilioError):
                        self._create(record)
                self.stats.dropped_connections += 1
                if request.transport is not None:
                    request.transport.close()
                return web.Response(status=500)
            err = _TwilioError(
                failure.code,
                failure.status,
                to=record.params.get("To", ""),
                from_=record.params.get("From", ""),
            )
            if failure.message:
                err.message = failure.message
            return self._error(record, err)
        try:
            resource = self._create(record)
        except _TwilioError as err:
            return self._error(record, err)
        return self._respond(record, 201, resource)

    def _create(self, record: TwilioRequest) -> dict[str, Any]:
        """Validate a create request like Twilio does and store the new message."""
        params = record.params
        to = params.get("To", "")
        from_ = params.get("From") or None
        service = params.get("MessagingServiceSid") or None
        body = params.get("Body", "")
        media = [value for key, value in record.pairs if key == "MediaUrl"]
        fmt = {"to": to, "from_": from_ or ""}
        if not to:
            raise _TwilioError(21604)
        if not (_E164.match(to) or _CHANNEL.match(to)):
            raise _TwilioError(21211, **fmt)
        if from_ is None and service is None:
            raise _TwilioError(21603)
        if not body and not media and not params.get("ContentSid"):
            raise _TwilioError(21602)
        if params.get("SmartEncoded", "").lower() == "true":
            body = "".join(SMART_ENCODING.get(ch, ch) for ch in body)
        if len(body) > 1600:
            raise _TwilioError(21617)
        if self.magic_numbers and to in MAGIC_TO_NUMBERS:
            raise _TwilioError(MAGIC_TO_NUMBERS[to], **fmt)
        if (
            from_ is not None
            and self.owned_numbers is not None
            and from_ not in self.owned_numbers
            and not (self.magic_numbers and from_ == MAGIC_FROM_NUMBER)
        ):
            raise _TwilioError(21606, **fmt)
        if to in self.unsubscribed:
            raise _TwilioError(21610, **fmt)
        if self.limiter is not None:
            if self.limiter.wait_time() > 0:
                self.stats.rate_limited += 1
                raise _TwilioError(20429)
            self.limiter.hit()

        sid = new_sid("MM" if media else "SM")
        now = self._now_rfc2822()
        uri = f"/{TWILIO_API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
        segments = count_segments(body)
        status = "accepted" if service else "queued"
        if params.get("ScheduleType") == "fixed" and params.get("SendAt"):
            status = "scheduled"
        resource: dict[str, Any] = {
            "account_sid": self.account_sid,
            "api_version": TWILIO_API_VERSION,
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": from_,
            "messaging_service_sid": service,
            "num_media": str(len(media)),
            "num_segments": str(segments),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": status,
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": to,
            "uri": f"{uri}.json",
            "_status_callback": params.get("StatusCallback"),
        }
        self.messages[sid] = resource
        self.created.append(resource)
        self.stats.created += 1
        self.stats.segments += segments
        self.stats.messages_per_recipient[to] += 1
        return _public(resource)


def _decode_basic_auth(header: str) -> tuple[str, str] | None:
    """``(user, password)`` from an ``Authorization: Basic ...`` header, else ``None``."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


def _listed(message: dict[str, Any], query: Mapping[str, str]) -> bool:
    """Does ``message`` pass the Messages list filters in ``query``?"""
    if "To" in query and message["to"] != query["To"]:
        return False
    if "From" in query and message["from"] != query["From"]:
        return False
    keys = ("DateSent", "DateSent<", "DateSent>")
    bounds = [(key, query[key][:10]) for key in keys if key in query]
    if bounds:
        if message["date_sent"] is None:
            return False
        day = parsedate_to_datetime(message["date_sent"]).date().isoformat()
        for key, bound in bounds:
            if (key == "DateSent" and day != bound) or (key == "DateSent<" and day > bound):
                return False
            if key == "DateSent>" and day < bound:
                return False
    return True


def _public(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource without the fake's private bookkeeping keys."""
    return {k: v for k, v in resource.items() if not k.startswith("_")}


async def post_twilio_webhook(
    url: str,
    form: dict[str, str],
    auth_token: str,
    *,
    signature_url: str | None = None,
    session: ClientSession | None = None,
) -> WebhookDelivery:
    """POST ``form`` to ``url`` as Twilio does (urlencoded, ``X-Twilio-Signature``).

    The signature is computed over ``signature_url`` (default ``url``) and ``form``.
    """
    headers = twilio_signed_headers(auth_token, signature_url or url, form)
    own = session is None
    client = session or ClientSession()
    try:
        async with client.post(url, data=form, headers=headers) as response:
            text = await response.text()
            return WebhookDelivery(url=url, form=form, status=response.status, body=text)
    finally:
        if own:
            await client.close()


def segments_cost(bodies: list[str]) -> int:
    """Total segments for ``bodies`` (a benchmark helper)."""
    return sum(count_segments(b) for b in bodies)
