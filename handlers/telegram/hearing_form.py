"""Staff: a new public hearing, step by step (``/newhearing``), then the Publish button
(handled in ``hearing_publish``).

Steps: kind (buttons) → date → time → place (text) → audience (buttons) → agenda (text
or Skip) → a summary with Create / Cancel. Cancel (a button at every step, or
``/cancel``) leaves nothing behind: nothing is written before Create. Invalid input
is explained and the step asked again.

The staff role is checked on EVERY update these handlers (and ``hearing_publish``) take,
by :class:`StaffOnly`: an inner middleware, so it runs after the filters matched and
right before each handler, and calls ``roles.require_staff``. A forged button, or a
role taken away halfway through the form, is refused like ``/newhearing`` itself.

The answers live in the FSM data under ``hearing_form`` only (``forms.FormAnswers``).
Dates and times are local to the municipality (``renderer.tz``); the service stores UTC.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time
from typing import Any

from aiogram import BaseMiddleware, F, Router
from aiogram.dispatcher.flags import get_flag
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    TelegramObject,
)

from bot.core.languages import in_language
from bot.core.services import hearings, municipalities
from bot.core.services.errors import ServiceError
from bot.core.services.roles import NotStaff, require_staff
from handlers.telegram import screens
from handlers.telegram.filters import not_a_command, slash_command
from handlers.telegram.forms import FormAnswers, stale_button
from handlers.telegram.screens import ButtonId, Screen, callback_chat, edit_or_send
from handlers.telegram.turn import Turn
from storage.models import Village

log = logging.getLogger(__name__)

PLACE_MAX = 200
AGENDA_MAX = 1000
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")
_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})$")


class HearingForm(StatesGroup):
    kind = State()
    date = State()
    time = State()
    place = State()
    audience = State()
    agenda = State()
    summary = State()


FORM = FormAnswers("hearing_form", HearingForm)


class FormAction(CallbackData, prefix="hf"):
    """``hf:kind:formation``, ``hf:audience:all`` or ``hf:audience:<village id>``,
    ``hf:skip``, ``hf:create``, ``hf:cancel``."""

    action: str
    value: str = ""


class PublishHearing(CallbackData, prefix="hp"):
    """``hp:12``: publish hearing 12 (invite its audience: ``hearing_publish``)."""

    hearing: ButtonId


Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


#: the flag of the handlers :class:`StaffOnly` guards
STAFF_ONLY = {"staff_only": True}


class StaffOnly(BaseMiddleware):
    """Runs ``require_staff`` before every handler flagged ``STAFF_ONLY``; refuses
    otherwise (an inner middleware of the private-chat router: it runs once a handler
    was chosen, and lets the others through)."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not get_flag(data, "staff_only"):
            return await handler(event, data)
        turn: Turn = data["turn"]
        assert isinstance(event, Message | CallbackQuery)  # the observers it is attached to
        chat = event.chat.id if isinstance(event, Message) else callback_chat(event)
        # no FSM context for an update without a sender (``from``): no form to forget
        state: FSMContext | None = data.get("state")
        if turn.resident is None:
            if state is not None:
                await FORM.forget(state)
            if isinstance(event, CallbackQuery):
                await event.answer()
            await screens.ask_for_contact(turn.renderer, turn.language).send(turn.bot, chat)
            return None
        try:
            await require_staff(turn.repos, turn.resident)
        except NotStaff:
            log.warning("telegram hearing form refused: resident=%s is not staff", turn.resident.id)
            if state is not None:
                await FORM.forget(state)
            if isinstance(event, CallbackQuery):
                await event.answer(turn.alert("staff_only"), show_alert=True)
            else:
                await Screen(turn.text("staff_only")).send(turn.bot, chat)
            return None
        return await handler(event, data)


