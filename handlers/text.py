"""Text commands (SMS and the console demo): parse, call a service, render the reply.

Handlers stay thin: the rules live in ``bot.core.services``; the words live in templates.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.core.rendering.templates import Renderer
from bot.core.services import broadcast, residents, roles
from bot.core.services.errors import ServiceError
from handlers import budget_commands, hearing_commands, voting_commands
from handlers.commands import KEYWORDS, RSVP_ANSWERS, parse, parse_language
from handlers.context import Context, Handler, Reply
from storage.models import Municipality, Resident
from storage.repos import Repos

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Handled:
    """The reply to an inbound text, and what to record about it (never the text)."""

    text: str
    command: str
    resident_id: int | None
    broadcast_id: int | None = None


async def _help(ctx: Context) -> Reply:
    staff = await roles.is_staff(ctx.repos, ctx.resident)
    return Reply("help", {"commands": help_commands(ctx.resident.language, staff=staff)})


async def _lang(ctx: Context) -> Reply:
    language = parse_language(ctx.args) if ctx.args else None
    if language is None:
        return Reply("lang_invalid")
    await residents.set_language(ctx.repos, ctx.resident, language, now=ctx.now)
    return Reply("lang_set", language=language)


async def _me(ctx: Context) -> Reply:
    return Reply("me", {"card": await residents.profile(ctx.repos, ctx.resident)})


async def _stop(ctx: Context) -> Reply:
    await residents.set_opted_out(ctx.repos, ctx.resident, True, now=ctx.now)
    return Reply("stopped")


async def _start(ctx: Context) -> Reply:
    await residents.set_opted_out(ctx.repos, ctx.resident, False, now=ctx.now)
    return Reply("started")


async def _broadcast(ctx: Context) -> Reply:
    try:
        await roles.require_staff(ctx.repos, ctx.resident)
    except roles.NotStaff:
        return Reply("staff_only")
    if not ctx.args:
        return Reply("broadcast_usage")
    try:
        progress = await broadcast.create_broadcast(
            ctx.repos, ctx.municipality, body=ctx.args, now=ctx.now, author=ctx.resident,
            via=ctx.channel,
        )  # fmt: skip
    except ServiceError:
        return Reply("broadcast_usage")
    queued = progress.broadcast
    data = {"id": queued.id, "recipients": queued.recipients}
    return Reply("broadcast_queued", data, broadcast_id=queued.id)


HANDLERS: dict[str, Handler] = {
    "me": _me,
    "lang": _lang,
    "stop": _stop,
    "start": _start,
    **voting_commands.HANDLERS,
    **hearing_commands.HANDLERS,
    **budget_commands.HANDLERS,
    "broadcast": _broadcast,
    "help": _help,
}

#: commands only staff see in HELP (the role is still checked on every call)
STAFF_COMMANDS = {"broadcast"}


def help_commands(language: str, *, staff: bool = False) -> list[dict[str, str]]:
    """The commands HELP lists: exactly those with a handler, keyword in ``language``."""
    return [
        {"name": name, "keyword": KEYWORDS[name][language][0]}
        for name in HANDLERS
        if name != "help"
        and name not in hearing_commands.NOT_IN_HELP | budget_commands.NOT_IN_HELP
        and (staff or name not in STAFF_COMMANDS)
    ]


async def handle_text(
    repos: Repos,
    renderer: Renderer,
    *,
    municipality: Municipality,
    phone: str,
    text: str,
    channel: str,
    now: datetime,
    resident: Resident | None = None,
) -> Handled:
    """The reply to one inbound text from ``phone`` (E.164); ``resident``: the sender, when
    the channel knows them already (a linked Telegram account)."""
    parsed = parse(text)
    if resident is None:
        resident = await residents.identify(repos, municipality, phone)
    language = resident.language if resident else parsed.language or municipality.default_language
    if parsed.name is None:
        reply = Reply(parsed.problem or "unknown")
    elif resident is None:
        reply = Reply("unregistered")
    else:
        ctx = Context(repos, municipality, resident, parsed.args, now, channel)
        reply = await HANDLERS[parsed.name](ctx)
    # Who and what, never the text or the phone: residents are logged by id, and never
    # beside an answer (YES/NO/MAYBE is logged as "rsvp").
    log.info(
        "%s message: command=%s resident=%s reply=%s",
        channel,
        "rsvp" if parsed.name in RSVP_ANSWERS else parsed.name or parsed.problem,
        resident.id if resident else "unregistered",
        reply.template,
    )
    text = renderer.render(reply.template, reply.language or language, channel, **reply.data)
    command = parsed.name or parsed.problem or "unknown"
    return Handled(text, command, resident and resident.id, reply.broadcast_id)
