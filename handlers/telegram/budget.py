"""The budget in Telegram: the household's summary with a chart, and the projects.

``/budget``, the menu's Budget button and the keyword typed in any language (``BUDGET``,
``БЮДЖЕТ``) answer with the ``budget`` text of the SMS command (the same
``budget_commands.budget`` call, rendered as HTML), a button per project of the summary,
and the budget as a picture (:mod:`bot.core.rendering.charts`); from the menu the text
takes the menu's place and the picture comes at a tap of its button. The picture is drawn
once per budget version and language, uploaded once, then sent by its Telegram ``file_id``.
The menu's Projects button lists the village's projects; ``/project 3`` and the project
buttons show ``project``, with a button to its acts.

Unlinked users fall through to the ``text`` router, which asks for the phone.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Annotated

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters.callback_data import CallbackData
from aiogram.methods import SendPhoto
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from pydantic import Field

from bot.core.languages import in_language
from bot.core.rendering.charts import ChartCache, budget_chart, chart_words, draw_apart
from bot.core.services import budget_summary
from bot.core.services.budget_summary import HouseholdSummary
from handlers import budget_commands
from handlers.telegram import replies
from handlers.telegram.filters import LINKED, Keyword
from handlers.telegram.screens import (
    ButtonId,
    MenuAction,
    Screen,
    callback_chat,
    edit_or_send,
    with_back,
)
from handlers.telegram.turn import Turn
from storage.models import Budget

log = logging.getLogger(__name__)


class ProjectPick(CallbackData, prefix="bp"):
    """``bp:3``: show project 3."""

    project: ButtonId


class ChartPick(CallbackData, prefix="bc"):
    """``bc:2024``: send the chart of the 2024 budget."""

    year: Annotated[int, Field(ge=1900, le=2999)]


class ActsPick(CallbackData, prefix="ba"):
    """``ba:3``: show the monitoring acts of project 3 (handled in ``acts``)."""

    project: ButtonId


def register(router: Router) -> None:
    """Handlers get ``charts`` (a :class:`ChartCache`) from the dispatcher's data."""
    router.message.register(budget_command, Keyword("budget"), LINKED)
    router.callback_query.register(budget_button, MenuAction.filter(F.action == "budget"), LINKED)
    router.callback_query.register(chart_button, ChartPick.filter(), LINKED)
    router.callback_query.register(
        projects_button, MenuAction.filter(F.action == "projects"), LINKED
    )
    router.message.register(project_command, Keyword("project"), LINKED)
    router.callback_query.register(project_button, ProjectPick.filter(), LINKED)


# --- the summary ------------------------------------------------------------------------


async def budget_command(message: Message, turn: Turn, charts: ChartCache) -> None:
    """``/budget``: the summary (or why there is none), then the chart."""
    screen, summary = await budget_screen(turn)
    await screen.send(turn.bot, message.chat.id)
    if summary is not None:
        await send_chart(turn, message.chat.id, charts, summary.budget)


async def budget_button(callback: CallbackQuery, turn: Turn) -> None:
    """The menu's Budget button: the summary in place of the menu, the chart a tap away
    (a picture is a message of its own)."""
    await callback.answer()
    screen, summary = await budget_screen(turn)
    if summary is not None:
        chart = InlineKeyboardButton(
            text=turn.labels()["chart"],
            callback_data=ChartPick(year=summary.budget.year).pack(),
        )
        markup = screen.markup
        rows = markup.inline_keyboard if isinstance(markup, InlineKeyboardMarkup) else []
        screen = Screen(screen.text, InlineKeyboardMarkup(inline_keyboard=[*rows, [chart]]))
    await edit_or_send(turn.bot, callback, with_back(turn.renderer, turn.language, screen))


async def chart_button(
    callback: CallbackQuery, callback_data: ChartPick, turn: Turn, charts: ChartCache
) -> None:
    await callback.answer()
    _, summary = await budget_screen(turn, str(callback_data.year))
    if summary is not None:
        await send_chart(turn, callback_chat(callback), charts, summary.budget)


