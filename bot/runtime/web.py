"""The web server: its context, the health check, and the routes each channel brings.

The channels' webhooks live with their channel (``bot.channels.twilio.webhook``,
``bot.channels.telegram.webhook``, the SMS gateways) and the composition root
(``bot.app``) passes their routes to :func:`build_app`. Every webhook authenticates a
request before anything else and answers input that is no form, no update or malformed
with 4xx: no input is answered 5xx. An inbound text is handled and recorded the one way
of :mod:`handlers.inbound` (:mod:`bot.runtime.inbound` answers a
repeated delivery from the record); SMS and status callbacks that arrive together share one
transaction (:mod:`storage.group_commit`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from aiohttp import web

from bot.core.clock import Clock
from bot.core.rendering.templates import Renderer
from handlers.inbound import handle_and_record
from storage.group_commit import GroupCommit
from storage.models import Municipality
from storage.repos import Repos


@dataclass
class WebContext:
    repos: Repos
    renderer: Renderer
    clock: Clock
    municipality: Municipality
    public_base_url: str | None = None
    #: the SMS gateway other than Twilio that serves this process (``android``, ``smpp``,
    #: ``http``; ``bot.channels.gateway_events``), None for Twilio
    sms_gateway: str | None = None
    #: each channel's own state, by the channel's name (``"telegram"``:
    #: ``bot.channels.telegram.webhook.TelegramChannel``, ``"twilio"``:
    #: ``bot.channels.twilio.webhook.TwilioChannel``), put there by the channel when the
    #: composition root turns it on: the runtime knows none of them
    channels: dict[str, object] = field(default_factory=dict)
    #: whether the SMS gateway can carry SMS now (SMPP: a session is bound); None for a
    #: gateway that is always ready when configured (HTTP ones)
    sms_ready: Callable[[], bool] | None = None
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
            "sms": ("twilio" in ctx.channels or ctx.sms_gateway is not None)
            and (ctx.sms_ready is None or ctx.sms_ready()),
            "telegram": "telegram" in ctx.channels,
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
    rolls back what handling it again did. For every SMS route (:mod:`handlers.inbound`);
    ``municipality``: the one the route's number serves (default: the context's)."""
    answered = await handle_and_record(
        ctx.repos,
        ctx.renderer,
        now=ctx.clock.now(),
        municipality=municipality or ctx.municipality,
        channel=channel,
        sender=phone,
        text=body,
        provider_id=sid,
    )
    return answered.reply
