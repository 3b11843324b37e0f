"""Text commands for hearings: HEARINGS, YES / NO / MAYBE, and ``H12 YES``."""

from __future__ import annotations

import re
from datetime import datetime

from bot.core.rendering.templates import Paged
from bot.core.services import hearings
from bot.core.services.errors import Refused
from handlers.commands import parse_answer
from handlers.context import Context, Reply, page_number

_NUMBERED = re.compile(r"^#(\d{1,9})\s*(.*)$")


async def list_hearings(ctx: Context) -> Reply:
    """``HEARINGS``, ``HEARINGS 2``: the next page of what one SMS cannot hold."""
    found = await hearings.upcoming(ctx.repos, ctx.municipality, ctx.resident, ctx.now)
    listed = [(h, datetime.fromisoformat(h.starts_at)) for h in found]
    return Reply("hearings", {"hearings": Paged(listed, page_number(ctx.args))})


async def _answer(ctx: Context, number: int | None, reply: str) -> Reply:
    try:
        hearing, code = await hearings.answer(
            ctx.repos, ctx.municipality, ctx.resident, number, reply, now=ctx.now
        )
    except Refused as exc:
        return Reply("rsvp_refused", {"code": exc.code, **exc.details})
    return Reply(
        "rsvp_ok",
        {"hearing": hearing, "starts": datetime.fromisoformat(hearing.starts_at),
         "answer": reply, "code": code},
    )  # fmt: skip


async def numbered(ctx: Context) -> Reply:
    """``H12 YES``: the parser turned the number into ``#12``."""
    match = _NUMBERED.match(ctx.args.strip())
    reply = parse_answer(match[2]) if match else None
    if match is None or reply is None:
        return Reply("rsvp_refused", {"code": "usage"})
    return await _answer(ctx, int(match[1]), reply)


async def yes(ctx: Context) -> Reply:
    return await _answer(ctx, None, "yes")


async def no(ctx: Context) -> Reply:
    return await _answer(ctx, None, "no")


async def maybe(ctx: Context) -> Reply:
    return await _answer(ctx, None, "maybe")


HANDLERS = {
    "hearings": list_hearings, "yes": yes, "no": no, "maybe": maybe, "hearing": numbered,
}  # fmt: skip
#: explained in each invitation, so HELP does not list them
NOT_IN_HELP = {"yes", "no", "maybe", "hearing"}
