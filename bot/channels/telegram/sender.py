"""Sending through the Telegram Bot API with aiogram, errors mapped to retry or give up.

A row may carry photos (``media``, JSON: ``handlers.telegram.replies.media_json``): a
handler's photo reply that Telegram refused for the moment. They go as one photo or an
album, the body as the caption of the first.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import datetime

from aiogram import Bot
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaPhoto,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.outbox.channel import PermanentFailure, TemporaryFailure


class TelegramSender:
    channel = "telegram"

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.rate_key = f"telegram:{bot.id}"

    async def send(
        self,
        address: str,
        body: str,
        reply_markup: str | None = None,
        media: str | None = None,
    ) -> str | None:
        markup = _markup(reply_markup) if reply_markup else None
        try:
            if media:
                message = await self._send_photos(int(address), body, photos_of(media))
            else:
                message = await self.bot.send_message(
                    chat_id=int(address), text=body, parse_mode=ParseMode.HTML, reply_markup=markup
                )
        except TelegramRetryAfter as exc:
            raise TemporaryFailure("telegram: too many requests", exc.retry_after) from exc
        except TelegramForbiddenError as exc:
            raise PermanentFailure(f"telegram: {exc.message}", blocked=True) from exc
        except (TelegramBadRequest, TelegramUnauthorizedError) as exc:
            raise PermanentFailure(f"telegram: {exc.message}") from exc
        except (TelegramServerError, TelegramNetworkError) as exc:
            raise TemporaryFailure(f"telegram: {exc.message}") from exc
        return f"{message.chat.id}:{message.message_id}"

    async def _send_photos(
        self, chat_id: int, caption: str, photos: Sequence[str | InputFile]
    ) -> Message:
        """One photo, or an album of up to ten; the caption (if any) on the first."""
        if len(photos) == 1:
            return await self.bot.send_photo(
                chat_id, photos[0], caption=caption or None, parse_mode=ParseMode.HTML
            )
        album = [
            InputMediaPhoto(
                media=photo,
                caption=(caption or None) if n == 0 else None,
                parse_mode=ParseMode.HTML,
            )
            for n, photo in enumerate(photos)
        ]
        sent = await self.bot.send_media_group(chat_id, media=list(album))
        return sent[0]

    async def find_sent(self, address: str, body: str, since: datetime) -> list[str]:
        """Telegram cannot tell: a send cut short by a crash is sent again."""
        return []


def _markup(text: str) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove:
    """The keyboard of an outbox row: inline buttons (an invitation's RSVP), or a reply
    keyboard a handler's message had when it was queued (``handlers.telegram.replies``)."""
    fields = json.loads(text)
    if "keyboard" in fields:
        return ReplyKeyboardMarkup.model_validate(fields)
    if "remove_keyboard" in fields:
        return ReplyKeyboardRemove.model_validate(fields)
    return InlineKeyboardMarkup.model_validate(fields)


def photos_of(media: str) -> list[str | InputFile]:
    """The photos of a row's ``media`` (``handlers.telegram.replies.media_json``), ready
    for the Bot API."""
    photos: list[str | InputFile] = []
    for item in json.loads(media)["photos"]:
        if "file_id" in item:
            photos.append(item["file_id"])
        else:
            photos.append(BufferedInputFile(base64.b64decode(item["png"]), item["filename"]))
    return photos
