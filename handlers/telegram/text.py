"""The last router: whatever the feature routers before it did not take.

Text from a linked resident goes to the conversation core (``handlers.text``), the
same commands as SMS, rendered as Telegram HTML. The reply is returned, not sent: it goes
back in the webhook's answer (``bot.channels.telegram.dispatcher.webhook_feed``), or the
polling loop sends it. Everyone else is asked to share their phone number first. Feature
routers must be included BEFORE this one.
"""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.methods import SendMessage
from aiogram.types import CallbackQuery, Message, Update

from bot.core.services.inbound import AlreadyRecorded
from handlers.inbound import handle_and_record
from handlers.telegram import broadcasts, screens
from handlers.telegram.filters import LINKED, PlainText, has_text
from handlers.telegram.screens import callback_chat
from handlers.telegram.turn import Turn
from handlers.text import Handled
from storage.group_commit import GroupCommit

log = logging.getLogger(__name__)


def register_first(router: Router) -> None:
    """Before every feature: a text that no feature takes goes straight to the text
    commands (:class:`PlainText`); the same handlers at the end take what is left."""
    plain = PlainText(router)
    router.message.register(command, plain, LINKED)
    router.message.register(unlinked, plain)


def register(router: Router) -> None:
    router.message.register(command, has_text, LINKED)
    router.message.register(unlinked, has_text)
    router.callback_query.register(stale_button)


async def command(
    message: Message, turn: Turn, batches: GroupCommit, event_update: Update
) -> SendMessage | None:
    """A linked resident's text: handled and recorded the one way of every channel
    (:func:`handlers.inbound.handle_and_record`), under the update's id, with the answer
    the webhook gives (the webhook recorded its arrival; polling has no other record)."""
    assert message.text is not None  # the filter
    text, resident, chat_id = message.text, turn.linked, message.chat.id

    def as_answer(handled: Handled) -> str:
        return broadcasts.command_answer(handled, chat_id, turn.labels)

    try:
        # one transaction with the other text commands of the moment (SMS too)
        answered = await batches.run(
            resident.phone,
            lambda: handle_and_record(
                turn.repos,
                turn.renderer,
                municipality=turn.municipality,
                channel="telegram",
                sender=resident.phone,
                text=text,
                provider_id=str(event_update.update_id),
                now=turn.now,
                resident=resident,
                reply_as=as_answer,
            ),
        )
    except AlreadyRecorded:
        return None  # handled and answered before (the webhook answers a repeat itself)
    if answered.handled.broadcast_id is not None:  # staff: the live progress message
        await broadcasts.show_progress(turn, answered.handled.broadcast_id, chat_id)
        return None
    return broadcasts.command_screen(answered.handled, turn.labels()).method(chat_id)


async def unlinked(message: Message, turn: Turn) -> SendMessage:
    return screens.ask_for_contact(turn.renderer, turn.language).method(message.chat.id)


async def stale_button(callback: CallbackQuery, turn: Turn) -> None:
    """A button nobody handles (an old menu, a menu of an account since unlinked, or
    callback data no button of ours carries): said so, politely."""
    await callback.answer(turn.alert("tg_stale_button"))
    if turn.resident is None:
        await screens.ask_for_contact(turn.renderer, turn.language).send(
            turn.bot, callback_chat(callback)
        )
