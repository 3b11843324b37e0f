"""Sending SMS through the SMS Gateway for Android (capcom6/android-sms-gateway).

An Android phone with a local SIM sends the bot's SMS as its own: the app serves an API on
the phone (local mode, ``http://PHONE:8080``) or through its cloud server (cloud mode,
``https://api.sms-gate.app/3rdparty/v1``); both take ``POST {base}/messages`` with basic
auth. The official client (PyPI ``android-sms-gateway``) builds the request and parses the
answer; its aiohttp transport runs on our session (timeouts).

An unrooted phone sends only a few dozen SMS a minute (Android's SMS limit), so each phone
has its own ``per_minute`` limit (default 20) and a deployment may list several: each send
takes the phone free soonest, spaced ``60 / per_minute`` seconds apart. A phone that
answers 429, 5xx or 401/403 (wrong credentials: a setting to fix, not the resident's
fault), or cannot be reached, rests for a minute and the next phone is tried; when none is
left the outbox retries later. A refused number (400) is never retried.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import unquote, urlsplit, urlunsplit

import aiohttp
from android_sms_gateway import client as asg_client
from android_sms_gateway import domain, errors
from android_sms_gateway.ahttp import AiohttpAsyncHttpClient

from bot.core.phones import mask_phone
from bot.outbox.channel import PermanentFailure, TemporaryFailure

log = logging.getLogger(__name__)

DEFAULT_PER_MINUTE = 20
#: how long a phone that failed (429, 5xx, unreachable) is left alone
REST_SECONDS = 60.0


@dataclass(frozen=True)
class AndroidPhone:
    """One phone's API: ``url`` without ``/messages``, the app's username and password."""

    url: str
    login: str
    password: str = field(repr=False)
    per_minute: int = DEFAULT_PER_MINUTE


def parse_phones(urls: str, per_minute: str = str(DEFAULT_PER_MINUTE)) -> list[AndroidPhone]:
    """Phones from ``ANDROID_GATEWAY_PHONES`` (comma-separated ``http[s]://LOGIN:PASSWORD@
    HOST[:PORT][/PATH]``) and ``ANDROID_GATEWAY_PER_MINUTE`` (one number for all, or one
    per phone); ``ValueError`` says what is wrong without repeating a password."""
    entries = [entry.strip() for entry in urls.split(",") if entry.strip()]
    limits = [limit.strip() for limit in per_minute.split(",")]
    if len(limits) == 1:
        limits *= len(entries)
    if not entries:
        raise ValueError("no phone given")
    if len(limits) != len(entries):
        raise ValueError("give one per-minute limit, or one per phone")
    phones = []
    for number, (entry, limit) in enumerate(zip(entries, limits, strict=True), start=1):
        url = urlsplit(entry)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"phone {number} is not an http(s) URL")
        if not url.username or not url.password:
            raise ValueError(f"phone {number} has no LOGIN:PASSWORD@ in its URL")
        if not limit.isdigit() or not 1 <= int(limit) <= 600:
            raise ValueError(f"phone {number}: the per-minute limit must be 1 to 600")
        host = url.hostname if url.port is None else f"{url.hostname}:{url.port}"
        base = urlunsplit((url.scheme, host, url.path.rstrip("/"), "", ""))
        phones.append(AndroidPhone(base, unquote(url.username), unquote(url.password), int(limit)))
    return phones


class _Phone:
    def __init__(self, phone: AndroidPhone, http: AiohttpAsyncHttpClient) -> None:
        self.phone = phone
        self.interval = 60.0 / phone.per_minute
        self.next_free = 0.0
        self.resting_until = 0.0
        self.api = asg_client.AsyncAPIClient(
            phone.login, phone.password, base_url=phone.url, http_client=http
        )


class AndroidSender:
    """The ``Sender`` over one or more phones running the SMS Gateway app."""

    channel = "sms"

    def __init__(
        self,
        phones: Sequence[AndroidPhone],
        session: aiohttp.ClientSession,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if not phones:
            raise ValueError("the Android gateway needs at least one phone")
        http = AiohttpAsyncHttpClient(session)
        self._phones = [_Phone(phone, http) for phone in phones]
        self._clock = clock
        self._sleep = sleep
        self._choosing = asyncio.Lock()
        self.rate_key = "android:" + ",".join(phone.url for phone in phones)

    async def _take_phone(self, tried: set[int]) -> _Phone | None:
        """The untried, unresting phone free soonest, once it is free (its slot taken)."""
        async with self._choosing:
            now = self._clock()
            left = [
                p for i, p in enumerate(self._phones) if i not in tried and p.resting_until <= now
            ]
            if not left:
                return None
            phone = min(left, key=lambda p: p.next_free)
            start = max(now, phone.next_free)
            phone.next_free = start + phone.interval
        if start > now:
            await self._sleep(start - now)
        return phone

    async def send(
        self,
        address: str,
        body: str,
        reply_markup: str | None = None,
        media: str | None = None,
    ) -> str | None:
        message = domain.Message(
            phone_numbers=[address],
            text_message=domain.TextMessage(text=body),
            with_delivery_report=True,
        )
        tried: set[int] = set()
        reason = "every phone is resting"
        while (phone := await self._take_phone(tried)) is not None:
            tried.add(self._phones.index(phone))
            try:
                state = await phone.api.send(message)
            except errors.APIError as exc:
                status = exc.status_code or 0
                if status == 400:
                    log.info("Android gateway refused %s: %s", mask_phone(address), status)
                    raise PermanentFailure(f"android 400: {_reason(exc)}") from exc
                reason = f"android {status}"
            except aiohttp.ClientConnectorError as exc:  # never reached the phone
                reason = f"android: {type(exc).__name__}"
            except (aiohttp.ClientError, TimeoutError) as exc:  # the answer was lost
                raise TemporaryFailure(
                    f"android: {type(exc).__name__}", unknown_outcome=True
                ) from exc
            except (KeyError, TypeError, ValueError) as exc:  # accepted, but an odd answer
                raise TemporaryFailure(
                    f"android: unreadable answer ({type(exc).__name__})", unknown_outcome=True
                ) from exc
            else:
                return state.id
            phone.resting_until = self._clock() + REST_SECONDS
            log.warning("Android phone %s: %s; resting it", phone.phone.url, reason)
        now = self._clock()
        back = min(max(p.resting_until, p.next_free) for p in self._phones) - now
        raise TemporaryFailure(reason, max(back, 0.0))

    async def find_sent(self, address: str, body: str, since: datetime) -> list[str]:
        """The app keeps no searchable list of what it sent: send again."""
        return []


def _reason(exc: errors.APIError) -> str:
    """The gateway's error message (its JSON ``{"message": ...}``), short."""
    response = exc.response if isinstance(exc.response, dict) else {}
    return str(response.get("message") or exc)[:200]
