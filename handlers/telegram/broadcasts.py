"""Staff: the buttons of a broadcast. Under a ``BROADCAST``'s counts by channel, Confirm
(queue it: ``broadcast.confirm``, once however often tapped) and Cancel (queue nothing);
under its live progress message, Cancel while messages wait (``broadcast.cancel``: what
has not gone stays unsent). For staff only (``STAFF_ONLY``: see ``hearing_form.StaffOnly``).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Literal

from aiogram import Router
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramAPIError
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup

from bot.core.services import broadcast
from bot.core.services.errors import ServiceError
from handlers.telegram.hearing_form import STAFF_ONLY
from handlers.telegram.screens import (
    ButtonId,
    Screen,
    answer_json,
    callback_chat,
    edit,
    edit_or_send,
    labels,
    text_answer,
)
from handlers.telegram.turn import Turn
from handlers.text import Handled

log = logging.getLogger(__name__)


class DraftAction(CallbackData, prefix="bd"):
    """``bd:7:go``: queue broadcast draft 7; ``bd:7:drop``: queue nothing."""

    draft: ButtonId
    action: Literal["go", "drop"]


class StopBroadcast(CallbackData, prefix="bs"):
    """``bs:12``: cancel what of broadcast 12 still waits in the outbox."""

    broadcast: ButtonId


def confirm_keyboard(labels: dict[str, str], draft_id: int) -> InlineKeyboardMarkup:
    """Confirm / Cancel under a BROADCAST's counts by channel."""
    row = [
        InlineKeyboardButton(
            text=labels[f"broadcast_{action}"],
            callback_data=DraftAction(draft=draft_id, action=action).pack(),
        )
        for action in ("go", "drop")
    ]
    return InlineKeyboardMarkup(inline_keyboard=[row])


def stop_keyboard(labels: dict[str, str], broadcast_id: int) -> InlineKeyboardMarkup:
    """Cancel under a broadcast's progress message while messages wait."""
    button = InlineKeyboardButton(
        text=labels["broadcast_stop"],
        callback_data=StopBroadcast(broadcast=broadcast_id).pack(),
    )
    return InlineKeyboardMarkup(inline_keyboard=[[button]])


def command_screen(handled: Handled, labels: dict[str, str]) -> Screen:
    """A text command's reply; a staff ``BROADCAST``'s, who it would reach with Confirm /
    Cancel under it."""
    if handled.draft_id is None:
        return Screen(handled.text)
    return Screen(handled.text, confirm_keyboard(labels, handled.draft_id))


def command_answer(handled: Handled, chat_id: int, labels: Callable[[], dict[str, str]]) -> str:
    """The webhook's answer to a text command, as recorded (a repeat gets it again): ""
    for a confirmed broadcast (its progress message is sent after the commit)."""
    if handled.broadcast_id is not None:
        return ""
    if handled.draft_id is None:
        return text_answer(chat_id, handled.text)
    markup = confirm_keyboard(labels(), handled.draft_id).model_dump(exclude_none=True)
    fields = {"chat_id": chat_id, "text": handled.text, "parse_mode": "HTML"}
    return answer_json({"method": "sendMessage", **fields, "reply_markup": markup})


def register(router: Router) -> None:
    button = functools.partial(router.callback_query.register, flags=STAFF_ONLY)
    button(draft_action, DraftAction.filter())
    button(stop, StopBroadcast.filter())


async def draft_action(callback: CallbackQuery, callback_data: DraftAction, turn: Turn) -> None:
    draft_id = callback_data.draft
    if callback_data.action == "drop":
        await callback.answer()
        if await broadcast.drop(turn.repos, turn.linked, draft_id, now=turn.now):
            await edit_or_send(turn.bot, callback, Screen(turn.text("tg_broadcast_dropped")))
        return
    progress = await broadcast.confirm(
        turn.repos, turn.municipality, turn.linked, draft_id, now=turn.now, via="telegram"
    )
    if progress is None:  # tapped twice, cancelled, or too late: nothing (more) queued
        await callback.answer(turn.alert("broadcast_expired"))
        return
    await callback.answer()
    queued = progress.broadcast
    log.info("telegram broadcast %s queued by %s", queued.id, turn.linked.id)
    if callback.message is None:
        await show_progress(turn, queued.id, callback_chat(callback))
    else:  # the counts become the live progress message
        await show_progress(turn, queued.id, callback.message.chat.id, callback.message.message_id)


async def stop(callback: CallbackQuery, callback_data: StopBroadcast, turn: Turn) -> None:
    try:
        _, stopped = await broadcast.cancel(
            turn.repos, turn.municipality, callback_data.broadcast, now=turn.now,
            actor=turn.actor,
        )  # fmt: skip
    except ServiceError:
        await callback.answer(turn.alert("tg_stale_button"))
        return
    await callback.answer(turn.alert("tg_broadcast_stopped", stopped=stopped))


async def show_progress(
    turn: Turn, broadcast_id: int, chat_id: int, message_id: int | None = None
) -> None:
    """After a staff member's broadcast has committed: the progress message, sent (or
    message ``message_id`` edited into it) and edited as the messages go out
    (``bot.channels.telegram.progress``), with Cancel while messages wait. If Telegram
    refuses it the broadcast goes out all the same (``civic-bot broadcast status`` shows
    its progress): the update must not fail, or Telegram's retry would queue it again."""
    try:
        text, done = await broadcast.render_progress(
            turn.repos, turn.renderer, broadcast_id, turn.language
        )
        markup = None if done else stop_keyboard(labels(turn.renderer, turn.language), broadcast_id)
        if message_id is None:
            sent = await turn.bot.send_message(
                chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup
            )
            message_id = sent.message_id
        else:
            await edit(turn.bot, chat_id, message_id, Screen(text, markup))
        await broadcast.remember_progress_message(
            turn.repos, broadcast_id, chat_id=chat_id, message_id=message_id, text=text,
            now=turn.now,
        )  # fmt: skip
    except TelegramAPIError as error:
        log.warning(
            "broadcast %s: the progress message could not be shown (%s)",
            broadcast_id,
            type(error).__name__,
        )
