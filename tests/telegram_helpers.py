"""What the Telegram tests share: a quick plain-HTTP aiogram session, and feeding an
update the way ``civic-bot run`` does (fixtures ``api``, ``bot``, ``dp``, ``feed`` in
``tests/conftest.py``)."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import TelegramMethod
from aiogram.types import Update

from tests.fakes.telegram_api import FakeTelegramAPI

TOKEN = "123456:TEST"


class PlainHTTPSession(AiohttpSession):
    """aiogram's session without the 250 ms wait on close meant for TLS connections
    (the fake is plain HTTP on 127.0.0.1): a quarter second saved per test."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def fake_bot(api: FakeTelegramAPI, token: str = TOKEN) -> Bot:
    """A bot whose Bot API is ``api``; close with ``await bot.session.close()``."""
    return Bot(token, session=PlainHTTPSession(api=TelegramAPIServer.from_base(api.base_url)))


async def feed_update(dp: Dispatcher, bot: Bot, update: dict[str, Any]) -> None:
    """Feed a raw update as ``civic-bot run`` does: a Bot API method the handler returns
    (a reply) is sent, as Telegram does with a webhook's answer and the polling loop
    does itself."""
    result = await dp.feed_update(bot, Update.model_validate(update, context={"bot": bot}))
    if isinstance(result, TelegramMethod):
        await bot(result)
