"""The problems page: the proposals waiting for moderation (approve, reject with a reason
the proposers are sent, merge a duplicate into another problem) and the approved ones. Each
handler reads the form, calls one service of :mod:`bot.core.services.problems` (as the CLI
does, audit-logged with the staff member) and shows a page."""

from __future__ import annotations

from aiohttp import web

from bot.core.services import problem_desk, problems
from bot.core.services.audit import Actor
from bot.core.services.errors import ServiceError
from bot.webui.base import ROOT, VIA, console_of, field, page, redirect, staff, text

PROBLEM = r"/problems/{problem:\d{1,9}}"
HERE = ROOT + "problems"


def add_routes(app: web.Application) -> None:
    add = app.router.add_route
    add("GET", "/problems", listing, name="problems")
    add("POST", PROBLEM + "/approve", approve, name="problem_approve")
    add("POST", PROBLEM + "/reject", reject, name="problem_reject")
    add("POST", PROBLEM + "/merge", merge, name="problem_merge")


def _actor(request: web.Request) -> Actor:
    return Actor.of(staff(request).resident, VIA)


def _number(request: web.Request) -> int:
    return int(request.match_info["problem"])


async def listing(request: web.Request, *, status: int = 200, error: str | None = None):
    console = console_of(request)
    shown = await problem_desk.moderation(console.repos, console.municipality)
    return page(request, "problems", status=status, shown=shown,
                max_reason=problems.MAX_PROBLEM, error=error)  # fmt: skip


async def _refused(request: web.Request, exc: ServiceError) -> web.Response:
    return await listing(request, status=400, error=text(request, "refused", reason=str(exc)))


async def approve(request: web.Request) -> web.StreamResponse:
    console = console_of(request)
    try:
        await problems.approve(console.repos, console.municipality, _number(request),
                               now=console.clock.now(), actor=_actor(request))  # fmt: skip
    except ServiceError as exc:
        return await _refused(request, exc)
    return redirect(
        request, HERE, notice=text(request, "problem_approved", number=_number(request))
    )


async def reject(request: web.Request) -> web.StreamResponse:
    console = console_of(request)
    reason = await field(request, "reason", problems.MAX_PROBLEM)
    if not reason:
        return await listing(request, status=400, error=text(request, "problem_reason_needed"))
    try:
        told = await problems.reject(
            console.repos, console.municipality, console.renderer, _number(request), reason,
            now=console.clock.now(), actor=_actor(request),
        )  # fmt: skip
    except ServiceError as exc:
        return await _refused(request, exc)
    notice = text(request, "problem_rejected", number=_number(request), told=told)
    return redirect(request, HERE, notice=notice)


async def merge(request: web.Request) -> web.StreamResponse:
    console = console_of(request)
    into = (await field(request, "into", 12)).lstrip("№#")
    if not (into.isascii() and into.isdecimal()):
        return await listing(request, status=400, error=text(request, "problem_bad_number"))
    try:
        target = await problems.merge(
            console.repos, console.municipality, _number(request), int(into),
            now=console.clock.now(), actor=_actor(request),
        )  # fmt: skip
    except ServiceError as exc:
        return await _refused(request, exc)
    notice = text(request, "problem_merged", number=_number(request), into=target.id)
    return redirect(request, HERE, notice=notice)
