"""``/start`` (with or without a deep-link payload): welcome, or the main menu when linked."""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message

from bot.rendering.templates import Renderer
from handlers.telegram import screens
from handlers.telegram.filters import slash_command
from storage.models import Municipality, Resident

log = logging.getLogger(__name__)


def register(router: Router) -> None:
    router.message.register(start, slash_command, CommandStart())


async def start(
    message: Message,
    command: CommandObject,
    bot: Bot,
    renderer: Renderer,
    municipality: Municipality,
    resident: Resident | None,
    language: str,
) -> None:
    # The payload (t.me/<bot>?start=<payload>) is kept in ``command.args`` for features
    # that want it (e.g. a link to one hearing); nothing is stored.
    log.debug("telegram /start: payload=%r linked=%s", command.args, resident is not None)
    chat = message.chat.id
    if resident is not None:
        await screens.main_menu(renderer, resident, language).send(bot, chat)
        return
    await screens.welcome(renderer, language, municipality.name).send(bot, chat)
    await screens.choose_language(renderer, language).send(bot, chat)
