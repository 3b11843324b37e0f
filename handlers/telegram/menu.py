"""The main menu (inline buttons) and the language choice.

A menu button runs the very text command it stands for (``handlers.text.HANDLERS``,
which call ``bot.services``) and answers with the same template, so tapping
"About me" and sending ``ME`` can never say different things.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.clock import Clock
from bot.config import LANGUAGES
from bot.rendering.templates import Renderer
from bot.services import residents
from handlers.telegram import screens
from handlers.telegram.filters import LINKED, slash_command
from handlers.telegram.screens import LanguageChoice, MenuAction, callback_chat
from handlers.text import HANDLERS, Context
from storage.models import Municipality, Resident
from storage.repos import Repos

#: menu buttons that are text commands without arguments
COMMAND_BUTTONS = ("me", "stop", "start", "help")


def register(router: Router) -> None:
    router.message.register(show_menu, slash_command, Command("menu"), LINKED)
    router.message.register(show_languages, slash_command, Command("lang", magic=F.args.is_(None)))
    router.callback_query.register(pick_language, LanguageChoice.filter(F.code.in_(LANGUAGES)))
    router.callback_query.register(languages, MenuAction.filter(F.action == "lang"))
    router.callback_query.register(
        command_button, MenuAction.filter(F.action.in_(COMMAND_BUTTONS)), LINKED
    )


async def show_menu(
    message: Message, bot: Bot, renderer: Renderer, resident: Resident, language: str
) -> None:
    await screens.main_menu(renderer, resident, language).send(bot, message.chat.id)


async def show_languages(message: Message, bot: Bot, renderer: Renderer, language: str) -> None:
    """``/lang`` without an argument; ``/lang ru`` is the text command (handlers.text)."""
    await screens.choose_language(renderer, language).send(bot, message.chat.id)


async def languages(callback: CallbackQuery, bot: Bot, renderer: Renderer, language: str) -> None:
    await callback.answer()
    await screens.choose_language(renderer, language).send(bot, callback_chat(callback))


async def pick_language(
    callback: CallbackQuery,
    callback_data: LanguageChoice,
    bot: Bot,
    repos: Repos,
    renderer: Renderer,
    clock: Clock,
    resident: Resident | None,
) -> None:
    """Linked residents keep the choice; others (nothing stored) get the next step in it."""
    code = callback_data.code
    await callback.answer()
    if resident is None:
        await screens.ask_for_contact(renderer, code).send(bot, callback_chat(callback))
        return
    await residents.set_language(repos, resident, code, now=clock.now())
    screen = screens.with_menu(renderer, resident, code, "lang_set")
    await screen.send(bot, callback_chat(callback))


async def command_button(
    callback: CallbackQuery,
    callback_data: MenuAction,
    bot: Bot,
    repos: Repos,
    renderer: Renderer,
    clock: Clock,
    municipality: Municipality,
    resident: Resident,
    language: str,
) -> None:
    await callback.answer()
    ctx = Context(repos, municipality, resident, "", clock.now(), "telegram")
    reply = await HANDLERS[callback_data.action](ctx)
    # STOP/START change the resident: the menu under the answer shows the new state.
    current = await repos.residents.by_id(resident.id) or resident
    language = reply.language or language
    screen = screens.with_menu(renderer, current, language, reply.template, **reply.data)
    await screen.send(bot, callback_chat(callback))
