"""The main menu (inline buttons) and the language choice.

A menu button runs the very text command it stands for (``handlers.text.HANDLERS``,
which call ``bot.core.services``) and answers with the same template, so tapping
"About me" and sending ``ME`` can never say different things. The menu lives in one
message: a tap shows its answer in place of the menu (``screens.edit_or_send``), with the
menu, or a button back to it (``screens.with_back``), under it. The buttons of other
features (vote, budget, projects, rate) are handled in their modules, the same way.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.core.languages import LANGUAGES
from bot.core.services import residents
from bot.core.services.roles import is_staff
from handlers.telegram import screens
from handlers.telegram.filters import LINKED, slash_command
from handlers.telegram.screens import LanguageChoice, MenuAction, callback_chat, edit_or_send
from handlers.telegram.turn import Turn
from handlers.text import HANDLERS

#: menu buttons that are text commands without arguments
COMMAND_BUTTONS = ("hearings", "problems", "me", "stop", "start", "help")
#: the key, in an unlinked chat's FSM data, of the language picked before sharing the contact
PICKED = "language"


def register(router: Router) -> None:
    router.message.register(show_menu, slash_command, Command("menu"), LINKED)
    router.message.register(show_languages, slash_command, Command("lang", magic=F.args.is_(None)))
    router.callback_query.register(pick_language, LanguageChoice.filter(F.code.in_(LANGUAGES)))
    router.callback_query.register(languages, MenuAction.filter(F.action == "lang"))
    router.callback_query.register(back, MenuAction.filter(F.action == screens.BACK), LINKED)
    router.callback_query.register(
        command_button, MenuAction.filter(F.action.in_(COMMAND_BUTTONS)), LINKED
    )


async def show_menu(message: Message, turn: Turn, console_url: str | None = None) -> None:
    """The main menu; a staff member's also opens the web console inside Telegram
    (``console_url``: the dispatcher's, set when PUBLIC_BASE_URL is HTTPS)."""
    console = console_url if console_url and await is_staff(turn.repos, turn.linked) else None
    await screens.main_menu(turn.renderer, turn.linked, turn.language, console).send(
        turn.bot, message.chat.id
    )


async def show_languages(message: Message, turn: Turn) -> None:
    """``/lang`` without an argument; ``/lang ru`` is the text command (handlers.text)."""
    await screens.choose_language(turn.renderer, turn.language).send(turn.bot, message.chat.id)


async def back(callback: CallbackQuery, turn: Turn) -> None:
    """``menu:menu``: the main menu in place of the message the button is under."""
    await callback.answer()
    current = await residents.current(turn.repos, turn.linked)
    await edit_or_send(turn.bot, callback, screens.main_menu(turn.renderer, current, turn.language))


async def languages(callback: CallbackQuery, turn: Turn) -> None:
    await callback.answer()
    screen = screens.choose_language(turn.renderer, turn.language)
    if turn.resident is None:
        await screen.send(turn.bot, callback_chat(callback))
        return
    await edit_or_send(turn.bot, callback, screens.with_back(turn.renderer, turn.language, screen))


async def pick_language(
    callback: CallbackQuery, callback_data: LanguageChoice, turn: Turn, state: FSMContext
) -> None:
    """Linked residents keep the choice; others get the next step in it, and the choice
    waits in the chat's FSM data (``PICKED``) for their contact to link them."""
    code, chat = callback_data.code, callback_chat(callback)
    await callback.answer()
    if turn.resident is None:
        await state.update_data({PICKED: code})
        await screens.ask_for_contact(turn.renderer, code).send(turn.bot, chat)
        return
    await residents.set_language(turn.repos, turn.resident, code, now=turn.now)
    screen = screens.with_menu(turn.renderer, turn.resident, code, "lang_set")
    await edit_or_send(turn.bot, callback, screen)


async def command_button(callback: CallbackQuery, callback_data: MenuAction, turn: Turn) -> None:
    await callback.answer()
    reply = await HANDLERS[callback_data.action](turn.ctx())
    # STOP/START change the resident: the menu under the answer shows the new state.
    current = await residents.current(turn.repos, turn.linked)
    language = reply.language or turn.language
    screen = screens.with_menu(turn.renderer, current, language, reply.template, **reply.data)
    await edit_or_send(turn.bot, callback, screen)
