"""The Telegram side of ``civic-bot run``: the aiogram Dispatcher and the bot's command list.

Two outer middlewares run for every update, before any filter (so filters can test
``resident``):

- :class:`DatabaseMiddleware` puts ``repos`` and ``municipality`` (the one this bot
  serves) into the handler data;
- :class:`LocaleMiddleware` finds the resident (the linked one or None) and the language
  (chosen once per update; handlers never work it out themselves), and puts ``resident``
  (for the filters) and ``turn`` (:class:`handlers.telegram.turn.Turn`: all that, with the
  bot, ``repos``, ``renderer`` and ``clock``, for the handlers) into the handler data.

``renderer``, ``clock``, ``batches`` and ``charts`` are dispatcher workflow data. The
FSM state and data (forms, ballot drafts) are in the database
(:class:`bot.channels.telegram.fsm_storage.DatabaseStorage`): they survive a restart
and every process on the database sees them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.methods import TelegramMethod
from aiogram.types import BotCommand, TelegramObject, Update, User
from pydantic import ValidationError

from bot.channels.telegram.fsm_storage import DatabaseStorage
from bot.core.clock import Clock
from bot.core.languages import LANGUAGES
from bot.core.rendering.charts import ChartCache
from bot.core.rendering.templates import Renderer
from bot.core.services.municipalities import choose_municipality
from handlers.telegram import get_router
from handlers.telegram.replies import RepliesMiddleware
from handlers.telegram.screens import answer_json, command_descriptions
from handlers.telegram.turn import Turn
from storage.group_commit import GroupCommit
from storage.models import Municipality, Resident
from storage.repos import Repos

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class MunicipalityOnce:
    """The municipality the bot serves, looked up on first use and then kept.

    Kept for the life of the process: a changed default language shows after a restart.
    """

    def __init__(
        self, repos: Repos, slug: str | None, municipality: Municipality | None = None
    ) -> None:
        self._repos = repos
        self._slug = slug
        self._municipality = municipality

    async def get(self) -> Municipality:
        # Two first updates at once may both look it up; they find the same row.
        if self._municipality is None:
            self._municipality = await choose_municipality(self._repos, self._slug)
        return self._municipality


class DatabaseMiddleware(BaseMiddleware):
    """Gives each update the repositories and the municipality.

    Updates of different chats are handled side by side on the one connection: what must
    be all or nothing is a transaction in the service, and a transaction has the
    connection to itself (``storage/db.py``). Updates of one chat take turns
    (``SimpleEventIsolation``: a double tap does not race itself).
    """

    def __init__(self, repos: Repos, municipality: MunicipalityOnce) -> None:
        self.repos = repos
        self.municipality = municipality

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        data["repos"] = self.repos
        data["municipality"] = await self.municipality.get()
        return await handler(event, data)


class LocaleMiddleware(BaseMiddleware):
    """Finds the resident behind the Telegram user and the language to answer in; gives
    the handlers the update's :class:`Turn`."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        repos: Repos = data["repos"]
        municipality: Municipality = data["municipality"]
        resident = None
        if user is not None and not user.is_bot:
            resident = await repos.residents.by_telegram(municipality.id, user.id)
        data["resident"] = resident
        data["turn"] = make_turn(data, data["bot"], repos, municipality, resident, user)
        return await handler(event, data)


def make_turn(
    data: Mapping[str, Any],
    bot: Bot,
    repos: Repos,
    municipality: Municipality,
    resident: Resident | None,
    user: User | None,
) -> Turn:
    """The :class:`Turn` of an update from ``user`` (the linked ``resident`` or None):
    ``renderer`` and ``clock`` from ``data`` (the handler data, or the dispatcher's
    workflow data, where they come from)."""
    return Turn(
        bot=bot,
        repos=repos,
        renderer=data["renderer"],
        clock=data["clock"],
        municipality=municipality,
        resident=resident,
        language=choose_language(resident, user, municipality),
    )


def choose_language(
    resident: Resident | None, user: User | None, municipality: Municipality
) -> str:
    """The resident's choice; else the Telegram app's language if we have it; else the
    municipality's default."""
    if resident is not None:
        return resident.language
    code = ((user.language_code if user else None) or "").split("-")[0].lower()
    return code if code in LANGUAGES else municipality.default_language


