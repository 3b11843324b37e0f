"""What every Telegram handler is given: the update's :class:`Turn`.

aiogram hands a handler the update's data by parameter name. Rather than every handler
naming the seven things nearly all of them use, ``LocaleMiddleware``
(``bot.channels.telegram.dispatcher``) builds one ``Turn`` per update and handlers ask for ``turn``
(next to what is theirs alone: the FSM ``state``, ``callback_data``, a filter's
``args``). Filters and middlewares still read ``resident`` from the data
(``filters.LINKED``).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiogram import Bot

from bot.core.clock import Clock
from bot.core.rendering.templates import Renderer
from bot.core.services.audit import Actor
from handlers.context import Context
from handlers.telegram import screens
from storage.models import Municipality, Resident
from storage.repos import Repos


@dataclass(frozen=True)
class Turn:
    """One Telegram update: who sent it, the language to answer in, and what answers."""

    bot: Bot
    repos: Repos
    renderer: Renderer
    clock: Clock
    #: the municipality this bot serves
    municipality: Municipality
    #: the resident the Telegram account is linked to; None if it is not (yet)
    resident: Resident | None
    #: chosen once per update (``bot.channels.telegram.dispatcher.choose_language``)
    language: str

    @property
    def now(self) -> datetime:
        """The clock read anew at each use."""
        return self.clock.now()

    @property
    def linked(self) -> Resident:
        """The resident, in a handler behind ``LINKED`` or ``STAFF_ONLY`` (there is one)."""
        assert self.resident is not None, "a handler for linked residents only"
        return self.resident

    @property
    def actor(self) -> Actor:
        """The linked resident as the audit trail names a staff action on Telegram."""
        return Actor.of(self.linked, "telegram")

    def text(self, feature: str, **data: Any) -> str:
        """``feature``'s template in the turn's language, as Telegram HTML."""
        return self.renderer.render(feature, self.language, "telegram", **data)

    def plain(self, feature: str, **data: Any) -> str:
        """The template as plain text: button labels and callback answers are not HTML."""
        return html.unescape(self.text(feature, **data))

    def alert(self, feature: str, **data: Any) -> str:
        """The template as a callback answer: plain text, cut to what Telegram shows."""
        return self.plain(feature, **data)[: screens.ALERT_MAX]

    def with_menu(self, feature: str, **data: Any) -> screens.Screen:
        """The template with the main menu under it (``screens.with_menu``)."""
        return screens.with_menu(self.renderer, self.linked, self.language, feature, **data)

    def labels(self) -> dict[str, str]:
        """Button labels in the turn's language, by key."""
        return screens.labels(self.renderer, self.language)

    def ctx(self, args: str = "") -> Context:
        """What a shared text command (``handlers.text``) gets: the linked resident's
        command with ``args``, now, on the Telegram channel."""
        return Context(self.repos, self.municipality, self.linked, args, self.now, "telegram")
