"""Sending through the Telegram Bot API with aiogram, errors mapped to retry or give up."""

from __future__ import annotations

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
from aiogram.types import InlineKeyboardMarkup

from bot.delivery.senders import PermanentFailure, TemporaryFailure


class TelegramSender:
    channel = "telegram"

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.rate_key = f"telegram:{bot.id}"

    async def send(self, address: str, body: str, reply_markup: str | None = None) -> str | None:
        markup = InlineKeyboardMarkup.model_validate_json(reply_markup) if reply_markup else None
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
