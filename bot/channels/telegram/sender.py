"""Sending through the Telegram Bot API with aiogram, errors mapped to retry or give up."""

from __future__ import annotations

import json
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
from aiogram.types import InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove

from bot.outbox.channel import PermanentFailure, TemporaryFailure


class TelegramSender:
    channel = "telegram"

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.rate_key = f"telegram:{bot.id}"

    async def send(self, address: str, body: str, reply_markup: str | None = None) -> str | None:
        markup = _markup(reply_markup) if reply_markup else None
        try:
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
