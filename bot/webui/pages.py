"""The console's request handlers: read the form, call one service, show a page."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram.utils.web_app import safe_parse_webapp_init_data
from aiohttp import web

from bot.core.services import console as sign_in_service
from bot.core.services import door as door_service
from bot.core.services import municipalities
from bot.core.services.attendance import CheckIn
from bot.core.services.errors import Refused, ServiceError
from bot.core.services.today import today as today_of
from bot.webui.base import (
    ROOT,
    SESSION_COOKIE,
    console_of,
    cookie_options,
    field,
    hearing_of,
    language,
    not_found,
    page,
    redirect,
    staff,
    text,
)
from storage.models import Hearing

# signing in


async def sign_in_form(request: web.Request) -> web.Response:
    return page(request, "sign_in", phone="")


async def sign_in(request: web.Request) -> web.Response:
    console = console_of(request)
    raw = await field(request, "phone", 64)
    try:
        phone = await sign_in_service.request_code(
            console.repos,
            console.renderer,
            console.municipality,
            raw,
            client=request.remote or "?",
            now=console.clock.now(),
            policy=console.policy,
        )
    except Refused as refused:
        status = 429 if refused.code == "too_many_requests" else 400
        return page(request, "sign_in", status=status, phone=raw, error=text(request, refused.code))
    return page(request, "code", phone=phone, minutes=console.policy.code_minutes)


async def sign_in_code(request: web.Request) -> web.StreamResponse:
    console = console_of(request)
    phone, code = await field(request, "phone", 64), await field(request, "code", 16)
    try:
        token = await sign_in_service.sign_in(
            console.repos,
            console.municipality,
            phone,
            code,
            now=console.clock.now(),
            policy=console.policy,
        )
    except Refused as refused:
        return page(
            request,
            "code",
            status=400,
            phone=phone,
            minutes=console.policy.code_minutes,
            error=text(request, refused.code),
        )
    response = redirect(request, ROOT)
    response.set_cookie(SESSION_COOKIE, token, **cookie_options(console))
    return response


#: longer init data is not Telegram's (it is some 600 characters with a photo's address)
MAX_INIT_DATA = 4096


async def sign_in_telegram(request: web.Request) -> web.StreamResponse:
    """The console opened inside Telegram (a Mini App): its script posts the init data
    Telegram gave the page; the signature is checked with the bot's token here, on the
    server, before anything in it is believed."""
    console = console_of(request)
    raw = (await request.post()).get("init_data")
    try:
        if not (console.telegram_token and isinstance(raw, str) and len(raw) <= MAX_INIT_DATA):
            raise ValueError("no init data")
        data = safe_parse_webapp_init_data(console.telegram_token, raw)
        if data.user is None:
            raise ValueError("no user")
        token = await sign_in_service.sign_in_telegram(
            console.repos,
            console.municipality,
            data.user.id,
            data.auth_date.astimezone(UTC),
            now=console.clock.now(),
            policy=console.policy,
        )
    except Refused as refused:
        return page(request, "sign_in", status=403, phone="", error=text(request, refused.code))
    except ValueError:  # a forged or broken signature, or not init data at all
        error = text(request, "telegram_invalid")
        return page(request, "sign_in", status=403, phone="", error=error)
    response = redirect(request, ROOT)
    response.set_cookie(SESSION_COOKIE, token, **cookie_options(console))
    return response


async def sign_out(request: web.Request) -> web.StreamResponse:
    await sign_in_service.sign_out(console_of(request).repos, staff(request))
    response = redirect(request, ROOT + "sign-in", notice=text(request, "signed_out"))
    response.del_cookie(SESSION_COOKIE, path=ROOT)
    return response


# today


async def today(request: web.Request) -> web.Response:
    console = console_of(request)
    shown = await today_of(
        console.repos, console.municipality, now=console.clock.now(), tz=console.renderer.tz
    )
    return page(request, "today", today=shown)


# the door


async def _door_page(
    request: web.Request,
    hearing: Hearing,
    *,
    status: int = 200,
    query: str = "",
    matches: list | None = None,
    error: str | None = None,
) -> web.Response:
    console = console_of(request)
    return page(
        request,
        "door",
        status=status,
        hearing=hearing,
        here=f"{ROOT}hearings/{hearing.id}/door",
        query=query,
        matches=matches,
        limit=door_service.SEARCH_LIMIT,
        figures=await door_service.figures(console.repos, hearing),
        villages=await municipalities.villages(console.repos, console.municipality),
        error=error,
    )


def _refusal(request: web.Request, exc: ServiceError) -> str:
    if isinstance(exc, Refused):
        key = {"gender": "gender_needed", "village": "village_needed"}.get(exc.code, exc.code)
        at = exc.details.get("at")
        renderer = console_of(request).renderer
        at = renderer.format_datetime(at, language(request)) if isinstance(at, datetime) else ""
        return text(request, key, at=at)
    return text(request, "refused", reason=str(exc))


async def door(request: web.Request) -> web.Response:
    hearing = await hearing_of(request)
    if hearing is None:
        return await not_found(request)
    return await _door_page(request, hearing)


async def door_search(request: web.Request) -> web.Response:
    """A POST, so that the names and phones searched stay out of URLs and access logs."""
    hearing = await hearing_of(request)
    if hearing is None:
        return await not_found(request)
    query = await field(request, "q", door_service.MAX_QUERY)
    console = console_of(request)
    matches = await door_service.search(console.repos, console.municipality, hearing, query)
    return await _door_page(request, hearing, query=query, matches=matches)


def _checked_notice(request: web.Request, done: CheckIn) -> str:
    key = "checked_in_now" if done.first_time else "checked_in_before"
    return text(request, key, name=done.name or "?")


async def door_check_in(request: web.Request) -> web.StreamResponse:
    hearing = await hearing_of(request)
    if hearing is None:
        return await not_found(request)
    raw = await field(request, "resident", 16)
    console = console_of(request)
    try:
        if not (raw.isdigit() and len(raw) <= 9):
            raise Refused("unknown_person")
        done = await door_service.check_in_resident(
            console.repos,
            console.municipality,
            hearing,
            int(raw),
            now=console.clock.now(),
            window=console.window,
        )
    except ServiceError as exc:
        return await _door_page(request, hearing, status=400, error=_refusal(request, exc))
    notice = _checked_notice(request, done)
    return redirect(request, f"{ROOT}hearings/{hearing.id}/door", notice=notice)


async def door_walk_in(request: web.Request) -> web.StreamResponse:
    hearing = await hearing_of(request)
    if hearing is None:
        return await not_found(request)
    console = console_of(request)
    try:
        done = await door_service.walk_in(
            console.repos,
            console.municipality,
            hearing,
            name=await field(request, "name", door_service.MAX_NAME + 1),
            gender=await field(request, "gender", 1),
            village=await field(request, "village", 200),
            deputy=await field(request, "deputy", 1) == "1",
            now=console.clock.now(),
            window=console.window,
        )
    except ServiceError as exc:
        return await _door_page(request, hearing, status=400, error=_refusal(request, exc))
    notice = (
        text(request, "walk_in_done", name=done.name)
        if done.name
        else text(request, "walk_in_done_anonymous")
    )
    return redirect(request, f"{ROOT}hearings/{hearing.id}/door", notice=notice)
