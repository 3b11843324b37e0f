"""Hearings for residents: the RSVP buttons under an invitation, and ``/hearings``.

Invitations go out through the outbox with ``rsvp:<hearing>:<yes|no|maybe>`` buttons
(``bot.core.rendering.buttons.rsvp_buttons``); :class:`Rsvp` must pack exactly that. A tap
calls ``hearings.answer`` (the same call as the SMS ``H12 YES``) and turns the
invitation into the confirmation with the personal check-in code, buttons kept: another
tap replaces the answer and keeps the code.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.core.rendering.buttons import rsvp_buttons
from bot.core.services import hearings
from bot.core.services.errors import Refused
from handlers.hearing_commands import list_hearings
from handlers.telegram import screens
from handlers.telegram.filters import LINKED, slash_command
from handlers.telegram.screens import ButtonId, Screen, callback_chat, edit_or_send
from handlers.telegram.turn import Turn

log = logging.getLogger(__name__)


class Rsvp(CallbackData, prefix="rsvp"):
    """``rsvp:12:yes``: the answer to the invitation to hearing 12."""

    hearing: ButtonId
    answer: str


def register(router: Router) -> None:
    router.message.register(upcoming, slash_command, Command("hearings"), LINKED)
    router.message.register(unlinked, slash_command, Command("hearings"))
    router.callback_query.register(rsvp, Rsvp.filter(F.answer.in_(hearings.ANSWERS)))


async def upcoming(message: Message, turn: Turn) -> None:
    """``/hearings``: the hearings ahead that the resident is invited to (as ``HEARINGS``)."""
    reply = await list_hearings(turn.ctx())
    await Screen(turn.text(reply.template, **reply.data)).send(turn.bot, message.chat.id)


async def unlinked(message: Message, turn: Turn) -> None:
    await screens.ask_for_contact(turn.renderer, turn.language).send(turn.bot, message.chat.id)


async def rsvp(callback: CallbackQuery, callback_data: Rsvp, turn: Turn) -> None:
    await callback.answer()
    chat, resident = callback_chat(callback), turn.resident
    if resident is None:
        await screens.ask_for_contact(turn.renderer, turn.language).send(turn.bot, chat)
        return
    number, reply = callback_data.hearing, callback_data.answer
    try:
        hearing, code = await hearings.answer(
            turn.repos, turn.municipality, resident, number, reply, now=turn.now
        )
    except Refused as exc:
        log.info("telegram rsvp refused: hearing=%s code=%s", number, exc.code)
        text = turn.text("rsvp_refused", code=exc.code, **exc.details)
        await Screen(text).send(turn.bot, chat)  # the invitation stays as it was
        return
    # the resident by id, never with their answer
    log.info("telegram rsvp: hearing=%s resident=%s", hearing.id, resident.id)
    text = turn.text(
        "rsvp_ok",
        hearing=hearing,
        starts=datetime.fromisoformat(hearing.starts_at),
        answer=reply,
        code=code,
    )
    buttons = json.loads(rsvp_buttons(turn.renderer, turn.language, hearing.id))
    markup = InlineKeyboardMarkup.model_validate(buttons)
    await edit_or_send(turn.bot, callback, Screen(text, markup))
