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

from dataclasses import dataclass
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.base import StorageKey

from bot.channels.telegram.dispatcher import text_answer
from bot.core.clock import iso
from bot.runtime.web import WebContext
from handlers.telegram.filters import for_text_commands
from handlers.telegram.text import show_progress
from handlers.telegram.turn import Turn
from handlers.text import Handled, handle_text
from storage.inbound import AlreadyRecorded


@dataclass(frozen=True)
class PlainText:
    """A private chat's text message that no feature takes (if no form is in progress)."""

    chat_id: int
    user_id: int
    text: str


def plain_text_message(update: dict[str, Any]) -> PlainText | None:
    """The text message in a raw update, if it is one for the text commands; None for
    anything else (another kind of update, a group, a bot, a ``/command``, a feature's
    keyword, a topic or business message, or a shape aiogram would have to judge)."""
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
    if type(chat_id) is not int or type(user_id) is not int or not for_text_commands(text):
        return None
    return PlainText(chat_id, user_id, text)


class TextLane:
    """Takes the plain texts of linked residents off the dispatcher ``dp`` of ``bot``, for
    the webhook of ``web`` (its database, municipality and group commit). The webhook
    gives a sender's updates their turns (``WebContext.telegram_turns``), whichever way
    each of them goes."""

    def __init__(self, dp: Dispatcher, bot: Bot, web: WebContext) -> None:
        self._fsm = dp.fsm.storage
        self._bot = bot
        self._repos = web.repos
        self._renderer = web.renderer
        self._clock = web.clock
        self._municipality = web.municipality
        self._batches = web.batches

    async def __call__(self, update: dict[str, Any], key: str) -> str | None:
        """The webhook's answer ("" for none) to ``update`` (its update_id is ``key``) if
        the lane took it; None if it is the dispatcher's."""
        message = plain_text_message(update)
        if message is None:
            return None
        try:
            # With the other text commands of the moment (SMS too), the lookups in the
            # same transaction (outside, each would wait for the batch before to end).
            # Keyed by the Telegram user, whose updates the webhook takes one at a time;
            # a clash with the same resident's SMS in the batch (two ballots at once)
            # rolls the batch back and each is handled alone, in the order they came.
            taken = await self._batches.run(
                f"telegram:{message.user_id}", lambda: self._handle(message, key)
            )
        except AlreadyRecorded:
            # handled before: its answer; or recorded and never handled (the
            # dispatcher's, which failed): the dispatcher's again
            return await self._repos.inbound.reply_to(
                municipality_id=self._municipality.id, channel="telegram", provider_id=key
            )
        if taken is None:
            return None
        turn, handled, answer = taken
        await show_progress(turn, handled, message.chat_id)
        return answer

    async def _handle(self, message: PlainText, key: str) -> tuple[Turn, Handled, str] | None:
        """In the group commit's transaction: handle the text of a linked resident outside
        a form and record it with its answer; None (nothing done) for anyone else."""
        resident = await self._repos.residents.by_telegram(self._municipality.id, message.user_id)
        if resident is None:
            return None  # asked to share their phone number: the dispatcher's
        fsm_key = StorageKey(bot_id=self._bot.id, chat_id=message.chat_id, user_id=message.user_id)
        if await self._fsm.get_state(fsm_key) is not None:
            return None  # a form's answer: the dispatcher's
        turn = Turn(
            bot=self._bot,
            repos=self._repos,
            renderer=self._renderer,
            clock=self._clock,
            municipality=self._municipality,
            resident=resident,
            language=resident.language,
        )
        now = turn.now
        handled = await handle_text(
            self._repos,
            self._renderer,
            municipality=self._municipality,
            phone=resident.phone,
            text=message.text,
            channel="telegram",
            now=now,
            resident=resident,
        )
        # a staff broadcast's reply is its progress message, sent after the commit
        answer = (
            "" if handled.broadcast_id is not None else text_answer(message.chat_id, handled.text)
        )
        await self._repos.inbound.record_handled(
            municipality_id=self._municipality.id,
            channel="telegram",
            provider_id=key,
            now=iso(now),
            resident_id=resident.id,
            command=handled.command,
            reply=answer,
        )
        return turn, handled, answer
