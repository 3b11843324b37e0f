"""The budget in Telegram: the household's summary with a chart, and the projects.

``/budget``, the menu's Budget button and the keyword typed in any language (``BUDGET``,
``БЮДЖЕТ``) answer with the ``budget`` text of the SMS command (the same
``budget_commands.budget`` call, rendered as HTML), a button per project of the summary,
and the budget as a picture (:mod:`bot.rendering.charts`). The picture is drawn once per
budget version and language, uploaded once, then sent by its Telegram ``file_id``.
``/project 3`` and the project buttons show ``project``, with a button to its acts.

Unlinked users fall through to the ``text`` router, which asks for the phone.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated, Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    TelegramObject,
)
from pydantic import Field

from bot.clock import Clock
from bot.rendering.charts import ChartCache, budget_chart, chart_words, draw_apart
from bot.rendering.templates import Renderer
from bot.services.budget_summary import HouseholdSummary
from handlers import budget_commands
from handlers.commands import parse
from handlers.context import Context
from handlers.telegram import screens
from handlers.telegram.filters import FEATURE_KEYWORDS, LINKED
from handlers.telegram.screens import MenuAction, Screen, callback_chat
from storage.models import Budget, Municipality, Resident
from storage.repos import Repos

log = logging.getLogger(__name__)

#: callback data comes from the client: out-of-range numbers do not match
ProjectId = Annotated[int, Field(ge=1, le=999_999_999)]


class ProjectPick(CallbackData, prefix="bp"):
    """``bp:3``: show project 3."""

    project: ProjectId


class ActsPick(CallbackData, prefix="ba"):
    """``ba:3``: show the monitoring acts of project 3 (handled in ``acts``)."""

    project: ProjectId


class Keyword(Filter):
    """A text command as the ``text`` router would read it: ``/acts 3``, ``ACTS 3`` or
    ``АКТТАР 3`` (``handlers.commands.parse``). Gives the handler ``args``.

    ``args``: True / False to match only with / without arguments; None for either.
    """

    def __init__(self, *names: str, args: bool | None = None) -> None:
        self.names = names
        self.args = args
        FEATURE_KEYWORDS.update(names)

    async def __call__(self, message: Message) -> bool | dict[str, Any]:
        if message.text is None:
            return False
        parsed = parse(message.text)
        if parsed.name not in self.names:
            return False
        if self.args is not None and bool(parsed.args) != self.args:
            return False
        return {"args": parsed.args}


Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


def register(router: Router) -> None:
    """Handlers get ``charts`` (a :class:`ChartCache`) from the dispatcher's data."""
    router.message.register(budget_command, Keyword("budget"), LINKED)
    router.callback_query.register(budget_button, MenuAction.filter(F.action == "budget"), LINKED)
    router.message.register(project_command, Keyword("project"), LINKED)
    router.callback_query.register(project_button, ProjectPick.filter(), LINKED)


# --- the summary ------------------------------------------------------------------------


async def budget_command(
    message: Message,
    bot: Bot,
    repos: Repos,
    renderer: Renderer,
    clock: Clock,
    municipality: Municipality,
    resident: Resident,
    language: str,
    charts: ChartCache,
) -> None:
    ctx = Context(repos, municipality, resident, "", clock.now(), "telegram")
    await show_budget(bot, message.chat.id, ctx, renderer, language, charts)


async def budget_button(
    callback: CallbackQuery,
    bot: Bot,
    repos: Repos,
    renderer: Renderer,
    clock: Clock,
    municipality: Municipality,
    resident: Resident,
    language: str,
    charts: ChartCache,
) -> None:
    await callback.answer()
    ctx = Context(repos, municipality, resident, "", clock.now(), "telegram")
    await show_budget(bot, callback_chat(callback), ctx, renderer, language, charts)


