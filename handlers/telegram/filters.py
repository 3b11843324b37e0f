"""Filters shared by the Telegram routers, all ``async``.

aiogram runs a *synchronous* filter (a magic filter such as ``F.text``) in a worker
thread (``asyncio.to_thread``), one thread hand-off per filter per update; an async
filter runs in the event loop. ``bench/inbound.py`` counted 7 such hand-offs per text
message before these replaced them.
"""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Filter, MagicData
from aiogram.types import CallbackQuery, Message

from handlers.commands import parse

#: the update comes from a Telegram account linked to a resident of the register
LINKED = MagicData(F.resident)


class Keyword(Filter):
    """A text command as the ``text`` router would read it: ``/acts 3``, ``ACTS 3`` or
    ``АКТТАР 3`` (``handlers.commands.parse``). Gives the handler ``args``. A feature
    that answers a text command itself registers its handler with this filter: the text
    lane and :class:`PlainText` then leave that command to it (:func:`feature_keywords`).

    ``args``: True / False to match only with / without arguments; None for either.
    """

    def __init__(self, *names: str, args: bool | None = None) -> None:
        self.names = frozenset(names)
        self.args = args

    async def __call__(self, message: Message) -> bool | dict[str, Any]:
        if message.text is None:
            return False
        parsed = parse(message.text)
        if parsed.name not in self.names:
            return False
        if self.args is not None and bool(parsed.args) != self.args:
            return False
        return {"args": parsed.args}


def feature_keywords(router: Router) -> frozenset[str]:
    """The text-command keywords that a handler of ``router`` or of a router under it
    answers itself (those with a :class:`Keyword` filter): read from the routers, so a
    feature's new keyword needs no list kept anywhere else."""
    names: set[str] = set()
    for handler in router.message.handlers:
        for found in handler.filters or ():
            if isinstance(found.callback, Keyword):
                names |= found.callback.names
    for sub in router.sub_routers:
        names |= feature_keywords(sub)
    return frozenset(names)


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


def for_text_commands(text: str | None, keywords: frozenset[str]) -> bool:
    """Outside a form, a text no feature takes: no ``/command``, none of the
    ``keywords`` a feature answers itself (:func:`feature_keywords`;
    ``bot.channels.telegram.lane`` asks this of a raw update)."""
    if text is None or text.startswith("/"):
        return False
    return parse(text).name not in keywords


class PlainText(Filter):
    """A text no feature of ``router`` takes, and no form in progress. Such a text can
    only end at the text commands, so a handler with this filter, tried first, takes it
    there without trying two dozen others. The features' keywords are read from the
    routers (``router``'s dispatcher) at the first update: every feature has registered
    by then."""

    def __init__(self, router: Router) -> None:
        self._router = router
        self._keywords: frozenset[str] | None = None

    async def __call__(self, message: Message, raw_state: str | None = None) -> bool:
        if raw_state is not None:
            return False
        if self._keywords is None:
            root = self._router
            while root.parent_router is not None:
                root = root.parent_router
            self._keywords = feature_keywords(root)
        return for_text_commands(message.text, self._keywords)


async def slash_command(message: Message) -> bool:
    """Text that starts with ``/``: put before aiogram's ``Command`` filters, which parse
    every text they see (a dozen times per update) where most texts are not commands."""
    return (message.text or "").startswith("/")
