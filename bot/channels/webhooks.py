"""The aiohttp handler every gateway's webhook shares: read, verify and parse, record, answer.

A gateway supplies ``parse`` (raw body and headers → its typed event, ``None`` for an
event it ignores, :class:`WebhookRejected` for anything not from it or malformed). The
answer is 2xx only once ``on_event`` recorded the event, so a gateway that retries until
it gets one never loses an event; no input gets a 5xx (a failing ``on_event`` answers
503: the database, not the request, failed, and the gateway should try again).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from bot.channels.events import Event, EventHandler

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024

Parse = Callable[[bytes, Mapping[str, str]], Event | None]


class WebhookRejected(Exception):
    """Not from our gateway or not of the expected shape; ``status``: the HTTP answer."""

    def __init__(self, reason: str, status: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def event_handler(
    name: str, parse: Parse, on_event: EventHandler
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """An aiohttp handler for gateway ``name``'s webhook URL (see the module docstring)."""

    async def handle(request: web.Request) -> web.Response:
        body = await request.content.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            return web.json_response({"error": "too large"}, status=413)
        try:
            event = parse(body, request.headers)
        except WebhookRejected as exc:
            log.info("%s webhook rejected: %s", name, exc.reason)
            return web.json_response({"error": exc.reason}, status=exc.status)
        if event is not None:
            try:
                await on_event(event)
            except Exception:
                log.exception("%s webhook event not recorded: answered 503 for a retry", name)
                return web.json_response({"error": "try again"}, status=503)
        return web.Response(status=204)

    return handle
