"""What the Telegram routers send: texts from templates, keyboards, callback data.

Button labels are templates too (``tg_buttons``: one ``key: label`` per line), so a
translator edits every word the bot shows in ``templates/`` and nowhere else.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Annotated, Any

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
    """A main menu button (``menu:vote``, ``menu:hearings``, ``menu:budget``, ... one per
    key of :data:`MENU_ROWS`), or ``menu:menu``: back to the main menu."""

    action: str


#: the main menu's buttons, row by row (label keys of ``tg_buttons``); ``broadcasts`` is
#: ``stop`` or ``start``, the opposite of the resident's state
MENU_ROWS = (
    ("hearings", "vote"),
    ("budget", "projects"),
    ("rate", "problems"),
    ("me", "lang"),
    ("broadcasts", "help"),
)
MENU_PREFIX = f"{MenuAction.__prefix__}{MenuAction.__separator__}"
#: the button that brings the main menu back in place of the message it is under
BACK = "menu"


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


def answer_json(fields: dict[str, Any]) -> str:
    """A webhook's answer: a Bot API method and its fields as compact JSON."""
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))


def text_answer(chat_id: int, text: str) -> str:
    """The webhook's answer that sends ``text`` (HTML, no keyboard) to ``chat_id``: what
    ``bot.channels.telegram.dispatcher.webhook_answer`` makes of
    ``Screen(text).method(chat_id)`` for civic-bot's bot (no default properties), without
    building and dumping aiogram's model (a tenth of a text command's time in
    ``bench/inbound.py``). A text command's recorded answer, whichever way it came."""
    return answer_json(
        {"method": "sendMessage", "chat_id": chat_id, "text": text, "parse_mode": "HTML"}
    )


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
    keyboard = [
        [_menu_button(label, broadcasts if key == "broadcasts" else key) for key in row]
        for row in MENU_ROWS
    ]
    if console:
        keyboard.append(
            [InlineKeyboardButton(text=label["console"], web_app=WebAppInfo(url=console))]
        )
    return InlineKeyboardMarkup(inline_keyboard=keyboard)


def _menu_button(label: dict[str, str], key: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=label[key], callback_data=MenuAction(action=key).pack())


def with_back(renderer: Renderer, language: str, screen: Screen) -> Screen:
    """``screen`` shown from the main menu: a button back to the menu under its own
    buttons (none if it carries the menu already, or a keyboard that is not inline)."""
    markup = screen.markup
    if markup is not None and not isinstance(markup, InlineKeyboardMarkup):
        return screen
    rows = list(markup.inline_keyboard) if markup else []
    if any((b.callback_data or "").startswith(MENU_PREFIX) for row in rows for b in row):
        return screen
    back = [_menu_button(labels(renderer, language), BACK)]
    return Screen(screen.text, InlineKeyboardMarkup(inline_keyboard=[*rows, back]))


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
