"""Live progress of a broadcast for its author: one Telegram message, edited in place.

When staff confirm a broadcast in Telegram, the reply is the progress message (sent by
``handlers.telegram.broadcasts.show_progress``, with a Cancel button while messages
wait); its chat and message id are kept on the broadcast. :class:`ProgressEditor` then looks
every few seconds for broadcasts whose outbox rows changed since its last look, renders
the counts again in the author's language and edits the message only when the text
would change. Edits are few (at most one per broadcast per look), so they go straight
to the Bot API rather than through the outbox; a 429 pauses the editor for
``retry_after``, a failed edit is tried again at the next look.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from aiogram import Bot
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)

from bot.core.clock import Clock, iso
from bot.core.rendering.templates import Renderer
from bot.core.services import broadcast
from handlers.telegram import screens
from handlers.telegram.broadcasts import stop_keyboard
from storage.broadcasts import ProgressMessage
from storage.repos import Repos

log = logging.getLogger(__name__)

#: How often the editor looks (seconds).
INTERVAL = 3.0


class ProgressEditor:
    """Keeps the progress messages of one municipality's broadcasts up to date."""

    def __init__(
        self, bot: Bot, repos: Repos, renderer: Renderer, *, municipality_id: int, clock: Clock
    ) -> None:
        self.bot = bot
        self.repos = repos
        self.renderer = renderer
        self.municipality_id = municipality_id
        self.clock = clock
        self._resume_at: datetime | None = None

    async def tick(self) -> int:
        """One look: edit every progress message whose text changed; return how many."""
        now = self.clock.now()
        if self._resume_at is not None and now < self._resume_at:
            return 0
        checked_at = iso(now - broadcast.PROGRESS_SETTLE)
        edited = 0
        for target in await self.repos.broadcasts.progress_due(self.municipality_id):
            text, done = await broadcast.render_progress(
                self.repos, self.renderer, target.broadcast_id, target.language
            )
            if text != target.text:
                try:
                    edited += await self._edit(target, text, done)
                except TelegramRetryAfter as exc:
                    log.info("broadcast progress: rate limited, pausing %ss", exc.retry_after)
                    self._resume_at = now + timedelta(seconds=exc.retry_after)
                    return edited
                except (TelegramNetworkError, TelegramServerError) as exc:
                    log.warning("broadcast %s progress: %s", target.broadcast_id, exc.message)
                    continue  # not recorded: tried again at the next look
            await self.repos.broadcasts.set_progress_shown(
                target.broadcast_id, text=text, checked_at=checked_at
            )
        return edited

    async def _edit(self, target: ProgressMessage, text: str, done: bool) -> int:
        """Edit the message, with its Cancel button until ``done``; 1 if edited, 0 if
        there is nothing (more) to do about it."""
        markup = None
        if not done:
            labels = screens.labels(self.renderer, target.language)
            markup = stop_keyboard(labels, target.broadcast_id)
        try:
            await self.bot.edit_message_text(
                text=text,
                chat_id=target.chat_id,
                message_id=target.message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
            )
        except TelegramBadRequest as exc:
            if "message is not modified" in exc.message:
                return 0  # it already reads so (e.g. another process edited it)
            # deleted by the user, too old to edit...: this text is given up
            log.warning("broadcast %s progress: %s", target.broadcast_id, exc.message)
            return 0
        except TelegramForbiddenError as exc:
            log.warning("broadcast %s progress: %s", target.broadcast_id, exc.message)
            return 0
        return 1

    async def run(self, stop: asyncio.Event, interval: float = INTERVAL) -> None:
        """Look every ``interval`` seconds until ``stop`` is set."""
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:  # a bad look must not end live progress for good
                log.exception("broadcast progress: look failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
