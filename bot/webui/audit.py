"""The audit log page: read-only, newest first, a page at a time, filtered by date. A GET
form (nothing changes), so a filtered page can be bookmarked."""

from __future__ import annotations

from aiohttp import web

from bot.core.services import audit_view
from bot.core.services.audit_view import AuditFilter
from bot.core.services.errors import Refused
from bot.webui.base import console_of, page, text


def add_routes(app: web.Application) -> None:
    app.router.add_route("GET", "/audit", audit_log, name="audit")


async def audit_log(request: web.Request) -> web.Response:
    console = console_of(request)
    query = request.query
    wanted = AuditFilter(
        since=query.get("from", "")[:20].strip(),
        until=query.get("to", "")[:20].strip(),
        before=query.get("before", "")[:20],
    )
    try:
        shown = await audit_view.browse(
            console.repos, console.municipality, wanted, tz=console.renderer.tz
        )
    except Refused as refused:
        return page(request, "audit", status=400, wanted=wanted, shown=None,
                    error=text(request, "audit_" + refused.code))  # fmt: skip
    return page(request, "audit", wanted=wanted, shown=shown)
