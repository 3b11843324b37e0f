"""The web server: provider webhooks and the health check (the contract's routes).

Every webhook is authenticated before anything else (Twilio's ``X-Twilio-Signature``,
Telegram's secret-token header): a forged request gets 403 and changes nothing.
Inbound messages are recorded by provider id first, so a duplicate delivery is
answered with the recorded reply and handled only once.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from bot.clock import Clock, iso
from bot.phones import InvalidPhone, normalize_phone
from bot.rendering.templates import Renderer
from bot.services import delivery_status
from handlers.text import handle_text
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
    public_base_url: str | None = None
    telegram_secret: str | None = None
    #: called with a raw update dict when a Telegram webhook update arrives
    telegram_feed: Any = None
    #: SQLite has one writer: inbound handling is serialised on the shared connection
    lock: asyncio.Lock = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        self.lock = asyncio.Lock()


CTX = web.AppKey("ctx", WebContext)


def build_app(ctx: WebContext) -> web.Application:
    app = web.Application(client_max_size=64 * 1024)
    app[CTX] = ctx
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/sms/twilio", sms_inbound)
    app.router.add_post("/sms/twilio/status", sms_status)
    app.router.add_post("/telegram/webhook", telegram_webhook)
    return app


async def healthz(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    return web.json_response(
        {
            "status": "ok",
            "sms": ctx.twilio_validator is not None,
            "telegram": ctx.telegram_feed is not None,
            "outbox_pending": await ctx.repos.outbox.pending(),
        }
    )


async def _signed_form(request: web.Request) -> dict[str, str] | None:
    """The form of a Twilio request whose signature is right; None otherwise."""
    ctx = request.app[CTX]
    signature = request.headers.get("X-Twilio-Signature")
    if ctx.twilio_validator is None or not signature:
        return None
    form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    base = (ctx.public_base_url or f"{request.scheme}://{request.host}").rstrip("/")
    if not ctx.twilio_validator.validate(base + request.path_qs, form, signature):
        return None
    return form


def _twiml(text: str | None) -> web.Response:
    response = MessagingResponse()
    if text:
        response.message(text)
    return web.Response(text=str(response), content_type="application/xml")


async def sms_inbound(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    form = await _signed_form(request)
    if form is None:
        log.warning("inbound SMS refused: missing or wrong signature")
        raise web.HTTPForbidden(text="signature")
    sid = form.get("MessageSid") or form.get("SmsSid")
    if not sid or "From" not in form:
        raise web.HTTPBadRequest(text="MessageSid and From are required")
    try:
        phone = normalize_phone(form["From"])
    except InvalidPhone:
        phone = form["From"]  # not a number we know; the reply says how to register
    now = ctx.clock.now()
    async with ctx.lock, ctx.repos.db.transaction():
        first = await ctx.repos.inbound.record(
            municipality_id=ctx.municipality.id, channel="sms", provider_id=sid, now=iso(now)
        )
        if not first:
            log.info("inbound SMS %s is a duplicate: answered from the record", sid)
            return _twiml(await ctx.repos.inbound.reply_to(channel="sms", provider_id=sid))
        handled = await handle_text(
            ctx.repos,
            ctx.renderer,
            municipality=ctx.municipality,
            phone=phone,
            text=form.get("Body", ""),
            channel="sms",
            now=now,
        )
        await ctx.repos.inbound.set_outcome(
            channel="sms",
            provider_id=sid,
            resident_id=handled.resident_id,
            command=handled.command,
            reply=handled.text,
        )
    return _twiml(handled.text)


async def sms_status(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    form = await _signed_form(request)
    if form is None:
        raise web.HTTPForbidden(text="signature")
    sid, status = form.get("MessageSid"), form.get("MessageStatus")
    if not sid or not status:
        raise web.HTTPBadRequest(text="MessageSid and MessageStatus are required")
    async with ctx.lock, ctx.repos.db.transaction():
        await delivery_status.apply_sms_status(
            ctx.repos, sid, status, form.get("ErrorCode"), now=ctx.clock.now()
        )
    return web.Response(status=204)


async def telegram_webhook(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    if ctx.telegram_feed is None or not ctx.telegram_secret:
        raise web.HTTPNotFound()
    if request.headers.get(TELEGRAM_SECRET_HEADER) != ctx.telegram_secret:
        log.warning("Telegram webhook refused: wrong secret token")
        raise web.HTTPForbidden(text="secret")
    try:
        update: dict[str, Any] = await request.json()
        update_id = int(update["update_id"])
    except (ValueError, KeyError, TypeError):
        raise web.HTTPBadRequest(text="not an update") from None
    async with ctx.lock:
        first = await ctx.repos.inbound.record(
            municipality_id=ctx.municipality.id,
            channel="telegram",
            provider_id=str(update_id),
            now=iso(ctx.clock.now()),
        )
    if first:
        await ctx.telegram_feed(update)
    return web.Response(status=200)
