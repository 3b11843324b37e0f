"""A shared contact links the Telegram account to the resident with that phone number.

Only the user's OWN contact counts: the Telegram client's ``request_contact`` button
sends ``contact.user_id == from.id``, which proves the number; a forwarded contact
card proves nothing and changes nothing.
"""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import Message, ReplyKeyboardRemove

from bot.core.services import residents
from handlers.telegram import filters, screens
from handlers.telegram.menu import PICKED
from handlers.telegram.turn import Turn

log = logging.getLogger(__name__)


def register(router: Router) -> None:
    router.message.register(own_contact, filters.own_contact)
    router.message.register(someone_elses_contact, filters.has_contact)


async def own_contact(message: Message, turn: Turn, state: FSMContext) -> None:
    assert message.contact is not None and message.from_user is not None  # the filters
    # the language the chat was in: picked with a button, else the Telegram app's
    resident = await residents.link_telegram(
        turn.repos,
        turn.municipality,
        message.from_user.id,
        message.contact.phone_number,
        now=turn.now,
        picked=(await state.get_data()).get(PICKED),
        app_language=turn.language,
    )
    if resident is None:
        log.info("telegram contact: number not in the register")
        await screens.Screen(turn.text("unregistered")).send(turn.bot, message.chat.id)
        return
    log.info("telegram contact: linked resident=%s", resident.id)
    # From now on in the resident's own language, not the one this update came in.
    renderer = turn.renderer
    greeting = renderer.render("tg_linked", resident.language, "telegram", name=resident.name)
    await screens.Screen(greeting, ReplyKeyboardRemove()).send(turn.bot, message.chat.id)
    await screens.main_menu(renderer, resident, resident.language).send(turn.bot, message.chat.id)


async def someone_elses_contact(message: Message, turn: Turn) -> None:
    log.info("telegram contact refused: not the sender's own")
    await screens.Screen(turn.text("tg_not_own_contact")).send(turn.bot, message.chat.id)
