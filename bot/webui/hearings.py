"""The hearings pages: list, create, edit, publish, cancel, the invitations with their
answers, the outcome. Each handler reads the form, calls one service of
:mod:`bot.core.services.hearing_desk` (which calls the command line's own) and shows a page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from bot.core.services import hearing_desk, hearings
from bot.core.services.audit import Actor
from bot.core.services.errors import Refused, ServiceError
from bot.core.services.hearing_desk import HearingForm
from bot.webui.base import (
    ROOT,
    VIA,
    console_of,
    field,
    hearing_of,
    not_found,
    page,
    redirect,
    staff,
    text,
)
from storage.models import Hearing

HEARING = r"/hearings/{hearing:\d{1,9}}"


def add_routes(app: web.Application) -> None:
    add = app.router.add_route
    add("GET", "/hearings", hearing_list, name="hearing_list")
    add("GET", "/hearings/new", new_form, name="hearing_new_form")
    add("POST", "/hearings/new", create, name="hearing_create")
    add("GET", HEARING, show, name="hearing")
    add("GET", HEARING + "/edit", edit_form, name="hearing_edit_form")
    add("POST", HEARING + "/edit", edit, name="hearing_edit")
    add("POST", HEARING + "/publish", publish, name="hearing_publish")
    add("POST", HEARING + "/cancel", cancel, name="hearing_cancel")
    add("POST", HEARING + "/outcome", outcome, name="hearing_outcome")


def _actor(request: web.Request) -> Actor:
    return Actor.of(staff(request).resident, VIA)


def _here(hearing: Hearing) -> str:
    return f"{ROOT}hearings/{hearing.id}"


def _refusal(request: web.Request, exc: ServiceError) -> str:
    if isinstance(exc, Refused):
        return text(request, "hearing_" + exc.code)
    return text(request, "refused", reason=str(exc))


async def hearing_list(request: web.Request) -> web.Response:
    console = console_of(request)
    shown = await hearing_desk.listing(console.repos, console.municipality)
    return page(request, "hearings", hearings=shown, now=console.clock.now())


async def _form_page(
    request: web.Request, *, hearing: Hearing | None, form: HearingForm, status: int = 200,
    error: str | None = None,
) -> web.Response:  # fmt: skip
    console = console_of(request)
    return page(
        request,
        "hearing_form",
        status=status,
        hearing=hearing,
        form=form,
        kinds=hearings.KINDS,
        meetings=hearings.MEETINGS,
        age_groups=hearings.MEETING_AGE_GROUPS,
        villages=await console.repos.municipalities.villages(console.municipality.id),
        limits={"place": hearing_desk.MAX_PLACE, "agenda": hearing_desk.MAX_AGENDA},
        error=error,
    )


async def new_form(request: web.Request) -> web.Response:
    return await _form_page(request, hearing=None, form=HearingForm("", "", ""))


async def _read_form(request: web.Request) -> HearingForm:
    return HearingForm(
        date=await field(request, "date", 20),
        time=await field(request, "time", 20),
        place=await field(request, "place", hearing_desk.MAX_PLACE + 1),
        agenda=await field(request, "agenda", hearing_desk.MAX_AGENDA + 1, lines=True),
        kind=await field(request, "kind", 20),
        village=await field(request, "village", 200),
        meeting=await field(request, "meeting", 20) or "hearing",
        age_group=await field(request, "age_group", 20),
    )


async def create(request: web.Request) -> web.StreamResponse:
    console = console_of(request)
    form = await _read_form(request)
    try:
        hearing = await hearing_desk.create(
            console.repos, console.municipality, form, tz=console.renderer.tz,
            now=console.clock.now(), actor=_actor(request),
        )  # fmt: skip
    except ServiceError as exc:
        return await _form_page(
            request, hearing=None, form=form, status=400, error=_refusal(request, exc)
        )
    return redirect(request, _here(hearing), notice=text(request, "hearing_created"))


async def show(
    request: web.Request, *, status: int = 200, typed: str = "", **data: Any
) -> web.Response:
    hearing = await hearing_of(request)
    if hearing is None:
        return await not_found(request)
    console = console_of(request)
    return page(
        request,
        "hearing",
        status=status,
        shown=await hearing_desk.overview(console.repos, hearing),
        here=_here(hearing),
        ahead=datetime.fromisoformat(hearing.starts_at) > console.clock.now(),
        max_outcome=hearing_desk.MAX_OUTCOME,
        typed=typed,
        **data,
    )


async def edit_form(request: web.Request) -> web.Response:
    hearing = await hearing_of(request)
    if hearing is None:
        return await not_found(request)
    local = hearing_desk.local_start(hearing, console_of(request).renderer.tz)
    form = HearingForm(f"{local:%Y-%m-%d}", f"{local:%H:%M}", hearing.place, hearing.agenda)
    return await _form_page(request, hearing=hearing, form=form)


async def edit(request: web.Request) -> web.StreamResponse:
    hearing = await hearing_of(request)
    if hearing is None:
        return await not_found(request)
    console = console_of(request)
    form = await _read_form(request)
    try:
        _, told = await hearing_desk.edit(
            console.repos, console.renderer, hearing, form, now=console.clock.now(),
            actor=_actor(request),
        )  # fmt: skip
    except ServiceError as exc:
        return await _form_page(
            request, hearing=hearing, form=form, status=400, error=_refusal(request, exc)
        )
    return redirect(request, _here(hearing), notice=text(request, "hearing_saved", told=told))


async def publish(request: web.Request) -> web.StreamResponse:
    hearing = await hearing_of(request)
    if hearing is None:
        return await not_found(request)
    console = console_of(request)
    try:
        queued = await hearing_desk.publish(
            console.repos, console.renderer, hearing, now=console.clock.now(),
            actor=_actor(request),
        )  # fmt: skip
    except ServiceError as exc:
        return await show(request, status=400, error=_refusal(request, exc))
    notice = text(request, "hearing_published_now", count=queued)
    return redirect(request, _here(hearing), notice=notice)


async def cancel(request: web.Request) -> web.StreamResponse:
    hearing = await hearing_of(request)
    if hearing is None:
        return await not_found(request)
    console = console_of(request)
    try:
        told = await hearing_desk.cancel(
            console.repos, console.renderer, hearing,
            confirmed=await field(request, "confirm", 1) == "1", now=console.clock.now(),
            actor=_actor(request),
        )  # fmt: skip
    except ServiceError as exc:
        return await show(request, status=400, error=_refusal(request, exc))
    return redirect(request, _here(hearing), notice=text(request, "hearing_cancelled_now",
                                                          told=told))  # fmt: skip


async def outcome(request: web.Request) -> web.StreamResponse:
    hearing = await hearing_of(request)
    if hearing is None:
        return await not_found(request)
    console = console_of(request)
    typed = await field(request, "outcome", hearing_desk.MAX_OUTCOME + 1, lines=True)
    try:
        told = await hearing_desk.outcome(
            console.repos, console.renderer, hearing, typed, now=console.clock.now(),
            actor=_actor(request),
        )  # fmt: skip
    except ServiceError as exc:
        return await show(request, status=400, error=_refusal(request, exc), typed=typed)
    return redirect(request, _here(hearing), notice=text(request, "hearing_outcome_sent",
                                                          told=told))  # fmt: skip
