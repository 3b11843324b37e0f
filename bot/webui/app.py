"""The console's aiohttp application, mounted under ``/staff/`` by ``bot/app.py``."""

from __future__ import annotations

from decimal import Decimal

from aiohttp import web

from bot.core.rendering.templates import TEMPLATES_DIR
from bot.core.services.attendance import CheckInWindow
from bot.core.services.broadcast_desk import SMS_PRICE
from bot.core.services.console import Policy
from bot.core.services.poll_results import SMALL_GROUP_MIN
from bot.runtime.web import WebContext
from bot.webui import (
    audit,
    broadcasts,
    hearings,
    imports,
    pages,
    participation,
    polls,
    problems,
    projects,
    ratings,
    residents,
)
from bot.webui.base import CONSOLE, Console, guard
from bot.webui.public.photos import Fetch

STYLESHEET = TEMPLATES_DIR / "web" / "staff" / "console.css"
MINI_APP = TEMPLATES_DIR / "web" / "staff" / "mini-app.js"


async def stylesheet(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STYLESHEET, headers={"Cache-Control": "public, max-age=3600"})


async def mini_app(request: web.Request) -> web.FileResponse:
    return web.FileResponse(MINI_APP, headers={"Cache-Control": "public, max-age=3600"})


def build_console(
    ctx: WebContext,
    policy: Policy,
    window: CheckInWindow,
    *,
    secure: bool,
    small_group_min: int = SMALL_GROUP_MIN,
    telegram_token: str | None = None,
    photos: Fetch | None = None,
    sms_price: Decimal = SMS_PRICE,
) -> web.Application:
    """The console as an aiohttp application, for ``app.add_subapp("/staff/", ...)``;
    ``secure``: cookies only over HTTPS; ``telegram_token``: the bot's, for signing in
    from Telegram (a Mini App); ``photos``: Telegram's files, for the monitoring acts'
    photos."""
    app = web.Application(middlewares=[guard])
    app[CONSOLE] = Console(
        ctx.repos, ctx.renderer, ctx.clock, ctx.municipality, policy, window, secure,
        small_group_min, telegram_token, photos, sms_price,
    )  # fmt: skip
    add = app.router.add_route
    add("GET", "/", pages.today, name="today")
    add("GET", "/sign-in", pages.sign_in_form, name="sign_in_form")
    add("POST", "/sign-in", pages.sign_in, name="sign_in")
    add("POST", "/sign-in/code", pages.sign_in_code, name="sign_in_code")
    add("POST", "/sign-in/telegram", pages.sign_in_telegram, name="sign_in_telegram")
    add("POST", "/sign-out", pages.sign_out, name="sign_out")
    door = r"/hearings/{hearing:\d{1,9}}/door"
    add("GET", door, pages.door, name="door")
    add("POST", door + "/search", pages.door_search, name="door_search")
    add("POST", door + "/check-in", pages.door_check_in, name="door_check_in")
    add("POST", door + "/walk-in", pages.door_walk_in, name="door_walk_in")
    hearings.add_routes(app)
    audit.add_routes(app)
    polls.add_routes(app)
    participation.add_routes(app)
    imports.add_routes(app)
    residents.add_routes(app)
    problems.add_routes(app)
    projects.add_routes(app)
    ratings.add_routes(app)
    broadcasts.add_routes(app)
    add("GET", "/static/console.css", stylesheet, name="stylesheet")
    add("GET", "/static/mini-app.js", mini_app, name="mini_app")
    return app