def build_dispatcher(
    *,
    repos: Repos,
    renderer: Renderer,
    clock: Clock,
    municipality_slug: str | None = None,
    municipality: Municipality | None = None,
    batches: GroupCommit | None = None,
    console_url: str | None = None,
) -> Dispatcher:
    """The Dispatcher with every Telegram router and the middlewares.

    The municipality is ``municipality`` if given, else found by slug (or as the only
    one) on start-up or at the first update. ``batches``: the group commit of the
    connection (shared with the SMS webhook where both use one); text commands are
    handled in it. ``console_url``: the staff console (HTTPS), which staff open from the
    menu as a Telegram Mini App.
    """
    source = MunicipalityOnce(repos, municipality_slug, municipality)
    storage = DatabaseStorage(repos.fsm, source.get, clock)
    dp = Dispatcher(
        storage=storage,
        events_isolation=SimpleEventIsolation(),
        renderer=renderer,
        clock=clock,
        batches=batches or GroupCommit(repos.db),
        charts=ChartCache(),  # the budget pictures, drawn once per budget and language
        console_url=console_url,
    )
    dp.update.outer_middleware(DatabaseMiddleware(repos, source))
    dp.update.outer_middleware(LocaleMiddleware())
    dp.update.outer_middleware(RepliesMiddleware())
    dp.include_router(get_router())
    # With polling or aiogram's webhook runner a missing municipality stops the start-up.
    dp.startup.register(source.get)
    return dp


def webhook_feed(dp: Dispatcher, bot: Bot) -> Callable[[dict[str, Any]], Awaitable[str | None]]:
    """Feeds a webhook's update to ``dp``; a Bot API method the handler returned (a reply)
    comes back as the webhook's answer (:func:`webhook_answer`), where Telegram runs it:
    one request less per reply (a method with files is called instead). As aiogram's own
    webhook handler and polling do with a returned method. A message a handler sends
    itself that Telegram refuses for the moment goes to the outbox
    (:mod:`handlers.telegram.replies`): the webhook does not fail for it.

    An update that is not one (no ``chat`` or ``date`` in a message, a wrong type
    anywhere) is logged and dropped: it could never be handled, and the webhook's 200 keeps
    Telegram from delivering it again."""

    async def feed(update: dict[str, Any]) -> str | None:
        try:
            parsed = Update.model_validate(update, context={"bot": bot})
        except ValidationError as exc:
            log.warning(
                "Telegram update %s is not a valid update (%d errors): dropped",
                update.get("update_id"),
                exc.error_count(),
            )
            return None
        result = await dp.feed_update(bot, parsed)
        if not isinstance(result, TelegramMethod):
            return None
        answer = webhook_answer(bot, result)
        if answer is None:
            await bot(result)
        return answer

    return feed


def webhook_answer(bot: Bot, method: TelegramMethod[Any]) -> str | None:
    """``method`` as the JSON body of a webhook's answer (``{"method": ..., fields}``,
    fields as aiogram sends them, the bot's defaults applied); None if it uploads files,
    which only a request of its own can carry."""
    files: dict[str, Any] = {}
    fields: dict[str, Any] = {"method": method.__api_method__}
    for name, value in method.model_dump(warnings=False).items():
        prepared = bot.session.prepare_value(value, bot=bot, files=files, _dumps_json=False)
        if prepared is not None:
            fields[name] = prepared
    return None if files else answer_json(fields)


def bot_commands(renderer: Renderer, language: str) -> list[BotCommand]:
    return [
        BotCommand(command=command, description=description)
        for command, description in command_descriptions(renderer, language).items()
    ]


async def set_commands(bot: Bot, renderer: Renderer, *, default_language: str = "ky") -> None:
    """The command menu of the Telegram app: one list per language, and a default list
    (Kyrgyz) for apps in any other language."""
    for language in LANGUAGES:
        await bot.set_my_commands(bot_commands(renderer, language), language_code=language)
    await bot.set_my_commands(bot_commands(renderer, default_language))
