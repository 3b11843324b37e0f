"""Monitoring acts in Telegram, for every resident to read (the monitoring group files
them: ``act_form``).

``/acts 3`` (or ``ACTS 3``, or the Acts button under a project) lists the acts of
project 3 and sends their photos by ``file_id``: an album per act.
"""

from __future__ import annotations

import logging
from datetime import datetime

from aiogram import Bot, Router
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import SendMediaGroup, SendPhoto
from aiogram.types import CallbackQuery, InputMediaPhoto, Message

from handlers import budget_commands
from handlers.telegram import replies
from handlers.telegram.budget import ActsPick
from handlers.telegram.filters import LINKED, Keyword
from handlers.telegram.screens import Screen, callback_chat
from handlers.telegram.turn import Turn
from storage.models import MonitoringAct, Project

log = logging.getLogger(__name__)

ACTS_SHOWN = 10  # the latest acts listed
ACTS_WITH_PHOTOS = 5  # the latest acts whose photos are sent
_ALBUM = 10  # photos per sendMediaGroup


def register(router: Router) -> None:
    router.message.register(list_acts, Keyword("acts"), LINKED)
    router.callback_query.register(acts_button, ActsPick.filter(), LINKED)


async def list_acts(message: Message, args: str, turn: Turn) -> None:
    await show_acts(turn, message.chat.id, args)


async def acts_button(callback: CallbackQuery, callback_data: ActsPick, turn: Turn) -> None:
    await callback.answer()
    await show_acts(turn, callback_chat(callback), str(callback_data.project))


async def show_acts(turn: Turn, chat_id: int, args: str) -> None:
    """The ``ACTS n`` command's answer as HTML, then each recent act's photos."""
    reply = await budget_commands.acts(turn.ctx(args))
    if reply.template != "acts":
        await Screen(turn.text(reply.template, **reply.data)).send(turn.bot, chat_id)
        return
    project: Project = reply.data["project"]
    acts: list[MonitoringAct] = reply.data["acts"]
    text = turn.text(
        "tg_acts",
        project=project,
        acts=[(act, _when(act)) for act in acts[:ACTS_SHOWN]],
        more=max(len(acts) - ACTS_SHOWN, 0),
    )
    await Screen(text).send(turn.bot, chat_id)
    for act in [act for act in acts if act.photos][:ACTS_WITH_PHOTOS]:
        caption = turn.text("tg_act_caption", act=act, project=project, at=_when(act))
        try:
            await send_photos(turn.bot, chat_id, list(act.photos), caption)
        except TelegramBadRequest as exc:  # a file Telegram no longer has
            log.warning("telegram acts: photos of act %s not sent (%s)", act.id, exc.message)


async def send_photos(bot: Bot, chat_id: int, file_ids: list[str], caption: str) -> None:
    """Photos by ``file_id`` (no upload): albums of up to 10; the caption on the first.
    If Telegram is busy they wait in the outbox (``handlers.telegram.replies``)."""
    for start in range(0, len(file_ids), _ALBUM):
        chunk = file_ids[start : start + _ALBUM]
        first = caption if start == 0 else None
        if len(chunk) == 1:
            photo = SendPhoto(
                chat_id=chat_id, photo=chunk[0], caption=first, parse_mode=ParseMode.HTML
            )
            await replies.send(bot, photo)
            continue
        media = [
            InputMediaPhoto(
                media=file_id, caption=first if n == 0 else None, parse_mode=ParseMode.HTML
            )
            for n, file_id in enumerate(chunk)
        ]
        await replies.send(bot, SendMediaGroup(chat_id=chat_id, media=list(media)))


def _when(act: MonitoringAct) -> datetime:
    return datetime.fromisoformat(act.created_at)
