"""The Android gateway's webhooks: signature, freshness and shape checked, then typed.

The app POSTs ``{"deviceId", "event", "id", "payload", "webhookId"}`` JSON for each event
it was registered for, signed: ``X-Signature`` is the hex HMAC-SHA256 of the raw body
followed by ``X-Timestamp`` (Unix seconds), keyed with the app's signing key (Settings →
Webhooks). A request is accepted only with a valid signature and a timestamp within
``MAX_AGE`` seconds of ours (a replayed request is older; a replay within that time has
the same event ``id``, which is the event's ``dedupe_key``). The app retries until it gets
a 2xx: :mod:`bot.channels.webhooks` answers one only once the runtime recorded the event.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from aiohttp import web

from bot.channels.events import EventHandler, InboundSms, StatusEvent
from bot.channels.webhooks import WebhookRejected, event_handler

#: seconds a signed request stays valid (the app's docs advise ±5 minutes)
MAX_AGE = 300
#: the app's outbound events → the outbox's statuses
EVENT_STATUS = {"sms:sent": "sent", "sms:delivered": "delivered", "sms:failed": "failed"}
#: events this channel does not use: accepted and ignored
IGNORED_EVENTS = {"system:ping", "app:started", "sms:cancelled", "sms:data-received"}


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


def _text(
    payload: Mapping[str, Any], name: str, *, required: bool = True, drop_nul: bool = False
) -> str:
    """A string field. A NUL is dropped from a message's text (``drop_nul``) and refused
    anywhere else: no id, number or reason holds one, and PostgreSQL stores none (the
    event could never be recorded, and the app would retry it for ever)."""
    value = payload.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise WebhookRejected(f"payload.{name} must be a non-empty string", 400)
    if drop_nul:
        return value.replace("\x00", "")
    if "\x00" in value:
        raise WebhookRejected(f"payload.{name} holds a NUL", 400)
    return value


def parse_webhook(
    body: bytes,
    headers: Mapping[str, str],
    *,
    signing_keys: Sequence[str],
    now: float,
    optout_codes: frozenset[str] = frozenset(),
) -> InboundSms | StatusEvent | None:
    """The event of a signed webhook request (``None``: a valid event we ignore).

    ``signing_keys``: one per phone (each app has its own); ``now``: Unix seconds;
    ``optout_codes``: ``sms:failed`` reasons (lower case) that say the recipient refuses
    our SMS. Raises :class:`WebhookRejected`.
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
            text=_text(payload, "message", required=False, drop_nul=True),
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
            unsubscribed=bool(reason) and reason.lower() in optout_codes,
        )
    if event in IGNORED_EVENTS:
        return None
    raise WebhookRejected(f"unknown event {event[:40]!r}", 400)


def webhook_handler(
    signing_keys: Sequence[str],
    on_event: EventHandler,
    *,
    clock: Callable[[], float],
    optout_codes: frozenset[str] = frozenset(),
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The aiohttp handler of the app's webhook URL; ``clock``: Unix seconds."""

    def parse(body: bytes, headers: Mapping[str, str]) -> InboundSms | StatusEvent | None:
        return parse_webhook(
            body, headers, signing_keys=signing_keys, now=clock(), optout_codes=optout_codes
        )

    return event_handler("Android", parse, on_event)
