"""The residents pages: search (phone or a part of the name), a resident's card, correct
the name, gender and birth year (audit-logged), grant and revoke roles (admins only, as
``civic-bot staff`` does). Each handler reads the form, calls one service of
:mod:`bot.core.services.resident_desk` and shows a page."""

from __future__ import annotations

from aiohttp import web

from bot.core.services import resident_desk
from bot.core.services.audit import Actor
from bot.core.services.errors import Refused, ServiceError
from bot.core.services.resident_desk import Correction
from bot.webui.base import ROOT, VIA, console_of, field, not_found, page, redirect, staff, text
from storage.models import ROLES, Resident

RESIDENT = r"/residents/{resident:\d{1,9}}"


def add_routes(app: web.Application) -> None:
    add = app.router.add_route
    add("GET", "/residents", search, name="residents")
    add("GET", RESIDENT, show, name="resident")
    add("POST", RESIDENT + "/correct", correct, name="resident_correct")
    add("POST", RESIDENT + "/roles", change_role, name="resident_roles")


def _here(resident: Resident) -> str:
    return f"{ROOT}residents/{resident.id}"


async def _resident(request: web.Request) -> Resident | None:
    console = console_of(request)
    resident = await console.repos.residents.by_id(int(request.match_info["resident"]))
    if resident is None or resident.municipality_id != console.municipality.id:
        return None
    return resident


async def search(request: web.Request) -> web.Response:
    console = console_of(request)
    query = request.query.get("q", "")[:100].strip()
    if not query:
        return page(request, "residents", query="", found=None)
    try:
        found = await resident_desk.search(console.repos, console.municipality, query)
    except Refused as refused:
        return page(request, "residents", status=400, query=query, found=None,
                    error=text(request, "resident_" + refused.code))  # fmt: skip
    return page(request, "residents", query=query, found=found)


async def show(
    request: web.Request, *, status: int = 200, error: str | None = None,
    form: Correction | None = None,
) -> web.Response:  # fmt: skip
    resident = await _resident(request)
    if resident is None:
        return await not_found(request)
    console = console_of(request)
    card = await resident_desk.card(console.repos, console.municipality, resident.id)
    if card is None:
        return await not_found(request)
    if form is None:
        form = Correction(resident.name, resident.gender, str(resident.birth_year or ""))
    return page(request, "resident", status=status, resident=resident, card=card, form=form,
                roles=ROLES, here=_here(resident), may_grant="admin" in staff(request).roles,
                error=error)  # fmt: skip


async def correct(request: web.Request) -> web.StreamResponse:
    resident = await _resident(request)
    if resident is None:
        return await not_found(request)
    console = console_of(request)
    form = Correction(
        name=await field(request, "name", resident_desk.MAX_NAME + 1),
        gender=await field(request, "gender", 10),
        birth_year=await field(request, "birth_year", 10),
    )
    try:
        changed = await resident_desk.correct(
            console.repos, resident, form, now=console.clock.now(),
            actor=Actor.of(staff(request).resident, VIA),
        )  # fmt: skip
    except Refused as refused:
        return await show(request, status=400, form=form,
                          error=text(request, "resident_" + refused.code))  # fmt: skip
    key = "resident_corrected" if changed else "resident_unchanged"
    return redirect(request, _here(resident), notice=text(request, key))


async def change_role(request: web.Request) -> web.StreamResponse:
    resident = await _resident(request)
    if resident is None:
        return await not_found(request)
    console = console_of(request)
    action = await field(request, "action", 10)
    if action not in ("grant", "revoke"):
        return await show(request, status=400, error=text(request, "resident_bad_role"))
    member = staff(request)
    try:
        changed = await resident_desk.change_role(
            console.repos, console.municipality, resident, await field(request, "role", 20),
            action == "grant", now=console.clock.now(), actor=Actor.of(member.resident, VIA),
            actor_roles=member.roles,
        )  # fmt: skip
    except ServiceError as refused:
        code = refused.code if isinstance(refused, Refused) else "bad_role"
        return await show(request, status=400, error=text(request, "resident_" + code))
    done = "resident_role_granted" if action == "grant" else "resident_role_revoked"
    key = done if changed else "resident_unchanged"
    return redirect(request, _here(resident), notice=text(request, key))
