"""Telegram's webhook: ``POST /telegram/webhook``.

The channel's state (secret, feed, lane, the updates in flight, the senders' turns) is
its :class:`TelegramChannel` in ``WebContext.channels``: the runtime knows none of it.

Every request is authenticated first (the secret-token header): a forged one gets 403
and changes nothing; a body that is no update gets 400: no input is answered 5xx. A sender's
updates take their turns, in the order they arrived (``TelegramChannel.turns``), and
each update is recorded by its update_id, so a repeated delivery is answered with the
recorded answer and handled only once.

A text command from a linked resident is handled and recorded in one transaction by the
text lane (:mod:`bot.channels.telegram.lane`, :mod:`handlers.inbound`); any other
update is recorded on arrival and marked handled once the dispatcher has returned (a text
command that reaches the dispatcher's :func:`handlers.telegram.text.command` completes
that record itself, in its transaction, the same one way); a feed that raises is answered
500 and Telegram's retry is fed again. A reply the handler
returned goes back in the webhook's answer (Telegram sends it: no request of ours), and
is kept with the record, so that a repeated delivery gets the same answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot, Dispatcher
from aiohttp import web

from bot.channels.telegram.dispatcher import webhook_feed
from bot.channels.telegram.lane import TextLane
from bot.core.clock import iso
from bot.runtime.keyed_lock import KeyedLock
from bot.runtime.web import CTX, WebContext

log = logging.getLogger(__name__)

TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


#: the channel's name: its key in ``WebContext.channels``, its inbound records' channel
NAME = "telegram"


@dataclass
class TelegramChannel:
    """Telegram's state in the web server's context (``WebContext.channels[NAME]``)."""

    #: how updates come in: "webhook" or "polling"
    mode: str
    #: the webhook's secret token; None: no webhook
    secret: str | None = None
    #: handles a raw update dict from the webhook; returns the webhook's answer (a Bot
    #: API method as JSON, see ``bot.channels.telegram.dispatcher.webhook_feed``) or None
    feed: Callable[[dict[str, Any]], Awaitable[str | None]] | None = None
    #: tried before ``feed`` with the update and its update_id: the answer if it took
    #: the update (recorded, as it was handled), None if not (:class:`TextLane`)
    lane: Callable[[dict[str, Any], str], Awaitable[str | None]] | None = None
    #: updates being fed now, by update_id: the answer once handled ("" without one),
    #: None if it failed
    in_flight: dict[str, asyncio.Future[str | None]] = field(
        default_factory=dict, init=False, repr=False
    )
    #: one update of a Telegram user at a time, in the order they arrived, whichever way
    #: each goes (the text lane or the dispatcher)
    turns: KeyedLock = field(default_factory=KeyedLock, init=False, repr=False)


def attach(ctx: WebContext, dp: Dispatcher, bot: Bot, *, secret: str) -> TelegramChannel:
    """Have the webhook of ``ctx`` take the updates that carry ``secret``: a text command
    of a linked resident through the text lane, any other update through ``dp``."""
    channel = TelegramChannel("webhook", secret, webhook_feed(dp, bot), TextLane(dp, bot, ctx))
    ctx.channels[NAME] = channel
    return channel


def polling(ctx: WebContext) -> None:
    """Tell ``ctx`` (``/healthz``) that the bot polls: its webhook stays off."""
    ctx.channels[NAME] = TelegramChannel("polling")


def channel_of(ctx: WebContext) -> TelegramChannel | None:
    channel = ctx.channels.get(NAME)
    return channel if isinstance(channel, TelegramChannel) else None


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
    channel = channel_of(ctx)
    if channel is None or channel.feed is None or not channel.secret:
        raise web.HTTPNotFound()
    if request.headers.get(TELEGRAM_SECRET_HEADER) != channel.secret:
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
    in_flight = channel.in_flight.get(key)
    if in_flight is not None:
        # Telegram gave up waiting and sent it again: answer as the first delivery ends.
        answer = await asyncio.shield(in_flight)
        if answer is None:
            raise web.HTTPInternalServerError(text="update not handled")
        return _webhook_answer(answer)
    done: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
    channel.in_flight[key] = done
    try:
        # taken before anything is awaited: the sender's updates keep their order
        async with channel.turns.hold(_update_sender(update)):
            answer = await _feed_once(ctx, channel, update, key)
        done.set_result(answer)
    except Exception:
        log.exception("Telegram update %s failed: answered 500 for a retry", key)
        raise web.HTTPInternalServerError(text="update not handled") from None
    finally:
        del channel.in_flight[key]
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
    ctx: WebContext, channel: TelegramChannel, update: dict[str, Any], key: str
) -> str:
    """Feed ``update`` unless an earlier delivery of it was handled; the webhook's answer
    ("" for none), the recorded one for a repeated delivery."""
    if channel.lane is not None:
        answer = await channel.lane(update, key)
        if answer is not None:
            return answer
    assert channel.feed is not None  # the webhook is on
    first = await ctx.repos.inbound.record(
        municipality_id=ctx.municipality.id,
        channel=NAME,
        provider_id=key,
        now=iso(ctx.clock.now()),
    )
    if not first:
        handled = await ctx.repos.inbound.reply_to(
            municipality_id=ctx.municipality.id, channel=NAME, provider_id=key
        )
        if handled is not None:
            log.info("Telegram update %s is a duplicate: not handled again", key)
            return handled
        log.info("Telegram update %s was not handled before: feeding it again", key)
    answer = await channel.feed(update) or TELEGRAM_HANDLED
    await ctx.repos.inbound.set_outcome(
        municipality_id=ctx.municipality.id,
        channel=NAME,
        provider_id=key,
        resident_id=None,
        command=_update_kind(update),
        reply=answer,
    )
    return answer


#: the routes the composition root adds to the web server
ROUTES = (web.post("/telegram/webhook", telegram_webhook),)
