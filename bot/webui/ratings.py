"""The service ratings page: every round's averages by service, overall and by village, and
opening a new round (one at a time: it replaces the open one), through
:mod:`bot.core.services.ratings` as ``civic-bot rating`` does, audit-logged."""

from __future__ import annotations

from aiohttp import web

from bot.core.services import ratings
from bot.core.services.audit import Actor
from bot.core.services.errors import ServiceError
from bot.webui.base import ROOT, VIA, console_of, field, page, redirect, staff, text

MAX_NAME = 200


def add_routes(app: web.Application) -> None:
    add = app.router.add_route
    add("GET", "/ratings", results, name="ratings")
    add("POST", "/ratings/open", open_round, name="rating_open")


async def results(
    request: web.Request, *, status: int = 200, error: str | None = None,
    name: str = "", services: str = "",
) -> web.Response:  # fmt: skip
    console = console_of(request)
    shown = await ratings.results(console.repos, console.municipality)
    return page(request, "ratings", status=status, shown=shown, round_name=name,
                services=services, error=error)  # fmt: skip


async def open_round(request: web.Request) -> web.StreamResponse:
    console = console_of(request)
    name = await field(request, "name", MAX_NAME)
    services = await field(request, "services", 20 * (MAX_NAME + 1), lines=True)
    try:
        await ratings.open_round(
            console.repos, console.municipality, name, services.split("\n"),
            now=console.clock.now(), actor=Actor.of(staff(request).resident, VIA),
        )  # fmt: skip
    except ServiceError:
        return await results(request, status=400, name=name, services=services,
                             error=text(request, "rating_form_needed"))  # fmt: skip
    return redirect(request, ROOT + "ratings", notice=text(request, "rating_opened"))
