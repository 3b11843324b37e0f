"""Messages a handler sends itself while handling an update, kept when Telegram is busy.

Most replies go back in the webhook's answer; some a handler sends itself (``/start``
sends two, a button's handler edits its message or sends one anew). If Telegram refuses
one for the moment (429 with ``retry_after``, a 5xx, the network), letting the error
through would answer the webhook 500, and Telegram would deliver the update again:
handled twice, and the messages before sent twice. Instead the message goes into the
durable outbox, keyed by the update and its place among the update's messages, and the
outbox worker sends it once, as it sends every message (``retry_after`` honoured).
Once one message of an update is queued, the update's further messages are queued
behind it: they keep their order. (No handler both sends messages itself and returns
one for the webhook's answer, which would overtake them.)

An answer to a button press (it stops the button's spinner) that fails for the moment
is let go: it has no later (the spinner stops by itself).
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import (
    AnswerCallbackQuery,
    SendMediaGroup,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import BufferedInputFile, InputFile, TelegramObject, Update

from bot.core.clock import Clock
from bot.core.services import outbound
from storage.models import OutboxDraft
from storage.repos import Repos

log = logging.getLogger(__name__)

#: what a handler sends itself: a text, a photo, an album
Reply = SendMessage | SendPhoto | SendMediaGroup

#: what Telegram may answer for the moment: the same request later will do
FOR_THE_MOMENT = (TelegramRetryAfter, TelegramServerError, TelegramNetworkError)


@dataclass
class UpdateReplies:
    """The messages of the update being handled: how many so far, and whether they go
    to the outbox now."""

    repos: Repos
    municipality_id: int
    update_id: int
    clock: Clock
    count: int = 0
    queued: bool = False

    async def send(self, bot: Bot, method: Reply, *, busy: bool = False) -> Any:
        """Send ``method`` now and return what Telegram answered; to the outbox (None) if
        Telegram refuses it for the moment, if a message of the update before it went
        there, or if ``busy`` (Telegram has just refused another request of the update for
        the moment)."""
        self.count += 1
        self.queued = self.queued or busy
        if not self.queued:
            try:
                return await bot(method)
            except FOR_THE_MOMENT as exc:
                log.warning(
                    "Telegram update %s: message %d refused for the moment (%s): queued",
                    self.update_id,
                    self.count,
                    type(exc).__name__,
                )
                self.queued = True
        await self.queue(method)
        return None

    async def queue(self, method: Reply) -> None:
        key = f"telegram:{self.municipality_id}:update:{self.update_id}:reply:{self.count}"
        if isinstance(method, SendMessage):
            markup = method.reply_markup
            draft = OutboxDraft(
                self.municipality_id,
                key,
                "telegram",
                str(method.chat_id),
                method.text,
                reply_markup=markup.model_dump_json(exclude_none=True) if markup else None,
                private=True,
            )
        else:  # photos: a budget chart, an act's pictures (public, not sealed)
            if isinstance(method, SendPhoto):
                photos, caption = [method.photo], method.caption
            else:
                photos = [item.media for item in method.media]
                caption = method.media[0].caption
            draft = OutboxDraft(
                self.municipality_id,
                key,
                "telegram",
                str(method.chat_id),
                caption or "",
                media=media_json(photos),
            )
        await outbound.enqueue(self.repos, [draft], now=self.clock.now())


_current: ContextVar[UpdateReplies | None] = ContextVar("telegram_update_replies", default=None)


async def send(bot: Bot, method: Reply, *, busy: bool = False) -> Any:
    """Send a handler's message: while an update is handled, as :class:`UpdateReplies`
    does (None if it was queued); otherwise (no update: a job) just send it."""
    replies = _current.get()
    if replies is None:
        return await bot(method)
    return await replies.send(bot, method, busy=busy)


def queued() -> bool:
    """Whether a message of the update being handled went to the outbox (what is shown
    next should go the same way)."""
    replies = _current.get()
    return replies is not None and replies.queued


Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class RepliesMiddleware(BaseMiddleware):
    """An outer middleware of updates (after ``DatabaseMiddleware``): the update's
    :class:`UpdateReplies` while it is handled. Also lets go of the bot's button answers
    refused for the moment (:class:`LetGoOfCallbackAnswers`)."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        _install(data["bot"])
        replies = UpdateReplies(
            data["repos"], data["municipality"].id, event.update_id, data["clock"]
        )
        token = _current.set(replies)
        try:
            return await handler(event, data)
        finally:
            _current.reset(token)


class LetGoOfCallbackAnswers(BaseRequestMiddleware):
    """A request middleware of the bot's session: while an update is handled, a button
    answer that Telegram refuses for the moment is let go (``True``, as if answered)."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Any:
        if _current.get() is None or not isinstance(method, AnswerCallbackQuery):
            return await make_request(bot, method)
        try:
            return await make_request(bot, method)
        except FOR_THE_MOMENT as exc:
            log.warning("Telegram button answer let go (%s)", type(exc).__name__)
            return True


def _install(bot: Bot) -> None:
    """Let go of the button answers of ``bot`` that Telegram refuses for the moment
    (once per bot)."""
    if not any(isinstance(m, LetGoOfCallbackAnswers) for m in bot.session.middleware):
        bot.session.middleware(LetGoOfCallbackAnswers())


def media_json(photos: Sequence[str | InputFile]) -> str:
    """The ``media`` of an outbox row (``bot.channels.telegram.sender`` reads it): photos by
    Telegram ``file_id`` (a photo Telegram has), or as the bytes of a picture not yet
    uploaded (base64, with its file name)."""
    items: list[dict[str, str]] = []
    for photo in photos:
        if isinstance(photo, str):
            items.append({"file_id": photo})
        elif isinstance(photo, BufferedInputFile):
            data = base64.b64encode(photo.data).decode()
            items.append({"png": data, "filename": photo.filename or "photo.png"})
        else:
            raise TypeError(f"a photo to queue must be a file_id or bytes, not {photo!r}")
    return json.dumps({"photos": items})
