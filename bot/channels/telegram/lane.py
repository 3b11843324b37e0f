"""The text lane: a webhook's plain text from a linked resident, answered without going
through aiogram's dispatcher.

Most of what residents send the bot is a text command (``ME``, ``V 1 3``, ``LANG RU``):
no button, no form, no ``/command``. Through the dispatcher such an update is validated
into aiogram's models, passes its middlewares, the FSM and the router's filters to reach
the first handler (``handlers.telegram.text.command``), and is recorded before and after
in transactions of its own: most of the time a Telegram text took (``bench/inbound.py``).

The lane reads the raw update the webhook received. A message that the dispatcher would
give to ``text.command`` is handled here the same way, with the same functions, in one
transaction of the group commit that also records it (with its answer) as the SMS
webhook does. Anything else, a sender who is not linked, or one in the middle of a form
goes on to the dispatcher untouched; so does every update when the bot polls. Updates of
one sender still take their turns, in the order they came (the webhook's, whichever way
each goes).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, Dispatcher

from bot.channels.telegram.dispatcher import make_turn
from bot.runtime.inbound import Recorded, answer_once
from bot.runtime.web import WebContext
from handlers.inbound import Answered, handle_and_record
from handlers.telegram.broadcasts import command_answer, show_progress
from handlers.telegram.filters import feature_keywords, for_text_commands
from handlers.telegram.screens import labels as labels_of
from handlers.text import Handled
from storage.models import Resident


@dataclass(frozen=True)
class TextMessage:
    """A private chat's text message that no feature takes (if no form is in progress)."""

    chat_id: int
    user_id: int
    text: str


def plain_text_message(update: dict[str, Any], keywords: frozenset[str]) -> TextMessage | None:
    """The text message in a raw update, if it is one for the text commands; None for
    anything else (another kind of update, a group, a bot, a ``/command``, one of the
    ``keywords`` a feature answers itself, a topic or business message, or a shape aiogram
    would have to judge)."""
    message = update.get("message")
    if len(update) != 2 or not isinstance(message, dict):
        return None
    chat, sender, text = message.get("chat"), message.get("from"), message.get("text")
    if not (isinstance(chat, dict) and isinstance(sender, dict) and isinstance(text, str)):
        return None
    if chat.get("type") != "private" or sender.get("is_bot") is not False:
        return None
    if "message_thread_id" in message or "business_connection_id" in message:
        return None
    chat_id, user_id = chat.get("id"), sender.get("id")
    if type(chat_id) is not int or type(user_id) is not int:
        return None
    return TextMessage(chat_id, user_id, text) if for_text_commands(text, keywords) else None


class TextLane:
    """Takes the plain texts of linked residents off the dispatcher ``dp`` of ``bot``, for
    the webhook of ``web`` (its database, municipality and group commit). What the lane
    must know of the dispatcher it asks it: the keywords its routers answer themselves
    (:func:`handlers.telegram.filters.feature_keywords`), the sender's form state (its
    FSM), the handlers' :class:`Turn` (its workflow data). The webhook gives a sender's
    updates their turns (``TelegramChannel.turns``), whichever way each of them goes."""

    def __init__(self, dp: Dispatcher, bot: Bot, web: WebContext) -> None:
        self._dp = dp
        self._bot = bot
        self._web = web
        self._keywords = feature_keywords(dp)

    async def __call__(self, update: dict[str, Any], key: str) -> str | None:
        """The webhook's answer ("" for none) to ``update`` (its update_id is ``key``) if
        the lane took it; None if it is the dispatcher's."""
        message = plain_text_message(update, self._keywords)
        if message is None:
            return None
        web = self._web
        # With the other text commands of the moment (SMS too), the lookups in the
        # same transaction (outside, each would wait for the batch before to end).
        # Keyed by the Telegram user, whose updates the webhook takes one at a time;
        # a clash with the same resident's SMS in the batch (two ballots at once)
        # rolls the batch back and each is handled alone, in the order they came.
        taken = await answer_once(
            web,
            f"telegram:{message.user_id}",
            lambda: self._handle(message, key),
            channel="telegram",
            provider_id=key,
        )
        if isinstance(taken, Recorded):
            return taken.reply  # handled before: its answer
        if taken is None:
            return None
        resident, answered = taken
        if answered.handled.broadcast_id is not None:  # staff: the live progress message
            data = self._dp.workflow_data
            turn = make_turn(data, self._bot, web.repos, web.municipality, resident, None)
            await show_progress(turn, answered.handled.broadcast_id, message.chat_id)
        return answered.reply

    async def _handle(self, message: TextMessage, key: str) -> tuple[Resident, Answered] | None:
        """In the group commit's transaction: handle the text of a linked resident outside
        a form and record it with its answer; None (nothing done) for anyone else."""
        web = self._web
        resident = await web.repos.residents.by_telegram(web.municipality.id, message.user_id)
        if resident is None:
            return None  # asked to share their phone number: the dispatcher's
        state = self._dp.fsm.resolve_context(self._bot, message.chat_id, message.user_id)
        if state is not None and await state.get_state() is not None:
            return None  # a form's answer: the dispatcher's

        def as_answer(handled: Handled) -> str:
            labels = functools.partial(labels_of, web.renderer, resident.language)
            return command_answer(handled, message.chat_id, labels)

        answered = await handle_and_record(
            web.repos,
            web.renderer,
            now=web.clock.now(),
            municipality=web.municipality,
            channel="telegram",
            sender=resident.phone,
            text=message.text,
            provider_id=key,
            resident=resident,
            reply_as=as_answer,
        )
        return resident, answered
