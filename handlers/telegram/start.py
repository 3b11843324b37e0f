"""``/start`` (with or without a deep-link payload): welcome, or the main menu when linked."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message

from handlers.telegram import screens
from handlers.telegram.filters import slash_command
from handlers.telegram.turn import Turn

log = logging.getLogger(__name__)


def register(router: Router) -> None:
    router.message.register(start, slash_command, CommandStart())


async def start(message: Message, command: CommandObject, turn: Turn) -> None:
    # The payload (t.me/<bot>?start=<payload>) is kept in ``command.args`` for features
    # that want it (e.g. a link to one hearing); nothing is stored.
    log.debug("telegram /start: payload=%r linked=%s", command.args, turn.resident is not None)
    chat, renderer, language = message.chat.id, turn.renderer, turn.language
    if turn.resident is not None:
        await screens.main_menu(renderer, turn.resident, language).send(turn.bot, chat)
        return
    await screens.welcome(renderer, language, turn.municipality.name).send(turn.bot, chat)
    await screens.choose_language(renderer, language).send(turn.bot, chat)