async def projects_button(callback: CallbackQuery, turn: Turn) -> None:
    """The menu's Projects button: the village's projects of the budget, a button each."""
    await callback.answer()
    reply = await budget_commands.budget(turn.ctx())
    summary: HouseholdSummary | None = reply.data.get("summary")
    if summary is None:
        screen = turn.with_menu(reply.template, **reply.data)
    else:
        text = turn.text("tg_projects", summary=summary)
        screen = Screen(text, _project_buttons(summary, turn.language))
    await edit_or_send(turn.bot, callback, with_back(turn.renderer, turn.language, screen))


async def budget_screen(turn: Turn, year: str = "") -> tuple[Screen, HouseholdSummary | None]:
    """The summary with a button per project, or why there is none (with the menu)."""
    reply = await budget_commands.budget(turn.ctx(year))
    summary: HouseholdSummary | None = reply.data.get("summary")
    if summary is None:
        return turn.with_menu(reply.template, **reply.data), None
    log.info("telegram budget: resident=%s budget=%s", turn.linked.id, summary.budget.id)
    text = turn.text(reply.template, **reply.data)
    return Screen(text, _project_buttons(summary, turn.language)), summary


def _project_buttons(summary: HouseholdSummary, language: str) -> InlineKeyboardMarkup | None:
    rows = [
        [
            InlineKeyboardButton(
                text=f"№{project.id} {in_language(project.name, language)}",
                callback_data=ProjectPick(project=project.id).pack(),
            )
        ]
        for project, _ in summary.projects
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


async def send_chart(turn: Turn, chat_id: int, charts: ChartCache, budget: Budget) -> None:
    """The budget's picture: by ``file_id`` once uploaded, else drawn (once) and uploaded."""
    bot, language = turn.bot, turn.language
    key = (budget.id, language)
    file_id = charts.file_id(key)
    if file_id is not None:
        try:
            await replies.send(bot, SendPhoto(chat_id=chat_id, photo=file_id))
            return
        except TelegramBadRequest as exc:  # e.g. the bot's token changed: upload again
            log.warning("telegram budget chart: file_id refused (%s); uploading", exc.message)
            charts.forget_file(key)
    png = charts.cached(key)
    if png is None:
        revenue, spending = await budget_summary.chart_lines(turn.repos, budget)
        chart = budget_chart(budget.year, revenue, spending)
        if not chart.amounts:
            return
        words = chart_words(turn.renderer, language, chart)
        png = await charts.png(key, partial(draw_apart, chart, words))
    name = f"budget-{budget.year}-v{budget.version}-{language}.png"
    # if Telegram is busy the picture waits in the outbox (handlers.telegram.replies)
    sent = await replies.send(
        bot, SendPhoto(chat_id=chat_id, photo=BufferedInputFile(png, filename=name))
    )
    if sent is not None and sent.photo:
        charts.remember(key, sent.photo[-1].file_id)  # the largest size Telegram made


# --- projects ---------------------------------------------------------------------------


async def project_command(message: Message, args: str, turn: Turn) -> None:
    await (await project_screen(turn, args)).send(turn.bot, message.chat.id)


async def project_button(callback: CallbackQuery, callback_data: ProjectPick, turn: Turn) -> None:
    await callback.answer()
    screen = await project_screen(turn, str(callback_data.project))
    await edit_or_send(turn.bot, callback, with_back(turn.renderer, turn.language, screen))


async def project_screen(turn: Turn, args: str) -> Screen:
    """``project`` (the ``PROJECT n`` command), with a button to the acts if it has any."""
    reply = await budget_commands.project(turn.ctx(args))
    text = turn.text(reply.template, **reply.data)
    details = reply.data.get("details")
    if details is None or not details.acts:
        return Screen(text)
    button = InlineKeyboardButton(
        text=f"{turn.labels()['acts']} ({details.acts})",
        callback_data=ActsPick(project=details.project.id).pack(),
    )
    return Screen(text, InlineKeyboardMarkup(inline_keyboard=[[button]]))
