"""The Android gateway's webhooks: signature, freshness and shape checked, then typed.

The app POSTs ``{"deviceId", "event", "id", "payload", "webhookId"}`` JSON for each event
it was registered for, signed: ``X-Signature`` is the hex HMAC-SHA256 of the raw body
followed by ``X-Timestamp`` (Unix seconds), keyed with the app's signing key (Settings →
Webhooks). A request is accepted only with a valid signature and a timestamp within
``MAX_AGE`` seconds of ours (a replayed request is older; a replay within that time has
the same event ``id``, which is the event's ``dedupe_key``). The app retries until it gets
a 2xx, so the handler answers 2xx only once the runtime recorded the event.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aiohttp import web

from bot.channels.events import EventHandler, InboundSms, StatusEvent

log = logging.getLogger(__name__)

#: seconds a signed request stays valid (the app's docs advise ±5 minutes)
MAX_AGE = 300
#: the app's outbound events → the outbox's statuses
EVENT_STATUS = {"sms:sent": "sent", "sms:delivered": "delivered", "sms:failed": "failed"}
#: events this channel does not use: accepted and ignored
IGNORED_EVENTS = {"system:ping", "app:started", "sms:cancelled", "sms:data-received"}
MAX_BODY = 64 * 1024


class WebhookRejected(Exception):
    """Not from our phone or not a webhook of the documented shape (``status``: HTTP)."""

    def __init__(self, reason: str, status: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def sign(body: bytes, timestamp: str, key: str) -> str:
    """``X-Signature`` for ``body`` sent at ``timestamp`` (as the app computes it)."""
    return hmac.new(key.encode(), body + timestamp.encode(), hashlib.sha256).hexdigest()


def _verify(body: bytes, headers: Mapping[str, str], keys: Sequence[str], now: float) -> None:
    signature = headers.get("X-Signature", "")
    timestamp = headers.get("X-Timestamp", "")
    if not signature or not timestamp:
        raise WebhookRejected("unsigned", 401)
    if not timestamp.isdigit() or abs(now - int(timestamp)) > MAX_AGE:
        raise WebhookRejected("stale or bad timestamp", 401)
    if not any(hmac.compare_digest(sign(body, timestamp, key), signature) for key in keys):
        raise WebhookRejected("bad signature", 401)


def _text(payload: Mapping[str, Any], name: str, *, required: bool = True) -> str:
    value = payload.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise WebhookRejected(f"payload.{name} must be a non-empty string", 400)
    return value


def parse_webhook(
    body: bytes, headers: Mapping[str, str], *, signing_keys: Sequence[str], now: float
) -> InboundSms | StatusEvent | None:
    """The event of a signed webhook request (``None``: a valid event we ignore).

    ``signing_keys``: one per phone (each app has its own); ``now``: Unix seconds.
    Raises :class:`WebhookRejected`.
    """
    _verify(body, headers, signing_keys, now)
    try:
        envelope = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WebhookRejected("body is not JSON", 400) from exc
    if not isinstance(envelope, dict) or not isinstance(envelope.get("payload"), dict):
        raise WebhookRejected("not a webhook envelope", 400)
    event = _text(envelope, "event")
    event_id = _text(envelope, "id")
    payload = envelope["payload"]
    if event == "sms:received":
        return InboundSms(
            sender=_text(payload, "phoneNumber"),
            text=_text(payload, "message", required=False),
            to=_text(payload, "recipient", required=False),
            dedupe_key=f"android:{event_id}",
        )
    if event in EVENT_STATUS:
        reason = _text(payload, "reason", required=False) if event == "sms:failed" else ""
        return StatusEvent(
            provider_id=_text(payload, "messageId"),
            provider_status=event,
            status=EVENT_STATUS[event],
            error=f"android: {reason}"[:200] if reason else None,
            dedupe_key=f"android:{event_id}",
        )
    if event in IGNORED_EVENTS:
        return None
    raise WebhookRejected(f"unknown event {event[:40]!r}", 400)


def webhook_handler(
    signing_keys: Sequence[str], on_event: EventHandler, *, clock: Callable[[], float]
) -> Callable[[web.Request], Any]:
    """An aiohttp handler for the app's webhook URL: 204 once ``on_event`` recorded the
    event; 401 unsigned or stale, 400 malformed, 413 too big: no input gets a 5xx (a failing
    ``on_event`` answers 503 so that the app retries)."""

    async def handle(request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.json_response({"error": "too large"}, status=413)
        body = await request.content.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            return web.json_response({"error": "too large"}, status=413)
        try:
            event = parse_webhook(body, request.headers, signing_keys=signing_keys, now=clock())
        except WebhookRejected as exc:
            log.info("Android webhook rejected: %s", exc.reason)
            return web.json_response({"error": exc.reason}, status=exc.status)
        if event is not None:
            try:
                await on_event(event)
            except Exception:
                log.exception("Android webhook event not recorded; the app will retry")
                return web.json_response({"error": "try again"}, status=503)
        return web.Response(status=204)

    return handle
