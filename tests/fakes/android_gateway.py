"""A fake of one phone running the SMS Gateway for Android, over real HTTP on 127.0.0.1.

Serves ``POST /messages`` (local mode) and ``POST /3rdparty/v1/messages`` (cloud mode) with
basic auth, answering ``202`` and the app's message state JSON; a bad phone number is a
``400``, more than ``per_minute`` messages in a minute (by ``clock``) a ``429``; the next
answers can be forced (``fail_next``). It also POSTs the app's signed webhooks
(``X-Signature``/``X-Timestamp``) to a URL the test gives::

    async with FakeAndroidGateway(clock=clock) as phone:
        phone.webhook_url = "http://127.0.0.1:PORT/hook"
        message_id = await sender.send("+996555123456", "Салам")
        await phone.deliver(message_id)              # POSTs a signed sms:delivered
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientSession, web

from bot.channels.android.webhook import sign
from tests.fakes.telegram_api import Clock, FakeHTTPServer, SlidingWindowLimiter


@dataclass
class SentMessage:
    id: str
    phone_numbers: list[str]
    text: str
    with_delivery_report: bool
    #: when the phone took it (the fake's clock)
    at: float


class FakeAndroidGateway(FakeHTTPServer):
    def __init__(
        self,
        *,
        login: str = "sms",
        password: str = "phone-password",
        signing_key: str = "signing-key",
        per_minute: int = 30,
        clock: Clock,
        wall_clock: Clock | None = None,
    ) -> None:
        super().__init__(clock=clock)
        self.login = login
        self.password = password
        self.signing_key = signing_key
        self.device_id = "ffffffffceb0b1db0000018e937c815b"
        #: the Unix time webhooks are signed with (default: ``clock``)
        self.wall_clock = wall_clock or clock
        self.limiter = SlidingWindowLimiter(per_minute, 60.0, clock)
        self.messages: list[SentMessage] = []
        #: (path, HTTP status) of every send request
        self.requests: list[tuple[str, int]] = []
        self.webhook_url = ""
        #: HTTP status of each webhook POST
        self.webhook_answers: list[int] = []
        self._forced: list[tuple[int, Any]] = []

    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/messages", self._send)
        app.router.add_post("/3rdparty/v1/messages", self._send)
        return app

    def fail_next(self, *statuses: int) -> None:
        """Answer the next send requests with these HTTP statuses (e.g. 429, 500)."""
        self._forced.extend((status, {"message": f"forced {status}"}) for status in statuses)

    def answer_next(self, status: int, body: Any) -> None:
        """Answer the next send request with ``body`` as JSON (whatever its shape)."""
        self._forced.append((status, body))

    async def _send(self, request: web.Request) -> web.Response:
        answer = await self._answer(request)
        self.requests.append((request.path, answer.status))
        return answer

    async def _answer(self, request: web.Request) -> web.Response:
        expected = base64.b64encode(f"{self.login}:{self.password}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return web.json_response({"message": "Unauthorized"}, status=401)
        if self._forced:
            status, body = self._forced.pop(0)
            return web.json_response(body, status=status)
        if self.limiter.wait_time():
            return web.json_response({"message": "Too Many Requests"}, status=429)
        try:
            body = await request.json()
            numbers = body["phoneNumbers"]
            text = body["textMessage"]["text"]
        except (ValueError, KeyError, TypeError):
            return web.json_response({"message": "invalid request"}, status=400)
        if not all(isinstance(n, str) and n.startswith("+") and n[1:].isdigit() and
                   len(n) >= 9 for n in numbers):  # fmt: skip
            return web.json_response({"message": "invalid phone number"}, status=400)
        self.limiter.hit()
        message = SentMessage(
            id=secrets.token_urlsafe(15),
            phone_numbers=numbers,
            text=text,
            with_delivery_report=bool(body.get("withDeliveryReport", True)),
            at=self.clock(),
        )
        self.messages.append(message)
        return web.json_response(
            {
                "id": message.id,
                "deviceId": self.device_id,
                "state": "Pending",
                "isHashed": False,
                "isEncrypted": False,
                "recipients": [{"phoneNumber": n, "state": "Pending"} for n in numbers],
                "states": {"Pending": "2026-11-25T10:00:00.000+06:00"},
            },
            status=202,
        )

    # -- webhooks ----------------------------------------------------------------------

    def envelope(self, event: str, payload: dict[str, Any]) -> bytes:
        """The app's webhook JSON for ``event``."""
        return json.dumps(
            {
                "deviceId": self.device_id,
                "event": event,
                "id": secrets.token_urlsafe(15),
                "payload": payload,
                "webhookId": f"hook-{event}",
            },
            ensure_ascii=False,
        ).encode()

    def signed_headers(self, body: bytes, *, key: str | None = None) -> dict[str, str]:
        timestamp = str(int(self.wall_clock()))
        return {
            "Content-Type": "application/json",
            "X-Signature": sign(body, timestamp, key or self.signing_key),
            "X-Timestamp": timestamp,
        }

    async def post(self, body: bytes, headers: dict[str, str]) -> int:
        """POST a webhook request as the app does; the HTTP status of the answer."""
        async with (
            ClientSession() as session,
            session.post(self.webhook_url, data=body, headers=headers) as response,
        ):
            self.webhook_answers.append(response.status)
            return response.status

    async def emit(self, event: str, payload: dict[str, Any]) -> int:
        body = self.envelope(event, payload)
        return await self.post(body, self.signed_headers(body))

    async def receive(self, sender: str, text: str) -> int:
        """A resident's SMS arrives on the phone: ``sms:received``."""
        return await self.emit(
            "sms:received",
            {
                "messageId": secrets.token_hex(8),
                "message": text,
                "phoneNumber": sender,
                "simNumber": 1,
                "receivedAt": "2026-11-25T10:00:00.000+06:00",
            },
        )

    async def report(self, message_id: str, event: str, **extra: Any) -> int:
        """``sms:sent``, ``sms:delivered`` or ``sms:failed`` for a message we sent."""
        stamp = {"sms:sent": "sentAt", "sms:delivered": "deliveredAt"}.get(event, "failedAt")
        payload = {
            "messageId": message_id,
            "phoneNumber": self.messages[-1].phone_numbers[0] if self.messages else "",
            "simNumber": 1,
            stamp: "2026-11-25T10:00:05.000+06:00",
            **extra,
        }
        return await self.emit(event, payload)
