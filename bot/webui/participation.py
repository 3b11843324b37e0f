"""The yearly participation report: a page and its CSV (GET: nothing changes)."""

from __future__ import annotations

from aiohttp import web

from bot.core.services import participation
from bot.core.services.errors import Refused
from bot.webui.base import HEADERS, console_of, page, text


def add_routes(app: web.Application) -> None:
    add = app.router.add_route
    add("GET", "/participation", report_page, name="participation")
    add("GET", "/participation.csv", report_csv, name="participation_csv")


async def _report(request: web.Request) -> participation.YearReport:
    console = console_of(request)
    return await participation.year_report(
        console.repos, console.municipality, request.query.get("year", "")[:8].strip(),
        tz=console.renderer.tz, now=console.clock.now(),
    )  # fmt: skip


async def report_page(request: web.Request) -> web.Response:
    try:
        report = await _report(request)
    except Refused:
        return page(request, "message", status=400, error=text(request, "participation_bad_year"))
    return page(request, "participation", report=report)


async def report_csv(request: web.Request) -> web.Response:
    try:
        report = await _report(request)
    except Refused:
        return page(request, "message", status=400, error=text(request, "participation_bad_year"))
    body = participation.year_csv(report, console_of(request).renderer.tz)
    name = f"participation-{participation.year_name(report)}.csv"
    return web.Response(
        text=body,
        content_type="text/csv",
        charset="utf-8",
        headers={**HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
    )
