"""Service ratings in Telegram: ``/rate`` (or ``R`` / ``БАА`` alone) shows the current
round's services, each with a row of buttons 1..5 (``rate:<service id>:<score>``).

A tap calls ``ratings.rate`` (the same call as the SMS ``R 2 4``) and answers with
``rated``; tapping another score changes the rating, the last one counts. The buttons
mark the resident's scores as the database holds them, so a rating sent by SMS shows
too. A button of a round since closed refreshes the screen to the current round.
"""

from __future__ import annotations

import logging
from typing import Annotated

from aiogram import F, Router
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from pydantic import Field

from bot.core.services import ratings
from bot.core.services.errors import Refused
from handlers.telegram.filters import LINKED, Keyword
from handlers.telegram.screens import (
    ALERT_MAX,
    ButtonId,
    MenuAction,
    Screen,
    edit_or_send,
    with_back,
)
from handlers.telegram.turn import Turn
from storage.models import RatingService

log = logging.getLogger(__name__)

SCORES = range(1, 6)


class RateTap(CallbackData, prefix="rate"):
    """``rate:7:4``: service 7 gets 4 of 5; score 0 is the service's name button."""

    service: ButtonId
    score: Annotated[int, Field(ge=0, le=5)]


def register(router: Router) -> None:
    router.message.register(show_services, Keyword("rate", args=False), LINKED)
    router.callback_query.register(rate_button, MenuAction.filter(F.action == "rate"), LINKED)
    router.callback_query.register(tap, RateTap.filter(), LINKED)


async def show_services(message: Message, turn: Turn) -> None:
    try:
        services = await ratings.current_services(turn.repos, turn.municipality)
    except Refused as exc:
        text = turn.text("rate_refused", code=exc.code, **exc.details)
        await Screen(text).send(turn.bot, message.chat.id)
        return
    await (await _screen(turn, services)).send(turn.bot, message.chat.id)


async def rate_button(callback: CallbackQuery, turn: Turn) -> None:
    """The menu's Rate button: the services in place of the menu."""
    await callback.answer()
    try:
        services = await ratings.current_services(turn.repos, turn.municipality)
    except Refused as exc:
        screen = turn.with_menu("rate_refused", code=exc.code, **exc.details)
    else:
        screen = await _screen(turn, services)
    await edit_or_send(turn.bot, callback, screen)


async def tap(callback: CallbackQuery, callback_data: RateTap, turn: Turn) -> None:
    try:
        services = await ratings.current_services(turn.repos, turn.municipality)
    except Refused as exc:
        alert = turn.alert("rate_refused", code=exc.code, **exc.details)
        await callback.answer(alert, show_alert=True)
        return
    service = next((s for s in services if s.id == callback_data.service), None)
    if service is None:  # a button of an earlier round: show the current one
        await callback.answer()
        await edit_or_send(turn.bot, callback, await _screen(turn, services))
        return
    if callback_data.score == 0:  # the name button: the whole name, cut on the button
        await callback.answer(service.name[:ALERT_MAX])
        return
    resident = turn.linked
    try:
        # The service goes by its position in the current round (as in ``R 2 4``).
        rated, score = await ratings.rate(
            turn.repos,
            turn.municipality,
            resident,
            str(service.position),
            str(callback_data.score),
            now=turn.now,
        )
    except Refused as exc:
        alert = turn.alert("rate_refused", code=exc.code, **exc.details)
        await callback.answer(alert, show_alert=True)
        return
    # the resident by id, never with their score
    log.info("telegram rating: service=%s resident=%s", rated.id, resident.id)
    await callback.answer(turn.alert("rated", service=rated, score=score))
    await edit_or_send(turn.bot, callback, await _screen(turn, services))


async def _screen(turn: Turn, services: list[RatingService]) -> Screen:
    marks = await ratings.own_scores(turn.repos, turn.linked, services)
    rows: list[list[InlineKeyboardButton]] = []
    for service in services:
        rows.append([_tap(f"{service.position}. {service.name}", service, 0)])
        chosen = marks.get(service.id)
        rows.append([_tap(f"✅ {n}" if n == chosen else str(n), service, n) for n in SCORES])
    text = turn.text("tg_rating", services=services)
    screen = Screen(text, InlineKeyboardMarkup(inline_keyboard=rows))
    return with_back(turn.renderer, turn.language, screen)


def _tap(text: str, service: RatingService, score: int) -> InlineKeyboardButton:
    data = RateTap(service=service.id, score=score)
    return InlineKeyboardButton(text=text, callback_data=data.pack())
