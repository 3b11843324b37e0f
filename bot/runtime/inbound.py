"""An inbound message handled once: a provider's repeated delivery answered from the record.

What handles and records a text is :func:`handlers.inbound.handle_and_record` (the
dispatcher's handlers call it too, and may not import the runtime); here is what every
channel's webhook does around it: run it in the group commit's transaction, and answer a
delivery already handled with the answer recorded the first time.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from storage.inbound import AlreadyRecorded
from storage.models import Municipality

if TYPE_CHECKING:
    from bot.runtime.web import WebContext

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Recorded:
    """A repeated delivery: not handled again."""

    #: the answer recorded when it was handled ("" none; None: recorded, never handled)
    reply: str | None


async def answer_once(
    ctx: WebContext,
    key: str,
    handle: Callable[[], Awaitable[T]],
    *,
    channel: str,
    provider_id: str,
    municipality: Municipality | None = None,
) -> T | Recorded:
    """What ``handle`` returns, run in one transaction of the group commit (``key``: the
    sender, whose messages of a batch clash); :class:`Recorded` if it raised
    :class:`storage.inbound.AlreadyRecorded` for ``provider_id`` on ``channel`` of
    ``municipality`` (default: the context's), with the answer of that record."""
    try:
        return await ctx.batches.run(key, handle)
    except AlreadyRecorded:
        log.info("inbound %s %s is a duplicate: answered from the record", channel, provider_id)
        return Recorded(
            await ctx.repos.inbound.reply_to(
                municipality_id=(municipality or ctx.municipality).id,
                channel=channel,
                provider_id=provider_id,
            )
        )
