"""Files people sent the bot, fetched back from Telegram (e.g. a monitoring act's photos
for the public pages: Telegram keeps them, the database keeps their ``file_id``)."""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable, Callable

import aiohttp
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

log = logging.getLogger(__name__)

#: a photo larger than this is not fetched (Telegram's photos are far smaller)
MAX_BYTES = 10 * 1024 * 1024


def file_fetcher(bot: Bot) -> Callable[[str], Awaitable[bytes | None]]:
    """``fetch(file_id)``: the file's bytes over ``bot``'s session, or None when Telegram
    will not give it now (unknown, too large, or unreachable)."""

    async def fetch(file_id: str) -> bytes | None:
        try:
            file = await bot.get_file(file_id)
            if file.file_path is None or (file.file_size or 0) > MAX_BYTES:
                return None
            out = io.BytesIO()
            await bot.download_file(file.file_path, out)
        except (TimeoutError, TelegramAPIError, aiohttp.ClientError) as exc:
            log.warning("a file from Telegram is not available: %s", type(exc).__name__)
            return None
        return out.getvalue()

    return fetch