def register(router: Router) -> None:
    """Every handler here is for staff only (``STAFF_ONLY``: see :class:`StaffOnly`)."""
    message = functools.partial(router.message.register, flags=STAFF_ONLY)
    button = functools.partial(router.callback_query.register, flags=STAFF_ONLY)

    message(start, slash_command, Command("newhearing"))
    message(cancel_command, slash_command, Command("cancel"), StateFilter(HearingForm))
    message(date_entered, StateFilter(HearingForm.date), not_a_command)
    message(time_entered, StateFilter(HearingForm.time), not_a_command)
    message(place_entered, StateFilter(HearingForm.place), not_a_command)
    message(agenda_entered, StateFilter(HearingForm.agenda), not_a_command)

    button(cancel_button, FormAction.filter(F.action == "cancel"))
    button(kind_chosen, FormAction.filter(F.action == "kind"), StateFilter(HearingForm.kind))
    button(
        audience_chosen,
        FormAction.filter(F.action == "audience"),
        StateFilter(HearingForm.audience),
    )
    button(agenda_skipped, FormAction.filter(F.action == "skip"), StateFilter(HearingForm.agenda))
    button(create, FormAction.filter(F.action == "create"), StateFilter(HearingForm.summary))
    button(stale_button, FormAction.filter())  # a button of a step already done


# --- start, cancel ----------------------------------------------------------------------


async def start(message: Message, turn: Turn, state: FSMContext) -> None:
    """``/newhearing``: a fresh form (one in progress is dropped)."""
    await state.set_state(HearingForm.kind)
    await FORM.put(state, {})
    await _prompt(turn, "kind").send(turn.bot, message.chat.id)


async def cancel_command(message: Message, turn: Turn, state: FSMContext) -> None:
    await FORM.forget(state)
    await Screen(turn.text("tg_hearing_form_cancelled")).send(turn.bot, message.chat.id)


async def cancel_button(callback: CallbackQuery, turn: Turn, state: FSMContext) -> None:
    await callback.answer()
    await FORM.forget(state)
    await edit_or_send(turn.bot, callback, Screen(turn.text("tg_hearing_form_cancelled")))


# --- the steps --------------------------------------------------------------------------


async def kind_chosen(
    callback: CallbackQuery, callback_data: FormAction, turn: Turn, state: FSMContext
) -> None:
    await callback.answer()
    if callback_data.value not in hearings.KINDS:
        return
    await FORM.save(state, HearingForm.date, kind=callback_data.value)
    await edit_or_send(turn.bot, callback, _prompt(turn, "date"))


async def date_entered(message: Message, turn: Turn, state: FSMContext) -> None:
    day = parse_date(message.text or "")
    error = None
    if day is None:
        error = "bad_date"
    elif day < turn.now.astimezone(turn.renderer.tz).date():
        error = "past_date"
    if error is None and day is not None:
        await FORM.save(state, HearingForm.time, date=day.isoformat())
    await _prompt(turn, "time" if error is None else "date", error).send(turn.bot, message.chat.id)


async def time_entered(message: Message, turn: Turn, state: FSMContext) -> None:
    moment = parse_time(message.text or "")
    form = await FORM.get(state)
    error = None
    if moment is None:
        error = "bad_time"
    elif _starts(turn, form["date"], moment) <= turn.now:
        error = "past_time"
    if error is None and moment is not None:
        await FORM.save(state, HearingForm.place, time=moment.strftime("%H:%M"))
    await _prompt(turn, "place" if error is None else "time", error).send(turn.bot, message.chat.id)


async def place_entered(message: Message, turn: Turn, state: FSMContext) -> None:
    place = " ".join((message.text or "").split())
    error = "empty_place" if not place else "too_long" if len(place) > PLACE_MAX else None
    if error is not None:
        await _prompt(turn, "place", error, limit=PLACE_MAX).send(turn.bot, message.chat.id)
        return
    await FORM.save(state, HearingForm.audience, place=place)
    villages = await municipalities.villages(turn.repos, turn.municipality)
    await _prompt(turn, "audience", villages=villages).send(turn.bot, message.chat.id)


async def audience_chosen(
    callback: CallbackQuery, callback_data: FormAction, turn: Turn, state: FSMContext
) -> None:
    await callback.answer()
    found = await municipalities.villages(turn.repos, turn.municipality)
    villages = {str(v.id): v.name for v in found}
    if callback_data.value != "all" and callback_data.value not in villages:
        return  # not a village of this municipality (any more)
    await FORM.save(state, HearingForm.agenda, village=villages.get(callback_data.value))
    await edit_or_send(turn.bot, callback, _prompt(turn, "agenda"))


async def agenda_entered(message: Message, turn: Turn, state: FSMContext) -> None:
    agenda = (message.text or "").strip()
    if len(agenda) > AGENDA_MAX or not agenda:
        error = "too_long" if agenda else "empty_agenda"
        await _prompt(turn, "agenda", error, limit=AGENDA_MAX).send(turn.bot, message.chat.id)
        return
    form = await FORM.save(state, HearingForm.summary, agenda=agenda)
    await _summary(turn, form).send(turn.bot, message.chat.id)


