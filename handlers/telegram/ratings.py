"""Service ratings in Telegram: ``/rate`` (or ``R`` / ``БАА`` alone) shows the current
round's services, each with a row of buttons 1..5 (``rate:<service id>:<score>``).

A tap calls ``ratings.rate`` (the same call as the SMS ``R 2 4``) and answers with
``rated``; tapping another score changes the rating, the last one counts. The buttons
mark the resident's latest tap per service, remembered in the FSM data under
``ratings`` (for the display only: the database holds the ratings). A button of a
round since closed refreshes the screen to the current round.
"""

from __future__ import annotations

import html
import logging
from typing import Annotated

from aiogram import Bot, Router
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from pydantic import Field

from bot.clock import Clock
from bot.rendering.templates import Renderer
from bot.services import ratings
from handlers.telegram.budget import Keyword
from handlers.telegram.filters import LINKED
from handlers.telegram.hearings import edit_or_send
from handlers.telegram.screens import Screen
from storage.models import Municipality, RatingService, Resident
from storage.repos import Repos

log = logging.getLogger(__name__)

MARKS = "ratings"  # the key of the marks in the FSM data: service id -> score
SCORES = range(1, 6)
_ALERT_MAX = 200  # characters Telegram shows in a callback answer


class RateTap(CallbackData, prefix="rate"):
    """``rate:7:4``: service 7 gets 4 of 5; score 0 is the service's name button."""

    service: Annotated[int, Field(ge=1, le=999_999_999)]
    score: Annotated[int, Field(ge=0, le=5)]


def register(router: Router) -> None:
    router.message.register(show_services, Keyword("rate", args=False), LINKED)
    router.callback_query.register(tap, RateTap.filter(), LINKED)


async def show_services(
    message: Message,
    bot: Bot,
    repos: Repos,
    renderer: Renderer,
    municipality: Municipality,
    language: str,
    state: FSMContext,
) -> None:
    try:
        services = await ratings.current_services(repos, municipality)
    except ratings.RatingRefused as exc:
        text = renderer.render("rate_refused", language, "telegram", code=exc.code, **exc.details)
        await Screen(text).send(bot, message.chat.id)
        return
    await _screen(renderer, language, services, await _marks(state)).send(bot, message.chat.id)


async def tap(
    callback: CallbackQuery,
    callback_data: RateTap,
    bot: Bot,
    repos: Repos,
    renderer: Renderer,
    clock: Clock,
    municipality: Municipality,
    resident: Resident,
    language: str,
    state: FSMContext,
) -> None:
    try:
        services = await ratings.current_services(repos, municipality)
    except ratings.RatingRefused as exc:
        text = renderer.render("rate_refused", language, "telegram", code=exc.code, **exc.details)
        await callback.answer(html.unescape(text)[:_ALERT_MAX], show_alert=True)
        return
    service = next((s for s in services if s.id == callback_data.service), None)
    marks = await _marks(state)
    if service is None:  # a button of an earlier round: show the current one
        await callback.answer()
        await edit_or_send(bot, callback, _screen(renderer, language, services, marks))
        return
    if callback_data.score == 0:  # the name button: the whole name, cut on the button
        await callback.answer(service.name[:_ALERT_MAX])
        return
    try:
        # The service goes by its position in the current round (as in ``R 2 4``).
        rated, score = await ratings.rate(
            repos,
            municipality,
            resident,
            str(service.position),
            str(callback_data.score),
            now=clock.now(),
        )
    except ratings.RatingRefused as exc:
        text = renderer.render("rate_refused", language, "telegram", code=exc.code, **exc.details)
        await callback.answer(html.unescape(text)[:_ALERT_MAX], show_alert=True)
        return
    log.info("telegram rating: service=%s resident=%s score=%s", rated.id, resident.id, score)
    text = renderer.render("rated", language, "telegram", service=rated, score=score)
    await callback.answer(html.unescape(text)[:_ALERT_MAX])
    current = {s.id for s in services}
    marks = {sid: mark for sid, mark in marks.items() if sid in current} | {rated.id: score}
    await state.update_data({MARKS: {str(sid): mark for sid, mark in marks.items()}})
    await edit_or_send(bot, callback, _screen(renderer, language, services, marks))


async def _marks(state: FSMContext) -> dict[int, int]:
    return {int(sid): int(mark) for sid, mark in (await state.get_data()).get(MARKS, {}).items()}


def _screen(
    renderer: Renderer, language: str, services: list[RatingService], marks: dict[int, int]
) -> Screen:
    rows: list[list[InlineKeyboardButton]] = []
    for service in services:
        rows.append([_tap(f"{service.position}. {service.name}", service, 0)])
        chosen = marks.get(service.id)
        rows.append([_tap(f"✅ {n}" if n == chosen else str(n), service, n) for n in SCORES])
    text = renderer.render("tg_rating", language, "telegram", services=services)
    return Screen(text, InlineKeyboardMarkup(inline_keyboard=rows))


def _tap(text: str, service: RatingService, score: int) -> InlineKeyboardButton:
    data = RateTap(service=service.id, score=score)
    return InlineKeyboardButton(text=text, callback_data=data.pack())
