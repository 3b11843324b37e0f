"""The web server: provider webhooks and the health check (the contract's routes).

Every webhook is authenticated before anything else (Twilio's ``X-Twilio-Signature``,
Telegram's secret-token header): a forged request gets 403 and changes nothing. A signed
Twilio form is then checked parameter by parameter (:mod:`bot.channels.twilio.form`: a signed
request can be re-cut and keep its signature), and input that is no form, no update or
malformed gets 400: no input is answered 5xx. Inbound messages are recorded by
(municipality, channel, provider id) first, so a duplicate delivery is answered with the
recorded reply and handled only once.

An SMS is recorded and handled in one transaction: a failure leaves no trace and
Twilio's retry is handled afresh. SMS and status callbacks that arrive together share
that transaction (:mod:`storage.group_commit`). A Telegram text command from a linked
resident is handled and recorded the same way (:mod:`bot.channels.telegram.lane`); any other
Telegram update is recorded on arrival and marked handled only once the dispatcher has
returned; a feed that raises is answered 500 and Telegram's retry is fed again. A reply
the handler returned goes back in the webhook's answer (Telegram sends it: no request of
ours), and is kept with the record, so that a repeated delivery gets the same answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from twilio.request_validator import RequestValidator

from bot.core.clock import Clock, iso
from bot.core.rendering.templates import Renderer
from bot.runtime.keyed_lock import KeyedLock
from handlers.text import handle_text
from storage.group_commit import GroupCommit
from storage.models import Municipality
from storage.repos import Repos

log = logging.getLogger(__name__)

TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass
class WebContext:
    repos: Repos
    renderer: Renderer
    clock: Clock
    municipality: Municipality
    twilio_validator: RequestValidator | None = None
    #: our Twilio account: a request naming another is refused (None: any well-formed one)
    twilio_account_sid: str | None = None
    public_base_url: str | None = None
    telegram_secret: str | None = None
    #: how Telegram updates come in: "webhook", "polling", or None (no bot)
    telegram_mode: str | None = None
    #: handles a raw update dict from the webhook; returns the webhook's answer (a
    #: Bot API method as JSON, see ``bot.channels.telegram.dispatcher.webhook_feed``) or None
    telegram_feed: Callable[[dict[str, Any]], Awaitable[str | None]] | None = None
    #: tried before ``telegram_feed`` with the update and its update_id: the answer
    #: if it took the update (recorded, as it was handled), None if not
    #: (``bot.channels.telegram.lane.TextLane``)
    telegram_lane: Callable[[dict[str, Any], str], Awaitable[str | None]] | None = None
    #: Telegram updates being fed now, by update_id: the answer once handled (""
    #: without one), None if it failed
    telegram_in_flight: dict[str, asyncio.Future[str | None]] = field(
        default_factory=dict, init=False, repr=False
    )
    #: one update of a Telegram user at a time, in the order they arrived, whichever way
    #: each goes (the text lane or the dispatcher)
    telegram_turns: KeyedLock = field(default_factory=KeyedLock, init=False, repr=False)
    #: SMS and status callbacks handled together, one transaction a batch
    batches: GroupCommit = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.batches = GroupCommit(self.repos.db)


CTX = web.AppKey("ctx", WebContext)


def build_app(ctx: WebContext, routes: Iterable[web.AbstractRouteDef] = ()) -> web.Application:
    """The web server's app: the health check, the Telegram webhook and the routes of the
    other channels (``routes``: the composition root passes them, e.g. Twilio's)."""
    app = web.Application(client_max_size=64 * 1024)
    app[CTX] = ctx
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/telegram/webhook", telegram_webhook)
    app.router.add_routes(routes)
    return app


async def healthz(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    return web.json_response(
        {
            "status": "ok",
            "sms": ctx.twilio_validator is not None,
            "telegram": ctx.telegram_mode is not None,
            "outbox_pending": await ctx.repos.outbox.pending(),
        }
    )


async def handle_sms(ctx: WebContext, sid: str, phone: str, body: str) -> str | None:
    """Inside a transaction: handle the SMS and record it with its outcome (one
    statement); the reply. If it was recorded before (Twilio delivered it again),
    :class:`AlreadyRecorded` rolls back what handling it again did."""
    now = ctx.clock.now()
    handled = await handle_text(
        ctx.repos,
        ctx.renderer,
        municipality=ctx.municipality,
        phone=phone,
        text=body,
        channel="sms",
        now=now,
    )
    await ctx.repos.inbound.record_handled(
        municipality_id=ctx.municipality.id,
        channel="sms",
        provider_id=sid,
        now=iso(now),
        resident_id=handled.resident_id,
        command=handled.command,
        reply=handled.text,
    )
    return handled.text


#: what the inbound row of a Telegram update holds as its reply once handled without a
#: webhook answer (NULL means "recorded, not yet handled")
TELEGRAM_HANDLED = ""


def _update_kind(update: dict[str, Any]) -> str:
    """``message``, ``callback_query``...: what the update carries, for the record."""
    return next((key for key in update if key != "update_id"), "unknown")


def _update_sender(update: dict[str, Any]) -> int | None:
    """Who an update comes from (the user; else the chat); None if it does not say."""
    body = update.get(_update_kind(update))
    if isinstance(body, dict):
        for field_name in ("from", "user", "chat"):
            who = body.get(field_name)
            if isinstance(who, dict) and type(who.get("id")) is int:
                return who["id"]
    return None


async def telegram_webhook(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    if ctx.telegram_feed is None or not ctx.telegram_secret:
        raise web.HTTPNotFound()
    if request.headers.get(TELEGRAM_SECRET_HEADER) != ctx.telegram_secret:
        log.warning("Telegram webhook refused: wrong secret token")
        raise web.HTTPForbidden(text="secret")
    try:
        update: dict[str, Any] = await request.json()
        update_id = update["update_id"]
    except (ValueError, KeyError, TypeError, RecursionError):
        # not JSON, nested deeper than Python parses, no object, no update_id
        raise web.HTTPBadRequest(text="not an update") from None
    if type(update_id) is not int:
        raise web.HTTPBadRequest(text="not an update")
    key = str(update_id)
    in_flight = ctx.telegram_in_flight.get(key)
    if in_flight is not None:
        # Telegram gave up waiting and sent it again: answer as the first delivery ends.
        answer = await asyncio.shield(in_flight)
        if answer is None:
            raise web.HTTPInternalServerError(text="update not handled")
        return _webhook_answer(answer)
    done: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
    ctx.telegram_in_flight[key] = done
    try:
        # taken before anything is awaited: the sender's updates keep their order
        async with ctx.telegram_turns.hold(_update_sender(update)):
            answer = await _feed_once(ctx, ctx.telegram_feed, update, key)
        done.set_result(answer)
    except Exception:
        log.exception("Telegram update %s failed: answered 500 for a retry", key)
        raise web.HTTPInternalServerError(text="update not handled") from None
    finally:
        del ctx.telegram_in_flight[key]
        if not done.done():
            done.set_result(None)
    return _webhook_answer(answer)


def _webhook_answer(answer: str) -> web.Response:
    if not answer:
        return web.Response(status=200)
    # JSON; an answer an earlier civic-bot recorded form-encoded is replayed as it was
    kind = "application/json" if answer.startswith("{") else "application/x-www-form-urlencoded"
    return web.Response(text=answer, content_type=kind)


async def _feed_once(
    ctx: WebContext,
    feed: Callable[[dict[str, Any]], Awaitable[str | None]],
    update: dict[str, Any],
    key: str,
) -> str:
    """Feed ``update`` unless an earlier delivery of it was handled; the webhook's answer
    ("" for none), the recorded one for a repeated delivery."""
    if ctx.telegram_lane is not None:
        answer = await ctx.telegram_lane(update, key)
        if answer is not None:
            return answer
    first = await ctx.repos.inbound.record(
        municipality_id=ctx.municipality.id,
        channel="telegram",
        provider_id=key,
        now=iso(ctx.clock.now()),
    )
    if not first:
        handled = await ctx.repos.inbound.reply_to(
            municipality_id=ctx.municipality.id, channel="telegram", provider_id=key
        )
        if handled is not None:
            log.info("Telegram update %s is a duplicate: not handled again", key)
            return handled
        log.info("Telegram update %s was not handled before: feeding it again", key)
    answer = await feed(update) or TELEGRAM_HANDLED
    await ctx.repos.inbound.set_outcome(
        municipality_id=ctx.municipality.id,
        channel="telegram",
        provider_id=key,
        resident_id=None,
        command=_update_kind(update),
        reply=answer,
    )
    return answer
