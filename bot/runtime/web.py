"""The web server: its context, the health check, and the routes each channel brings.

The channels' webhooks live with their channel (``bot.channels.twilio.webhook``,
``bot.channels.telegram.webhook``, the SMS gateways) and the composition root
(``bot.app``) passes their routes to :func:`build_app`. Every webhook authenticates a
request before anything else and answers input that is no form, no update or malformed
with 4xx: no input is answered 5xx. An inbound text is handled and recorded the one way
of :mod:`bot.runtime.inbound`; SMS and status callbacks that arrive together share one
transaction (:mod:`storage.group_commit`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from twilio.request_validator import RequestValidator

from bot.core.clock import Clock
from bot.core.rendering.templates import Renderer
from bot.runtime.inbound import handle_and_record
from bot.runtime.keyed_lock import KeyedLock
from storage.group_commit import GroupCommit
from storage.models import Municipality
from storage.repos import Repos


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
    #: the SMS gateway other than Twilio that serves this process (``android``, ``smpp``,
    #: ``http``; ``bot.channels.gateway_events``), None for Twilio
    sms_gateway: str | None = None
    #: whether the SMS gateway can carry SMS now (SMPP: a session is bound); None for a
    #: gateway that is always ready when configured (HTTP ones)
    sms_ready: Callable[[], bool] | None = None
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
    """The web server's app: the health check and the channels' ``routes`` (the
    composition root passes them: Telegram's, Twilio's...)."""
    app = web.Application(client_max_size=64 * 1024)
    app[CTX] = ctx
    app.router.add_get("/healthz", healthz)
    app.router.add_routes(routes)
    return app


async def healthz(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    return web.json_response(
        {
            "status": "ok",
            "sms": (ctx.twilio_validator is not None or ctx.sms_gateway is not None)
            and (ctx.sms_ready is None or ctx.sms_ready()),
            "telegram": ctx.telegram_mode is not None,
            "outbox_pending": await ctx.repos.outbox.pending(),
        }
    )


async def handle_sms(
    ctx: WebContext,
    sid: str,
    phone: str,
    body: str,
    *,
    channel: str = "sms",
    municipality: Municipality | None = None,
) -> str | None:
    """Inside a transaction: handle the SMS ``body`` from ``phone`` (E.164) that the
    provider calls ``sid`` and record it with its outcome; the reply. If it was recorded
    before (the provider delivered it again), :class:`storage.inbound.AlreadyRecorded`
    rolls back what handling it again did. For every SMS route (:mod:`bot.runtime.inbound`);
    ``municipality``: the one the route's number serves (default: the context's)."""
    answered = await handle_and_record(
        ctx,
        municipality=municipality or ctx.municipality,
        channel=channel,
        sender=phone,
        text=body,
        provider_id=sid,
    )
    return answered.reply