async def show_budget(
    bot: Bot, chat_id: int, ctx: Context, renderer: Renderer, language: str, charts: ChartCache
) -> None:
    """The summary (or why there is none), then the chart."""
    reply = await budget_commands.budget(ctx)
    summary: HouseholdSummary | None = reply.data.get("summary")
    if summary is None:
        screen = screens.with_menu(renderer, ctx.resident, language, reply.template, **reply.data)
        await screen.send(bot, chat_id)
        return
    text = renderer.render(reply.template, language, "telegram", **reply.data)
    await Screen(text, _project_buttons(summary)).send(bot, chat_id)
    await send_chart(bot, chat_id, ctx.repos, renderer, charts, summary.budget, language)
    log.info("telegram budget: resident=%s budget=%s", ctx.resident.id, summary.budget.id)


def _project_buttons(summary: HouseholdSummary) -> InlineKeyboardMarkup | None:
    rows = [
        [
            InlineKeyboardButton(
                text=f"№{project.id} {project.name}",
                callback_data=ProjectPick(project=project.id).pack(),
            )
        ]
        for project, _ in summary.projects
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


async def send_chart(
    bot: Bot,
    chat_id: int,
    repos: Repos,
    renderer: Renderer,
    charts: ChartCache,
    budget: Budget,
    language: str,
) -> None:
    """The budget's picture: by ``file_id`` once uploaded, else drawn (once) and uploaded."""
    key = (budget.id, language)
    file_id = charts.file_id(key)
    if file_id is not None:
        try:
            await bot.send_photo(chat_id, file_id)
            return
        except TelegramBadRequest as exc:  # e.g. the bot's token changed: upload again
            log.warning("telegram budget chart: file_id refused (%s); uploading", exc.message)
            charts.forget_file(key)
    png = charts.cached(key)
    if png is None:
        revenue = await repos.budget.lines(budget.id, "revenue")
        spending = await repos.budget.lines(budget.id, "spending")
        chart = budget_chart(
            budget.year,
            [(name, amount) for name, _, amount in revenue],
            [(name, amount) for name, _, amount in spending],
        )
        if not chart.amounts:
            return
        words = chart_words(renderer, language, chart)
        png = await charts.png(key, partial(draw_apart, chart, words))
    name = f"budget-{budget.year}-v{budget.version}-{language}.png"
    sent = await bot.send_photo(chat_id, BufferedInputFile(png, filename=name))
    if sent.photo:
        charts.remember(key, sent.photo[-1].file_id)  # the largest size Telegram made


# --- projects ---------------------------------------------------------------------------


async def project_command(
    message: Message,
    args: str,
    bot: Bot,
    repos: Repos,
    renderer: Renderer,
    clock: Clock,
    municipality: Municipality,
    resident: Resident,
    language: str,
) -> None:
    ctx = Context(repos, municipality, resident, args, clock.now(), "telegram")
    await (await project_screen(ctx, renderer, language)).send(bot, message.chat.id)


async def project_button(
    callback: CallbackQuery,
    callback_data: ProjectPick,
    bot: Bot,
    repos: Repos,
    renderer: Renderer,
    clock: Clock,
    municipality: Municipality,
    resident: Resident,
    language: str,
) -> None:
    await callback.answer()
    ctx = Context(
        repos, municipality, resident, str(callback_data.project), clock.now(), "telegram"
    )
    await (await project_screen(ctx, renderer, language)).send(bot, callback_chat(callback))


async def project_screen(ctx: Context, renderer: Renderer, language: str) -> Screen:
    """``project`` (the ``PROJECT n`` command), with a button to the acts if it has any."""
    reply = await budget_commands.project(ctx)
    text = renderer.render(reply.template, language, "telegram", **reply.data)
    details = reply.data.get("details")
    if details is None or not details.acts:
        return Screen(text)
    label = screens.labels(renderer, language)["acts"]
    button = InlineKeyboardButton(
        text=f"{label} ({details.acts})",
        callback_data=ActsPick(project=details.project.id).pack(),
    )
    return Screen(text, InlineKeyboardMarkup(inline_keyboard=[[button]]))
