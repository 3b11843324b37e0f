"""Text commands (SMS and the console demo): parse, call a service, render the reply.

Handlers stay thin: the rules live in ``bot.core.services``; the words live in templates.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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
    draft_id: int | None = None


async def _help(ctx: Context) -> Reply:
    """Every command the sender may use; by SMS a page at a time (``HELP 2``)."""
    held = await roles.held(ctx.repos, ctx.resident)
    page = int(ctx.args) if ctx.args.isascii() and ctx.args.isdecimal() else 1
    per_page = None if ctx.channel == "telegram" else HELP_PAGE
    return Reply("help", help_page(ctx.resident.language, held, page=page, per_page=per_page))


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
        proposal = await broadcast.propose(
            ctx.repos, ctx.municipality, ctx.resident, body=ctx.args, now=ctx.now
        )
    except ServiceError:
        return Reply("broadcast_usage")
    data = {
        "counts": proposal.counts,
        "recipients": proposal.recipients,
        "yes": KEYWORDS["yes"][ctx.resident.language][0],
        "minutes": int(broadcast.DRAFT_TTL.total_seconds() // 60),
    }
    return Reply("broadcast_confirm", data, draft_id=proposal.draft_id)


async def _confirm_draft(ctx: Context, parsed_name: str | None) -> Reply | None:
    """A staff member's message after their BROADCAST: a bare YES in time queues it (the
    reply to it); anything else drops it, queues nothing and is handled as usual (None)."""
    draft = await ctx.repos.broadcasts.open_draft(ctx.resident.id)
    if draft is None:
        return None
    if parsed_name != "yes" or ctx.args:
        await broadcast.drop(ctx.repos, ctx.resident, draft.id, now=ctx.now)
        return None
    progress = await broadcast.confirm(
        ctx.repos, ctx.municipality, ctx.resident, draft.id, now=ctx.now, via=ctx.channel
    )
    if progress is None:
        return Reply("broadcast_expired")
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

#: commands HELP lists only to holders of one of these roles (checked again on every call)
ROLE_COMMANDS = {"broadcast": roles.STAFF_ROLES, "act": {"monitor"}}
#: commands an SMS HELP lists on one page (two segments in every language); ``HELP 2``...
HELP_PAGE = 9


def help_commands(language: str, held: Collection[str] = ()) -> list[dict[str, str | None]]:
    """The commands HELP lists: every one with a handler that a holder of the roles
    ``held`` may use, keyword in ``language`` (answers to invitations are explained
    in each invitation)."""
    return [
        {"name": name, "keyword": KEYWORDS[name][language][0], "slash": _slash(name)}
        for name in HANDLERS
        if name != "help"
        and name not in hearing_commands.NOT_IN_HELP
        and (name not in ROLE_COMMANDS or ROLE_COMMANDS[name] & set(held))
    ]


def _slash(name: str) -> str | None:
    """The command as a Telegram user types it: ``/vote`` (the first English keyword
    that is a word; every keyword works with a leading ``/``). None for START: Telegram's
    own ``/start`` opens the main menu."""
    if name == "start":
        return None
    return "/" + next(word for word in KEYWORDS[name]["en"] if len(word) > 1).lower()


def help_page(
    language: str, held: Collection[str] = (), *, page: int = 1, per_page: int | None = HELP_PAGE
) -> dict[str, Any]:
    """The ``help`` template's data: page ``page`` of :func:`help_commands` (all of them
    with ``per_page`` None), its number and how many pages there are."""
    commands = help_commands(language, held)
    size = per_page or len(commands)
    pages = -(-len(commands) // size)
    page = min(max(page, 1), pages)
    return {"commands": commands[(page - 1) * size : page * size], "page": page, "pages": pages}


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
    if resident is None:
        reply = Reply("unregistered" if parsed.name else parsed.problem or "unknown")
    else:
        ctx = Context(repos, municipality, resident, parsed.args, now, channel)
        reply = await _confirm_draft(ctx, parsed.name) or (
            await HANDLERS[parsed.name](ctx) if parsed.name else Reply(parsed.problem or "unknown")
        )
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
    return Handled(text, command, resident and resident.id, reply.broadcast_id, reply.draft_id)
