"""Handle an inbound text, then record it: the one way every channel does it.

An SMS (whichever gateway brought it) and a Telegram text command from a linked resident
are handled by the same text commands (:func:`handlers.text.handle_text`) and recorded by
(municipality, channel, provider id) in the same transaction, with their reply: a failure
leaves no trace, and a provider's repeated delivery finds the record
(:class:`storage.inbound.AlreadyRecorded` rolls back what handling it again did) and is
answered from it. The caller runs this inside a transaction, usually one of the group
commit (``WebContext.batches``); channels differ only in how they find the sender and in
the form their answer takes (TwiML text, a Bot API method as JSON).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.core.clock import iso
from handlers.text import Handled, handle_text
from storage.models import Municipality, Resident

if TYPE_CHECKING:
    from bot.runtime.web import WebContext


@dataclass(frozen=True)
class Answered:
    """An inbound text handled and recorded."""

    handled: Handled
    #: the answer as recorded, in the channel's form (``reply_as``); a repeated delivery
    #: is answered with it
    reply: str


def plain_reply(handled: Handled) -> str:
    """The reply as it is: an SMS's text."""
    return handled.text


async def handle_and_record(
    ctx: WebContext,
    *,
    municipality: Municipality,
    channel: str,
    sender: str,
    text: str,
    provider_id: str,
    resident: Resident | None = None,
    reply_as: Callable[[Handled], str] = plain_reply,
) -> Answered:
    """Inside a transaction: handle ``text`` from ``sender`` (a phone number, E.164) on
    ``channel`` and record it, with its outcome and its answer (``reply_as`` of the
    reply), under the provider's id; raise
    :class:`storage.inbound.AlreadyRecorded` if that id was recorded before.

    ``resident``: the sender, when the channel knows them already (a linked Telegram
    account); else they are found by ``sender``."""
    now = ctx.clock.now()
    handled = await handle_text(
        ctx.repos,
        ctx.renderer,
        municipality=municipality,
        phone=sender,
        text=text,
        channel=channel,
        now=now,
        resident=resident,
    )
    reply = reply_as(handled)
    await ctx.repos.inbound.record_handled(
        municipality_id=municipality.id,
        channel=channel,
        provider_id=provider_id,
        now=iso(now),
        resident_id=handled.resident_id,
        command=handled.command,
        reply=reply,
    )
    return Answered(handled, reply)
