"""What the Android, SMPP and HTTP gateways hand over, taken the way Twilio's webhook takes it.

An inbound SMS goes through the runtime's one "handle and record"
(:func:`bot.runtime.web.handle_sms`, keyed per municipality by the event's ``dedupe_key``) in a
group-commit transaction, and its reply is queued in the outbox in that same transaction
(sealed: a ballot's receipt names the choice), ahead of any broadcast waiting there: no
gateway takes a reply in its webhook's answer as Twilio takes TwiML. So the gateway's
acknowledgement (a 2xx, a ``deliver_sm_resp``) comes only once the SMS and its reply are
both kept; a repeated delivery is acknowledged and not handled again, its reply having been
queued the first time. A key that is only the sender and a digest of the text (SMPP, an
HTTP gateway without ids) makes a duplicate within :data:`CONTENT_DEDUPE` only: the same "1"
a week later is a new vote.

A delivery report moves its outbox row forward only (:func:`bot.outbox.status.apply_status`);
one that says the recipient refuses our SMS opts them out, as Twilio's 21610 does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from bot.channels.events import Event, InboundSms, StatusEvent
from bot.core.clock import iso
from bot.core.phones import InvalidPhone, mask_phone, normalize_phone, sender_phone
from bot.core.rendering.sms import split_for_sms
from bot.outbox import status as delivery_status
from bot.runtime.inbound import Recorded, answer_once
from bot.runtime.web import WebContext, handle_sms
from storage.inbound import AlreadyRecorded
from storage.models import OutboxDraft
from storage.outbox import AHEAD

log = logging.getLogger(__name__)

#: the channel of the inbound records and outbox rows of every SMS gateway
CHANNEL = "sms"
#: a content-keyed SMS is a duplicate of one recorded within this time (between one and
#: two of these, by the windows it falls in): an SMSC redelivers within minutes
CONTENT_DEDUPE = timedelta(minutes=10)


class GatewayEvents:
    """The ``on_event`` handler of a gateway (:data:`bot.channels.events.EventHandler`)."""

    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx
        #: called once a reply is queued (the outbox worker's wake-up), if set
        self.queued: Callable[[], object] | None = None

    async def __call__(self, event: Event) -> None:
        if isinstance(event, InboundSms):
            await self.inbound(event)
        else:
            await self.status(event)

    def _keys(self, sms: InboundSms) -> tuple[str, str | None]:
        """The SMS's record key, and the key an earlier copy of it was recorded under if
        that one still counts (content keys only)."""
        if not sms.keyed_by_content:
            return sms.dedupe_key, None
        window = int(self.ctx.clock.now().timestamp() // CONTENT_DEDUPE.total_seconds())
        return f"{sms.dedupe_key}:{window}", f"{sms.dedupe_key}:{window - 1}"

    async def inbound(self, sms: InboundSms) -> None:
        ctx = self.ctx
        phone = sender_phone(sms.sender)
        key, earlier = self._keys(sms)

        async def handle() -> int:
            if earlier is not None and await ctx.repos.inbound.seen(
                municipality_id=ctx.municipality.id, channel=CHANNEL, provider_id=earlier
            ):
                raise AlreadyRecorded(earlier)
            reply = await handle_sms(ctx, key, phone, sms.text)
            return await self._queue_reply(key, phone, reply)

        queued = await answer_once(ctx, phone, handle, channel=CHANNEL, provider_id=key)
        if isinstance(queued, Recorded):
            return  # its reply was queued the first time
        if queued and self.queued is not None:
            self.queued()

    async def _queue_reply(self, key: str, phone: str, reply: str | None) -> int:
        """Inside the SMS's transaction: its reply into the outbox; how many rows."""
        ctx = self.ctx
        if not reply:
            return 0
        try:
            address = normalize_phone(phone)
        except InvalidPhone:  # an operator's name or a short code: nobody to answer
            log.info("no reply to %s: not a phone number", mask_phone(phone))
            return 0
        resident = await ctx.repos.residents.by_phone(ctx.municipality.id, address)
        base = f"{CHANNEL}:{ctx.municipality.id}:inbound:{key}:reply"
        drafts = [
            OutboxDraft(
                ctx.municipality.id,
                base + (f":{n + 1}" if n else ""),
                CHANNEL,
                address,
                part,
                resident.id if resident else None,
                private=True,
            )
            for n, part in enumerate(split_for_sms(reply))
        ]
        return await ctx.repos.outbox.enqueue(drafts, now=iso(ctx.clock.now()), due=AHEAD)

    async def status(self, report: StatusEvent) -> None:
        ctx = self.ctx
        await ctx.batches.run(
            report.provider_id,
            lambda: delivery_status.apply_status(
                ctx.repos,
                CHANNEL,
                report.provider_id,
                report.status,
                report.error,
                unsubscribed=report.unsubscribed,
                now=ctx.clock.now(),
            ),
        )
