"""The broadcast composer: compose (every village or one), a preview on submit (recipients
by channel, the text per channel, SMS segments and an estimated cost), confirm, the
progress (refresh the page), cancel. Each handler reads the form, calls one service of
:mod:`bot.core.services.broadcast_desk` and shows a page."""

from __future__ import annotations

from aiohttp import web

from bot.core.languages import LANGUAGES
from bot.core.services import broadcast, broadcast_desk
from bot.core.services.audit import Actor
from bot.core.services.broadcast_desk import BroadcastForm, Preview
from bot.core.services.errors import Refused
from bot.webui.base import ROOT, VIA, console_of, field, not_found, page, redirect, staff, text

HERE = f"{ROOT}broadcast"
ONE = r"/broadcast/{broadcast:\d{1,9}}"


def add_routes(app: web.Application) -> None:
    add = app.router.add_route
    add("GET", "/broadcast", compose, name="broadcast_compose")
    add("POST", "/broadcast/preview", preview, name="broadcast_preview")
    add("POST", "/broadcast", send, name="broadcast_send")
    add("GET", ONE, show, name="broadcast")
    add("POST", ONE + "/cancel", cancel, name="broadcast_cancel")


async def _form(request: web.Request) -> BroadcastForm:
    return BroadcastForm(
        body=await field(request, "body", broadcast.MAX_BODY + 1, lines=True),
        audience=await field(request, "audience", 220),
        translations={
            lang: await field(request, f"body_{lang}", broadcast.MAX_BODY + 1, lines=True)
            for lang in LANGUAGES
        },
        date=await field(request, "date", 20),
        time=await field(request, "time", 20),
    )


async def _composer(
    request: web.Request,
    form: BroadcastForm,
    *,
    status: int = 200,
    preview: Preview | None = None,
    error: str | None = None,
) -> web.Response:
    console = console_of(request)
    return page(
        request, "broadcast", status=status, form=form, max_body=broadcast.MAX_BODY,
        villages=await console.repos.municipalities.villages(console.municipality.id),
        hearings=await broadcast_desk.audiences(
            console.repos, console.municipality, now=console.clock.now()
        ),
        preview=preview, error=error,
    )  # fmt: skip


def _refused(request: web.Request, exc: Refused) -> str:
    return text(request, "broadcast_" + exc.code)


async def compose(request: web.Request) -> web.Response:
    return await _composer(request, BroadcastForm(""))


async def preview(request: web.Request) -> web.Response:
    console = console_of(request)
    form = await _form(request)
    try:
        shown = await broadcast_desk.preview(
            console.repos, console.municipality, form, price=console.sms_price,
            tz=console.renderer.tz, now=console.clock.now(),
        )  # fmt: skip
    except Refused as exc:
        return await _composer(request, form, status=400, error=_refused(request, exc))
    return await _composer(request, form, preview=shown)


async def send(request: web.Request) -> web.StreamResponse:
    console = console_of(request)
    form = await _form(request)
    try:
        sent = await broadcast_desk.send(
            console.repos, console.municipality, form,
            confirmed=await field(request, "confirm", 10) == "yes",
            author=staff(request).resident, tz=console.renderer.tz, now=console.clock.now(),
        )  # fmt: skip
    except Refused as exc:
        return await _composer(request, form, status=400, error=_refused(request, exc))
    notice = text(request, "broadcast_queued", recipients=sent.broadcast.recipients)
    return redirect(request, f"{HERE}/{sent.broadcast.id}", notice=notice)


async def show(request: web.Request) -> web.Response:
    console = console_of(request)
    try:
        shown = await broadcast_desk.progress(
            console.repos, console.municipality, int(request.match_info["broadcast"])
        )
    except Refused:
        return await not_found(request)
    return page(request, "broadcast_progress", progress=broadcast.progress_figures(shown),
                body=shown.broadcast.body)  # fmt: skip


async def cancel(request: web.Request) -> web.StreamResponse:
    console = console_of(request)
    broadcast_id = int(request.match_info["broadcast"])
    try:
        stopped = await broadcast_desk.cancel(
            console.repos, console.municipality, broadcast_id,
            actor=Actor.of(staff(request).resident, VIA), now=console.clock.now(),
        )  # fmt: skip
    except Refused:
        return await not_found(request)
    notice = text(request, "broadcast_cancelled", stopped=stopped)
    return redirect(request, f"{HERE}/{broadcast_id}", notice=notice)
