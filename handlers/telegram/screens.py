"""What the Telegram routers send: texts from templates, keyboards, callback data.

Button labels are templates too (``tg_buttons``: one ``key: label`` per line), so a
translator edits every word the bot shows in ``templates/`` and nowhere else.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated

from aiogram import Bot
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters.callback_data import CallbackData
from aiogram.methods import SendMessage
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    WebAppInfo,
)
from pydantic import Field

from bot.core.languages import LANGUAGES
from bot.core.rendering.templates import Renderer
from handlers.telegram import replies
from storage.models import Resident

log = logging.getLogger(__name__)

ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove

#: Each language is offered under its own name, whatever the reader's language is.
LANGUAGE_NAMES = {"ky": "Кыргызча", "ru": "Русский", "en": "English"}

ALERT_MAX = 200  # characters Telegram shows in a callback answer

#: the largest id a button may carry
MAX_ID = 999_999_999
#: an id in a button's callback data. The data comes from the client: a number out of
#: range (``rsvp:99999999999999999999:yes`` would overflow the database's integer) does
#: not match, and the button is answered as one nobody handles (``text.stale_button``).
ButtonId = Annotated[int, Field(ge=1, le=MAX_ID)]


class LanguageChoice(CallbackData, prefix="lang"):
    """``lang:ru``: the reader picked a language."""

    code: str


class MenuAction(CallbackData, prefix="menu"):
    """``menu:vote``, ``menu:budget``, ``menu:me``, ``menu:lang``, ``menu:stop``, ``menu:start``,
    ``menu:help``."""

    action: str


@dataclass(frozen=True)
class Screen:
    """One message to send: HTML text and an optional keyboard."""

    text: str
    markup: ReplyMarkup | None = None

    def method(self, chat_id: int) -> SendMessage:
        """The message as a Bot API call, for a handler to return as its reply (sent in
        the webhook's answer, or by the polling loop)."""
        return SendMessage(
            chat_id=chat_id, text=self.text, parse_mode=ParseMode.HTML, reply_markup=self.markup
        )

    async def send(self, bot: Bot, chat_id: int, *, busy: bool = False) -> None:
        """Send it now (to the outbox if Telegram is busy, or has just said so: ``busy``;
        see :mod:`replies`)."""
        await replies.send(bot, self.method(chat_id), busy=busy)


def labels(renderer: Renderer, language: str) -> dict[str, str]:
    """Button labels in ``language``, by key (see ``tg_buttons.telegram.j2``)."""
    return renderer.render_table("tg_buttons", language)


def command_descriptions(renderer: Renderer, language: str) -> dict[str, str]:
    """Bot command -> its description in ``language`` (see ``tg_commands.telegram.j2``)."""
    return renderer.render_table("tg_commands", language)


def contact_keyboard(renderer: Renderer, language: str) -> ReplyKeyboardMarkup:
    """The one button that makes the Telegram client share the user's own phone number."""
    button = KeyboardButton(text=labels(renderer, language)["contact"], request_contact=True)
    return ReplyKeyboardMarkup(keyboard=[[button]], resize_keyboard=True)


def language_keyboard() -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            text=LANGUAGE_NAMES[code], callback_data=LanguageChoice(code=code).pack()
        )
        for code in LANGUAGES
    ]
    return InlineKeyboardMarkup(inline_keyboard=[buttons])


def menu_keyboard(
    renderer: Renderer, resident: Resident, language: str, console: str | None = None
) -> InlineKeyboardMarkup:
    """The main menu; the broadcasts button offers the opposite of the current state;
    ``console``: the staff console's address, opened inside Telegram (a Mini App)."""
    label = labels(renderer, language)
    broadcasts = "start" if resident.opted_out else "stop"
    rows = [["vote", "budget"], ["me", "lang"], [broadcasts, "help"]]
    keyboard = [
        [
            InlineKeyboardButton(text=label[key], callback_data=MenuAction(action=key).pack())
            for key in row
        ]
        for row in rows
    ]
    if console:
        keyboard.append(
            [InlineKeyboardButton(text=label["console"], web_app=WebAppInfo(url=console))]
        )
    return InlineKeyboardMarkup(inline_keyboard=keyboard)


def welcome(renderer: Renderer, language: str, municipality: str) -> Screen:
    text = renderer.render("tg_welcome", language, "telegram", municipality=municipality)
    return Screen(text, contact_keyboard(renderer, language))


def ask_for_contact(renderer: Renderer, language: str) -> Screen:
    text = renderer.render("tg_share_phone", language, "telegram")
    return Screen(text, contact_keyboard(renderer, language))


def choose_language(renderer: Renderer, language: str) -> Screen:
    return Screen(renderer.render("tg_choose_language", language, "telegram"), language_keyboard())


def main_menu(
    renderer: Renderer, resident: Resident, language: str, console: str | None = None
) -> Screen:
    text = renderer.render("tg_menu", language, "telegram", name=resident.name)
    return Screen(text, menu_keyboard(renderer, resident, language, console))


def with_menu(
    renderer: Renderer, resident: Resident, language: str, feature: str, **data: object
) -> Screen:
    """An existing template's text with the main menu under it, ready for the next tap."""
    text = renderer.render(feature, language, "telegram", **data)
    return Screen(text, menu_keyboard(renderer, resident, language))


def callback_chat(callback: CallbackQuery) -> int:
    """The chat a button was pressed in (the user's private chat if the message is gone)."""
    return callback.message.chat.id if callback.message else callback.from_user.id


async def edit(bot: Bot, chat_id: int, message_id: int, screen: Screen) -> None:
    """Show ``screen`` in place of message ``message_id`` (its inline keyboard only).

    An edit that changes nothing (a repeated tap) is not an error; a message that cannot
    be edited (gone, too old) raises :class:`TelegramBadRequest`.
    """
    markup = screen.markup if isinstance(screen.markup, InlineKeyboardMarkup) else None
    try:
        await bot.edit_message_text(
            text=screen.text,
            chat_id=chat_id,
            message_id=message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
        )
    except TelegramBadRequest as exc:
        if "message is not modified" not in exc.message:
            raise


async def edit_or_send(bot: Bot, callback: CallbackQuery, screen: Screen) -> None:
    """Show ``screen`` in place of the message whose button was pressed, or if that
    message cannot be edited, anew; anew too if Telegram is busy (the outbox can send
    but not edit: :mod:`replies`)."""
    message, busy = callback.message, False
    if message is not None and not replies.queued():
        try:
            await edit(bot, message.chat.id, message.message_id, screen)
            return
        except TelegramBadRequest as exc:
            log.info("telegram: cannot edit the message (%s); sending anew", exc.message)
        except replies.FOR_THE_MOMENT as exc:
            log.warning("telegram: cannot edit the message now (%s)", type(exc).__name__)
            busy = True
    await screen.send(bot, callback_chat(callback), busy=busy)
