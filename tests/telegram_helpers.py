"""What the Telegram tests share: a quick plain-HTTP aiogram session, feeding an
update the way ``civic-bot run`` does (fixtures ``api``, ``bot``, ``dp``, ``feed`` in
``tests/conftest.py``), and the webhook server as ``civic-bot run`` wires it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiohttp.test_utils import TestServer

from bot.app import http_app
from bot.channels.telegram import webhook
from bot.channels.telegram.dispatcher import build_dispatcher
from bot.core.clock import Clock
from bot.core.rendering.templates import Renderer
from bot.runtime.web import WebContext
from storage.models import Municipality
from storage.repos import Repos
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.webhooks import telegram_callback_update, telegram_message_update

TOKEN = "123456:TEST"
#: what shows a screen: a message sent, or one edited in place
SCREEN_METHODS = ("sendMessage", "editMessageText")


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


def buttons(params: dict[str, Any]) -> list[dict[str, Any]]:
    """The buttons of a message (inline or reply keyboard), row after row."""
    markup = params.get("reply_markup") or {}
    rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
    return [button for row in rows for button in row]


class TelegramApp:
    """A Telegram user's app: sends text, presses the buttons it was shown. Its updates
    are fed to ``dp`` as ``civic-bot run`` feeds them; what it is shown is what the fake
    Bot API ``api`` received for its chat."""

    def __init__(self, dp: Dispatcher, bot: Bot, api: FakeTelegramAPI, user: int) -> None:
        self.dp, self.bot, self.api, self.user = dp, bot, api, user

    async def feed(self, update: dict[str, Any]) -> None:
        await feed_update(self.dp, self.bot, update)

    async def say(self, text: str, chat_id: int | None = None) -> None:
        await self.feed(telegram_message_update(text, self.user, chat_id))

    def calls(self, method: str) -> list[Any]:
        return [c for c in self.api.calls(method) if str(c.params.get("chat_id")) == str(self.user)]

    def screens(self) -> list[Any]:
        return [
            c
            for c in self.api.calls()
            if c.method in SCREEN_METHODS and str(c.params.get("chat_id")) == str(self.user)
        ]

    def screen(self) -> dict[str, Any]:
        """The params of the last message sent or edited: what the user looks at."""
        return self.screens()[-1].params

    def shown(self) -> list[str]:
        return [b["callback_data"] for b in buttons(self.screen())]

    def message_id(self) -> int:
        """The message the last screen is in (sent, or edited in place)."""
        last = self.screens()[-1]
        if last.method == "editMessageText":
            return int(last.params["message_id"])
        return int(last.response["result"]["message_id"])

    async def press(self, data: str) -> dict[str, Any]:
        """Press a button of the last screen; the answerCallbackQuery it got."""
        assert data in self.shown(), (data, self.shown())
        update = telegram_callback_update(data, self.user, message_id=self.message_id())
        await self.feed(update)
        [answer] = [
            c.params
            for c in self.api.calls("answerCallbackQuery")
            if c.params["callback_query_id"] == update["callback_query"]["id"]
        ]
        return answer


@dataclass
class LiveWebhook:
    """The production web app on 127.0.0.1, its context and a client session."""

    ctx: WebContext
    server: TestServer
    http: aiohttp.ClientSession


@contextlib.asynccontextmanager
async def live_webhook(
    repos: Repos,
    renderer: Renderer,
    clock: Clock,
    municipality: Municipality,
    api: FakeTelegramAPI,
    *,
    secret: str,
    token: str = TOKEN,
    **context: Any,
) -> AsyncIterator[LiveWebhook]:
    """``bot.app.http_app`` with the Telegram webhook as ``civic-bot run`` wires it: the
    real dispatcher and text lane on the one connection, a bot whose Bot API is ``api``
    (``context``: more fields of the ``WebContext``, e.g. Twilio's)."""
    bot = fake_bot(api, token)
    ctx = WebContext(
        repos=repos, renderer=renderer, clock=clock, municipality=municipality, **context
    )
    dp = build_dispatcher(
        repos=repos, renderer=renderer, clock=clock, municipality=municipality, batches=ctx.batches
    )
    webhook.attach(ctx, dp, bot, secret=secret)
    try:
        async with (
            TestServer(http_app(ctx), host="127.0.0.1") as server,
            aiohttp.ClientSession() as http,
        ):
            yield LiveWebhook(ctx, server, http)
    finally:
        await bot.session.close()
