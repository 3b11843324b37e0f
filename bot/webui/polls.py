"""The polls pages: list, create (four ballot types, rule, budget, options typed or taken
from approved problems), open now, close early, results once closed, exports (CSV, .pb).
Each handler reads the form, calls one service of :mod:`bot.core.services.poll_desk` and
shows a page."""

from __future__ import annotations

from aiohttp import web

from bot.core.services import poll_desk
from bot.core.services.audit import Actor
from bot.core.services.errors import Refused, ServiceError
from bot.core.services.poll_desk import PollForm
from bot.core.services.polls import BALLOT_TYPES, RULES
from bot.webui.base import (
    HEADERS,
    ROOT,
    VIA,
    console_of,
    field,
    not_found,
    page,
    redirect,
    staff,
    text,
)
from storage.models import Poll

POLL = r"/polls/{poll:\d{1,9}}"


def add_routes(app: web.Application) -> None:
    add = app.router.add_route
    add("GET", "/polls", poll_list, name="poll_list")
    add("GET", "/polls/new", new_form, name="poll_new_form")
    add("POST", "/polls/new", create, name="poll_create")
    add("GET", POLL, show, name="poll")
    add("POST", POLL + "/open", open_now, name="poll_open")
    add("POST", POLL + "/close", close_now, name="poll_close")
    add("GET", POLL + r"/export.{kind:csv|pb}", export, name="poll_export")


def _actor(request: web.Request) -> Actor:
    return Actor.of(staff(request).resident, VIA)


def _here(poll: Poll) -> str:
    return f"{ROOT}polls/{poll.id}"


def _refusal(request: web.Request, exc: ServiceError) -> str:
    if isinstance(exc, Refused):
        return text(request, "poll_" + exc.code)
    return text(request, "refused", reason=str(exc))


async def _poll(request: web.Request) -> Poll | None:
    console = console_of(request)
    return await console.repos.polls.get(console.municipality.id, int(request.match_info["poll"]))


async def poll_list(request: web.Request) -> web.Response:
    console = console_of(request)
    shown = await poll_desk.listing(console.repos, console.municipality, now=console.clock.now())
    return page(request, "polls", polls=shown)


async def _form_page(
    request: web.Request, form: PollForm, *, status: int = 200, error: str | None = None
) -> web.Response:
    console = console_of(request)
    return page(
        request,
        "poll_form",
        status=status,
        form=form,
        types=BALLOT_TYPES,
        rules=RULES,
        problems=await poll_desk.approved_problems(console.repos, console.municipality),
        villages=await console.repos.municipalities.villages(console.municipality.id),
        max_title=poll_desk.MAX_TITLE,
        error=error,
    )


async def new_form(request: web.Request) -> web.Response:
    return await _form_page(request, PollForm())


async def _read_form(request: web.Request) -> PollForm:
    posted = await request.post()
    chosen = [v for v in posted.getall("problem", []) if isinstance(v, str)][:100]
    problems = {raw[:12]: await field(request, f"cost_{raw[:12]}", 20) for raw in chosen}
    return PollForm(
        title=await field(request, "title", poll_desk.MAX_TITLE + 1),
        ballot_type=await field(request, "ballot_type", 20),
        limit=await field(request, "limit", 10),
        options=await field(
            request, "options", poll_desk.MAX_OPTIONS * (poll_desk.MAX_LABEL + 30), lines=True
        ),
        problems=problems,
        rule=await field(request, "rule", 20),
        budget=await field(request, "budget", 20),
        opens_date=await field(request, "opens_date", 20),
        opens_time=await field(request, "opens_time", 20),
        closes_date=await field(request, "closes_date", 20),
        closes_time=await field(request, "closes_time", 20),
        village=await field(request, "village", 200),
    )


async def create(request: web.Request) -> web.StreamResponse:
    console = console_of(request)
    form = await _read_form(request)
    try:
        poll = await poll_desk.create(
            console.repos, console.municipality, form, tz=console.renderer.tz,
            now=console.clock.now(), actor=_actor(request),
        )  # fmt: skip
    except ServiceError as exc:
        return await _form_page(request, form, status=400, error=_refusal(request, exc))
    return redirect(request, _here(poll), notice=text(request, "poll_created"))


async def show(request: web.Request, *, status: int = 200, error: str | None = None):
    poll = await _poll(request)
    if poll is None:
        return await not_found(request)
    console = console_of(request)
    shown = await poll_desk.view(
        console.repos, poll, now=console.clock.now(), small_group_min=console.small_group_min
    )
    return page(request, "poll", status=status, shown=shown, here=_here(poll), error=error)


async def open_now(request: web.Request) -> web.StreamResponse:
    poll = await _poll(request)
    if poll is None:
        return await not_found(request)
    console = console_of(request)
    try:
        await poll_desk.open_now(console.repos, poll, now=console.clock.now(),
                                 actor=_actor(request))  # fmt: skip
    except Refused as exc:
        return await show(request, status=400, error=_refusal(request, exc))
    return redirect(request, _here(poll), notice=text(request, "poll_opened"))


async def close_now(request: web.Request) -> web.StreamResponse:
    poll = await _poll(request)
    if poll is None:
        return await not_found(request)
    console = console_of(request)
    try:
        await poll_desk.close_now(
            console.repos, poll, confirmed=await field(request, "confirm", 1) == "1",
            now=console.clock.now(), actor=_actor(request),
        )  # fmt: skip
    except Refused as exc:
        return await show(request, status=400, error=_refusal(request, exc))
    return redirect(request, _here(poll), notice=text(request, "poll_closed"))


async def export(request: web.Request) -> web.StreamResponse:
    poll = await _poll(request)
    if poll is None:
        return await not_found(request)
    console = console_of(request)
    kind = request.match_info["kind"]
    try:
        body = await poll_desk.export(
            console.repos, console.municipality, poll, kind, now=console.clock.now(),
            small_group_min=console.small_group_min,
        )  # fmt: skip
    except ServiceError as exc:
        return await show(request, status=400, error=_refusal(request, exc))
    name = f"poll-{poll.id}.{kind}"
    return web.Response(
        text=body,
        content_type="text/csv" if kind == "csv" else "text/plain",
        charset="utf-8",
        headers={**HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
    )
