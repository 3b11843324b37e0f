"""Filters shared by the Telegram routers, all ``async``.

aiogram runs a *synchronous* filter (a magic filter such as ``F.text``) in a worker
thread (``asyncio.to_thread``), one thread hand-off per filter per update; an async
filter runs in the event loop. ``bench/inbound.py`` counted 7 such hand-offs per text
message before these replaced them.
"""

from __future__ import annotations

from aiogram import F
from aiogram.enums import ChatType
from aiogram.filters import MagicData
from aiogram.types import CallbackQuery, Message

from handlers.commands import parse

#: the update comes from a Telegram account linked to a resident of the register
LINKED = MagicData(F.resident)

#: text-command keywords that a Telegram feature answers itself (``BUDGET``, ``ACTS``...):
#: the ``Keyword`` filters add theirs as they are made
FEATURE_KEYWORDS: set[str] = set()


async def private_message(message: Message) -> bool:
    """The bot talks to residents one to one; groups and channels are ignored."""
    return message.chat.type == ChatType.PRIVATE


async def private_callback(callback: CallbackQuery) -> bool:
    """A button under a message of a private chat."""
    return callback.message is not None and callback.message.chat.type == ChatType.PRIVATE


async def has_text(message: Message) -> bool:
    return message.text is not None


async def has_contact(message: Message) -> bool:
    return message.contact is not None


async def own_contact(message: Message) -> bool:
    """A shared contact that is the sender's own (the client's "share my number")."""
    contact, sender = message.contact, message.from_user
    return contact is not None and sender is not None and contact.user_id == sender.id


async def not_a_command(message: Message) -> bool:
    """Text typed into a form, not a command: those go to their own handlers (``/cancel``
    ends the form)."""
    return not (message.text or "").startswith("/")


def for_text_commands(text: str | None) -> bool:
    """Outside a form, a text no feature takes: no ``/command``, no keyword a feature
    answers itself (``bot.channels.telegram.lane`` asks this of a raw update)."""
    if text is None or text.startswith("/"):
        return False
    return parse(text).name not in FEATURE_KEYWORDS


async def plain_text(message: Message, raw_state: str | None = None) -> bool:
    """A text no feature takes, and no form in progress. Such a text can only end at the
    text commands, so a handler with this filter, tried first, takes it there without
    trying two dozen others."""
    return raw_state is None and for_text_commands(message.text)


async def slash_command(message: Message) -> bool:
    """Text that starts with ``/``: put before aiogram's ``Command`` filters, which parse
    every text they see (a dozen times per update) where most texts are not commands."""
    return (message.text or "").startswith("/")