async def agenda_skipped(callback: CallbackQuery, turn: Turn, state: FSMContext) -> None:
    await callback.answer()
    form = await FORM.save(state, HearingForm.summary, agenda="")
    await edit_or_send(turn.bot, callback, _summary(turn, form))


async def create(callback: CallbackQuery, turn: Turn, state: FSMContext) -> None:
    await callback.answer()
    form = await FORM.get(state)
    starts = _starts(turn, form["date"], time.fromisoformat(form["time"]))
    if starts <= turn.now:  # the form sat open past the hearing's time
        await FORM.save(state, HearingForm.date)
        await edit_or_send(turn.bot, callback, _prompt(turn, "date", "past_time"))
        return
    try:
        hearing = await hearings.create_hearing(
            turn.repos,
            turn.municipality,
            kind=form["kind"],
            starts_at=starts,
            place=form["place"],
            now=turn.now,
            village=form["village"],
            agenda=form["agenda"],
            actor=turn.actor,
        )
    except ServiceError as exc:  # e.g. the village was removed meanwhile
        log.warning("telegram hearing form: not created (%s)", exc)
        await FORM.forget(state)
        screen = Screen(turn.text("tg_hearing_error", code="not_created"))
        await edit_or_send(turn.bot, callback, screen)
        return
    await FORM.forget(state)
    log.info("telegram hearing created: hearing=%s by resident=%s", hearing.id, turn.linked.id)
    text = turn.text("tg_hearing_created", hearing=hearing, starts=starts, village=form["village"])
    label = turn.labels()["hearing_publish"]
    data = PublishHearing(hearing=hearing.id).pack()
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=label, callback_data=data)]]
    )
    await edit_or_send(turn.bot, callback, Screen(text, markup))


# --- parsing ----------------------------------------------------------------------------


def parse_date(text: str) -> date | None:
    """``04.12.2026``, as the form asks (or ISO ``2026-12-04``); None if not a date."""
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


def parse_time(text: str) -> time | None:
    """``10:00`` (or ``10.00``, ``9:30``); None if not a time of day."""
    match = _TIME.match(text.strip())
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        return None
    return time(int(match[1]), int(match[2]))


def _starts(turn: Turn, day: str, moment: time) -> datetime:
    """The local date and time as an aware datetime in the municipality's time zone."""
    return datetime.combine(date.fromisoformat(day), moment, tzinfo=turn.renderer.tz)


# --- screens ---------------------------------------------------------------------------


def _prompt(
    turn: Turn,
    step: str,
    error: str | None = None,
    *,
    limit: int = 0,
    villages: list[Village] | None = None,
) -> Screen:
    """The question of ``step`` (after the reason the last answer was refused, if any)."""
    text = turn.text("tg_hearing_form", step=step, error=error, limit=limit)
    label = turn.labels()
    rows: list[list[InlineKeyboardButton]] = []
    if step == "kind":
        rows = [[_button(label[f"hearing_{kind}"], "kind", kind)] for kind in hearings.KINDS]
    elif step == "audience":
        rows = [[_button(label["hearing_everyone"], "audience", "all")]]
        rows += [
            [_button(in_language(v.name, turn.language), "audience", str(v.id))]
            for v in villages or []
        ]
    elif step == "agenda":
        rows = [[_button(label["hearing_skip"], "skip")]]
    rows.append([_button(label["hearing_cancel"], "cancel")])
    return Screen(text, InlineKeyboardMarkup(inline_keyboard=rows))


def _summary(turn: Turn, form: dict[str, Any]) -> Screen:
    text = turn.text(
        "tg_hearing_summary",
        kind=form["kind"],
        starts=_starts(turn, form["date"], time.fromisoformat(form["time"])),
        place=form["place"],
        village=form["village"],
        agenda=form["agenda"],
    )
    label = turn.labels()
    row = [_button(label["hearing_create"], "create"), _button(label["hearing_cancel"], "cancel")]
    return Screen(text, InlineKeyboardMarkup(inline_keyboard=[row]))


def _button(text: str, action: str, value: str = "") -> InlineKeyboardButton:
    data = FormAction(action=action, value=value).pack()
    return InlineKeyboardButton(text=text, callback_data=data)
