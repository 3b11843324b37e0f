"""Monitoring acts in Telegram: members of the monitoring group file them with photos.

``/act`` (or ``ACT`` / ``АКТ`` without arguments; ``ACT 3 PURCHASE text`` stays the text
command): a project (buttons, or its number), a kind (buttons), then text and/or photos
in as many messages as needed (of each photo the largest size's ``file_id``), and
"File the act", which calls ``monitoring.file_act(..., photos=[...])``: the service
checks the role and everything else again. Cancel (a button at every step, or
``/cancel``) leaves nothing behind: nothing is written before "File the act".
Non-members are refused at ``/act`` already, with the service's ``not_monitor``.
Every resident reads the acts (``acts``).

The answers live in the FSM data under ``act_form`` only (``forms.FormAnswers``). Each
input is added and saved before anything is sent, so the photos of one album (one
update each) do not lose one another.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from aiogram import Bot, F, Router
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    PhotoSize,
)

from bot.core.languages import in_language
from bot.core.services import monitoring
from bot.core.services.errors import Refused
from handlers.telegram import replies
from handlers.telegram.filters import LINKED, Keyword, has_text, not_a_command, slash_command
from handlers.telegram.forms import FormAnswers, stale_button
from handlers.telegram.screens import Screen, edit, edit_or_send
from handlers.telegram.turn import Turn
from storage.models import Project

log = logging.getLogger(__name__)

MAX_PHOTOS = 10  # one album


class ActForm(StatesGroup):
    project = State()
    kind = State()
    content = State()


FORM = FormAnswers("act_form", ActForm)


class ActStep(CallbackData, prefix="af"):
    """``af:project:3``, ``af:kind:purchase``, ``af:done``, ``af:cancel``."""

    action: str
    value: str = ""


def register(router: Router) -> None:
    """Before ``acts`` and ``budget``: in the form's last step any text (even "ACTS 3")
    is part of the act."""
    message, button = router.message.register, router.callback_query.register

    message(cancel_command, slash_command, Command("cancel"), StateFilter(ActForm))
    message(project_typed, StateFilter(ActForm.project), has_text, not_a_command)
    message(content_received, StateFilter(ActForm.content), not_a_command)
    message(start, Keyword("act", args=False), LINKED)

    button(cancel_button, ActStep.filter(F.action == "cancel"))
    button(
        project_chosen, ActStep.filter(F.action == "project"), StateFilter(ActForm.project), LINKED
    )
    button(kind_chosen, ActStep.filter(F.action == "kind"), StateFilter(ActForm.kind))
    button(done, ActStep.filter(F.action == "done"), StateFilter(ActForm.content), LINKED)
    button(stale_button, ActStep.filter())  # a button of a step already done


# --- start, cancel ----------------------------------------------------------------------


async def start(message: Message, turn: Turn, state: FSMContext) -> None:
    """``/act``: a fresh form (one in progress is dropped), for the monitoring group."""
    await FORM.forget(state)
    try:
        projects = await monitoring.projects_to_monitor(turn.repos, turn.municipality, turn.linked)
    except Refused as exc:
        log.info("telegram act refused: resident=%s code=%s", turn.linked.id, exc.code)
        text = turn.text("budget_refused", code=exc.code)
        await Screen(text).send(turn.bot, message.chat.id)
        return
    if not projects:
        await Screen(_form_text(turn, "no_projects")).send(turn.bot, message.chat.id)
        return
    await state.set_state(ActForm.project)
    await FORM.put(state, {})
    await _project_prompt(turn, projects).send(turn.bot, message.chat.id)


async def cancel_command(message: Message, turn: Turn, state: FSMContext) -> None:
    await FORM.forget(state)
    await Screen(_form_text(turn, "cancelled")).send(turn.bot, message.chat.id)


async def cancel_button(callback: CallbackQuery, turn: Turn, state: FSMContext) -> None:
    await callback.answer()
    await FORM.forget(state)
    await edit_or_send(turn.bot, callback, Screen(_form_text(turn, "cancelled")))


# --- project and kind -------------------------------------------------------------------


async def project_chosen(
    callback: CallbackQuery, callback_data: ActStep, turn: Turn, state: FSMContext
) -> None:
    await callback.answer()
    project = await _project(turn, callback_data.value)
    if project is None:  # a project since removed
        projects = await monitoring.projects(turn.repos, turn.municipality)
        await edit_or_send(turn.bot, callback, _project_prompt(turn, projects, "unknown_project"))
        return
    await FORM.save(state, ActForm.kind, project=project.id)
    await edit_or_send(turn.bot, callback, _kind_prompt(turn, project))


async def project_typed(message: Message, turn: Turn, state: FSMContext) -> None:
    project = await _project(turn, message.text or "")
    if project is None:
        projects = await monitoring.projects(turn.repos, turn.municipality)
        screen = _project_prompt(turn, projects, "unknown_project")
        await screen.send(turn.bot, message.chat.id)
        return
    await FORM.save(state, ActForm.kind, project=project.id)
    await _kind_prompt(turn, project).send(turn.bot, message.chat.id)


async def kind_chosen(
    callback: CallbackQuery, callback_data: ActStep, turn: Turn, state: FSMContext
) -> None:
    await callback.answer()
    if callback_data.value not in monitoring.KINDS:
        return
    form = await FORM.get(state)
    project = await _project(turn, str(form.get("project", "")))
    if project is None:
        await FORM.forget(state)
        text = turn.text("budget_refused", code="unknown_project", number=form.get("project"))
        await edit_or_send(turn.bot, callback, Screen(text))
        return
    await FORM.save(state, ActForm.content, kind=callback_data.value, text=[], photos=[])
    screen = _content_screen(turn, "content", project, callback_data.value, [], [])
    await edit_or_send(turn.bot, callback, screen)


# --- text and photos --------------------------------------------------------------------


async def content_received(message: Message, turn: Turn, state: FSMContext) -> None:
    """Text, or a photo (its largest size) with its caption: added and saved at once,
    then the count. Anything else (a document, a sticker...) is not part of an act."""
    form = await FORM.get(state)
    texts: list[str] = list(form.get("text", []))
    photos: list[str] = list(form.get("photos", []))
    text = " ".join((message.text or message.caption or "").split())
    photo = _largest(message.photo) if message.photo else None
    error = None
    if photo is None and not text:
        error = "not_content"
    elif photo is not None and len(photos) >= MAX_PHOTOS:
        error = "too_many_photos"
    elif text and len(" ".join([*texts, text])) > monitoring.MAX_ACT:
        error = "too_long"
    else:
        texts += [text] if text else []
        photos += [photo] if photo else []
        form.update(text=texts, photos=photos)
        await FORM.put(state, form)
    project = await _project(turn, str(form.get("project", "")))
    screen = _content_screen(turn, "status", project, form.get("kind"), texts, photos, error)
    await _show_status(turn.bot, message, state, screen)


def _largest(sizes: list[PhotoSize]) -> str:
    return max(sizes, key=lambda size: (size.width * size.height, size.file_size or 0)).file_id


async def _show_status(bot: Bot, message: Message, state: FSMContext, screen: Screen) -> None:
    """The count of what is received: one message per input, but one per album (the
    status of the album's first photo is edited as the others arrive)."""
    form = await FORM.get(state)
    group, status = message.media_group_id, form.get("status")
    if group is not None and group == form.get("group") and status is not None:
        with contextlib.suppress(TelegramBadRequest):  # sent anew
            await edit(bot, message.chat.id, status, screen)
            return
    markup = screen.markup if isinstance(screen.markup, InlineKeyboardMarkup) else None
    if replies.queued():  # behind a message the outbox keeps: it goes there too
        await screen.send(bot, message.chat.id)
        return
    try:
        sent = await bot.send_message(
            message.chat.id, screen.text, parse_mode=ParseMode.HTML, reply_markup=markup
        )
    except replies.FOR_THE_MOMENT:
        await screen.send(bot, message.chat.id, busy=True)  # queued (not edited later)
        return
    form = await FORM.get(state)
    form.update(status=sent.message_id, group=group)
    await FORM.put(state, form)


# --- filing -----------------------------------------------------------------------------


async def done(callback: CallbackQuery, turn: Turn, state: FSMContext) -> None:
    form, resident = await FORM.get(state), turn.linked
    try:
        project, act_id = await monitoring.file_act(
            turn.repos,
            turn.municipality,
            resident,
            int(form.get("project", 0)),
            str(form.get("kind", "")),
            " ".join(form.get("text", [])),
            now=turn.now,
            photos=list(form.get("photos", [])),
        )
    except Refused as exc:
        log.info("telegram act refused: resident=%s code=%s", resident.id, exc.code)
        refusal = {"code": exc.code, "number": form.get("project")}
        if exc.code == "empty":  # nothing sent yet: the form stays open
            await callback.answer(turn.alert("budget_refused", **refusal), show_alert=True)
            return
        await callback.answer()
        await FORM.forget(state)
        await edit_or_send(turn.bot, callback, Screen(turn.text("budget_refused", **refusal)))
        return
    await callback.answer()
    await FORM.forget(state)
    log.info(
        "telegram act filed: act=%s project=%s resident=%s photos=%s",
        act_id,
        project.id,
        resident.id,
        len(form.get("photos", [])),
    )
    screen = turn.with_menu("act_filed", project=project, act_id=act_id, kind=form.get("kind"))
    await edit_or_send(turn.bot, callback, screen)


# --- the form's data and screens --------------------------------------------------------


async def _project(turn: Turn, number: str) -> Project | None:
    word = number.strip().lstrip("#№")
    if not word.isdecimal() or len(word) > 9:
        return None
    return await monitoring.find_project(turn.repos, turn.municipality, int(word))


def _form_text(turn: Turn, step: str, **data: Any) -> str:
    values: dict[str, Any] = {
        "project": None,
        "kind": None,
        "photos": 0,
        "chars": 0,
        "error": None,
        "max_text": monitoring.MAX_ACT,
        "max_photos": MAX_PHOTOS,
    }
    values.update(data)
    return turn.text("tg_act_form", step=step, **values)


def _button(label: str, action: str, value: str = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=label, callback_data=ActStep(action=action, value=value).pack()
    )


def _cancel_row(turn: Turn) -> list[InlineKeyboardButton]:
    return [_button(turn.labels()["act_cancel"], "cancel")]


def _project_prompt(turn: Turn, projects: list[Project], error: str | None = None) -> Screen:
    rows = [
        [_button(f"№{p.id} {in_language(p.name, turn.language)}", "project", str(p.id))]
        for p in projects
    ]
    rows.append(_cancel_row(turn))
    text = _form_text(turn, "project", error=error)
    return Screen(text, InlineKeyboardMarkup(inline_keyboard=rows))


def _kind_prompt(turn: Turn, project: Project) -> Screen:
    label = turn.labels()
    kinds = [_button(label[f"act_{kind}"], "kind", kind) for kind in monitoring.KINDS]
    rows = [kinds[:2], kinds[2:], _cancel_row(turn)]
    text = _form_text(turn, "kind", project=project)
    return Screen(text, InlineKeyboardMarkup(inline_keyboard=rows))


def _content_screen(
    turn: Turn,
    step: str,
    project: Project | None,
    kind: str | None,
    texts: list[str],
    photos: list[str],
    error: str | None = None,
) -> Screen:
    text = _form_text(
        turn,
        step,
        project=project,
        kind=kind,
        photos=len(photos),
        chars=len(" ".join(texts)),
        error=error,
    )
    done_button = _button(turn.labels()["act_done"], "done")
    rows = [[done_button], _cancel_row(turn)]
    return Screen(text, InlineKeyboardMarkup(inline_keyboard=rows))
