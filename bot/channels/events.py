"""What a gateway hands to the runtime: a resident's SMS or a delivery report, typed.

Both carry a ``dedupe_key``: a gateway may hand the same event over twice (a webhook
retried, a ``deliver_sm`` redelivered after its answer was lost), and the runtime records
each key once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class InboundSms:
    #: the resident's number as the gateway gave it (E.164 where it could tell)
    sender: str
    text: str
    #: our number or short code it was sent to ("" when the gateway does not say)
    to: str
    #: the gateway's id of the SMS where it gives one; else (SMPP, an HTTP gateway without
    #: ids) the sender and a digest of the text: a duplicate only within minutes
    dedupe_key: str
    #: ``dedupe_key`` is the sender and a digest of the text, not an id: the same text
    #: again later is a new SMS (the runtime takes it for a duplicate only within minutes)
    keyed_by_content: bool = False


@dataclass(frozen=True)
class StatusEvent:
    #: the id :meth:`Sender.send` returned for the message
    provider_id: str
    #: the gateway's own word for it (``DELIVRD``, ``sms:failed``, ...)
    provider_status: str
    #: the outbox's status it maps to (``sent``, ``delivered``, ``undelivered``, ``failed``),
    #: ``None`` when it says nothing to record
    status: str | None
    error: str | None
    dedupe_key: str
    #: the gateway says the recipient refuses our SMS (blocked us, on a stop list): they
    #: are opted out, as Twilio's error 21610 does
    unsubscribed: bool = False


Event = InboundSms | StatusEvent
#: awaited before the gateway acknowledges the event: record it, then return
EventHandler = Callable[[Event], Awaitable[None]]
