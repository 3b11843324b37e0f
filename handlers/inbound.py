"""Handle an inbound text, then record it: the one way every channel does it.

An SMS (whichever gateway brought it) and a Telegram text command from a linked resident
(the webhook's text lane and the dispatcher's :func:`handlers.telegram.text.command`
alike) are handled by the same text commands (:func:`handlers.text.handle_text`) and
recorded by (municipality, channel, provider id) in the same transaction, with their
reply: a failure leaves no trace, and a provider's repeated delivery finds the record
(:class:`bot.core.services.inbound.AlreadyRecorded` rolls back what handling it again
did) and is answered from it (:func:`bot.runtime.inbound.answer_once`). The caller runs
this inside a transaction, usually one of the group commit; channels differ only in how
they find the sender and in the form their answer takes (TwiML text, a Bot API method as
JSON).

It lives here, below the runtime, because the dispatcher's handlers call it too and
handlers may not import the runtime.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.core.rendering.templates import Renderer
from bot.core.services import inbound
from handlers.text import Handled, handle_text
from storage.models import Municipality, Resident
from storage.repos import Repos


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
    repos: Repos,
    renderer: Renderer,
    *,
    municipality: Municipality,
    channel: str,
    sender: str,
    text: str,
    provider_id: str,
    now: datetime,
    resident: Resident | None = None,
    reply_as: Callable[[Handled], str] = plain_reply,
) -> Answered:
    """Inside a transaction: handle ``text`` from ``sender`` (a phone number, E.164) on
    ``channel`` and record it, with its outcome and its answer (``reply_as`` of the
    reply), under the provider's id; raise
    :class:`bot.core.services.inbound.AlreadyRecorded` if that id was handled before.

    ``resident``: the sender, when the channel knows them already (a linked Telegram
    account); else they are found by ``sender``."""
    handled = await handle_text(
        repos,
        renderer,
        municipality=municipality,
        phone=sender,
        text=text,
        channel=channel,
        now=now,
        resident=resident,
    )
    reply = reply_as(handled)
    await inbound.record_handled(
        repos,
        municipality_id=municipality.id,
        channel=channel,
        provider_id=provider_id,
        now=now,
        resident_id=handled.resident_id,
        command=handled.command,
        reply=reply,
    )
    return Answered(handled, reply)
