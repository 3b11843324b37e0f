"""A monitoring act's photo as a small JPEG, for the public pages and the console alike:
fetched from Telegram by its file id once, made a thumbnail without its metadata
(:mod:`bot.core.rendering.thumbnails`), kept in a :class:`PageCache` and answered with
``304`` to a reader who has it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import web

from bot.core.rendering.thumbnails import NotAPicture, thumbnail
from bot.webui.public.cache import PageCache, respond

#: thumbnails kept in memory (about 20 KB each)
THUMBNAILS = 256
#: a Telegram file's bytes by its file id (None: not available now)
Fetch = Callable[[str], Awaitable[bytes | None]]


async def thumbnail_response(
    request: web.Request, fetch: Fetch, thumbnails: PageCache, file_id: str, *,
    now: datetime, headers: dict[str, str], cache_control: str,
) -> web.Response:  # fmt: skip
    """The thumbnail of Telegram's file ``file_id``. Raises ``HTTPNotFound`` (not a
    picture) or ``HTTPServiceUnavailable`` (Telegram would not give it now: try later)."""

    async def build() -> tuple[bytes, str]:
        data = await fetch(file_id)
        if data is None:
            raise web.HTTPServiceUnavailable()
        try:
            return await asyncio.to_thread(thumbnail, data), "image/jpeg"
        except NotAPicture:
            raise web.HTTPNotFound() from None

    return await respond(
        request, thumbnails, ("photo", file_id), "", build, now=now, headers=headers,
        cache_control=cache_control,
    )  # fmt: skip
