"""What every console page shares: the guard, rendering a page, redirects, cookies.

Every request passes :func:`guard`: outside the sign-in pages it needs a live session of a
staff member (:func:`bot.core.services.console.staff_of`, the one permission check), and every
POST needs the form's CSRF token: the session's, or before sign-in the one of a cookie
(double submit). Pages carry a strict Content-Security-Policy: the app serves its own
stylesheet and one small script of its own (the sign-in page inside Telegram, a Mini App,
hands Telegram's init data over); every page works without it.
"""

from __future__ import annotations

import dataclasses
import hmac
import secrets
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote, unquote

from aiohttp import web

from bot.core.clock import Clock
from bot.core.rendering.templates import Renderer
from bot.core.services import hearings
from bot.core.services.attendance import CheckInWindow
from bot.core.services.audit import WEB
from bot.core.services.broadcast_desk import SMS_PRICE
from bot.core.services.console import Policy, Staff, staff_of
from bot.core.services.poll_results import SMALL_GROUP_MIN
from bot.webui.public.cache import PageCache
from bot.webui.public.photos import THUMBNAILS, Fetch
from bot.webui.texts import texts
from storage.models import Hearing, Municipality
from storage.repos import Repos

ROOT = "/staff/"
#: staff actions from the console are audit-logged as done "via web"
VIA = WEB
SESSION_COOKIE = "civic_staff"
PRE_CSRF_COOKIE = "civic_staff_csrf"
FLASH_COOKIE = "civic_staff_flash"
#: routes open without a session (their POSTs are checked against the CSRF cookie)
PUBLIC_ROUTES = frozenset(
    {"sign_in_form", "sign_in", "sign_in_code", "sign_in_telegram", "stylesheet", "mini_app"}
)
#: routes that take a file (a register of 100,000 residents is some 6 MB); the rest of the
#: web server keeps its small limit
UPLOAD_ROUTES = frozenset({"import_check"})
UPLOAD_LIMIT = 8 * 1024 * 1024
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@dataclass
class Console:
    repos: Repos
    renderer: Renderer
    clock: Clock
    municipality: Municipality
    policy: Policy
    #: when the door of a hearing is open (CHECKIN_* settings)
    window: CheckInWindow
    #: cookies only over HTTPS (PUBLIC_BASE_URL is https)
    secure: bool
    #: poll results: no figures for a smaller group (SMALL_GROUP_MIN)
    small_group_min: int = SMALL_GROUP_MIN
    #: the bot's token (TELEGRAM_BOT_TOKEN), which signs a Mini App's init data; None: no
    #: sign-in from Telegram
    telegram_token: str | None = None
    #: a Telegram file's bytes by its file id, for the monitoring acts' photos; None: the
    #: acts page says how many photos an act has, without showing them
    photos: Fetch | None = None
    #: som per SMS segment, for a broadcast's estimated cost (SMS_PRICE_PER_SEGMENT)
    sms_price: Decimal = SMS_PRICE
    thumbnails: PageCache = dataclasses.field(default_factory=lambda: PageCache(THUMBNAILS))


CONSOLE = web.AppKey("console", Console)
STAFF = web.RequestKey("staff", Staff)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def console_of(request: web.Request) -> Console:
    return request.app[CONSOLE]


def staff(request: web.Request) -> Staff:
    return request[STAFF]


def language(request: web.Request) -> str:
    member: Staff | None = request.get(STAFF)
    return member.resident.language if member else console_of(request).municipality.default_language


def text(request: web.Request, key: str, **fields: Any) -> str:
    return texts(language(request))[key].format(**fields)


def page(request: web.Request, name: str, *, status: int = 200, **data: Any) -> web.Response:
    """``templates/web/staff/<name>.html.j2`` in the reader's language."""
    console = console_of(request)
    member: Staff | None = request.get(STAFF)
    lang = language(request)
    pre_csrf = request.cookies.get(PRE_CSRF_COOKIE) or secrets.token_urlsafe(24)
    html = console.renderer.render_page(
        f"staff/{name}.html.j2",
        lang,
        t=texts(lang),
        root=ROOT,
        municipality=console.municipality,
        staff=member,
        csrf=member.csrf if member else pre_csrf,
        notice=data.pop("notice", None) or _flash(request),
        error=data.pop("error", None),
        **data,
    )
    response = web.Response(text=html, content_type="text/html", status=status, headers=HEADERS)
    if member is None and PRE_CSRF_COOKIE not in request.cookies:
        response.set_cookie(PRE_CSRF_COOKIE, pre_csrf, **cookie_options(console))
    if FLASH_COOKIE in request.cookies:
        response.del_cookie(FLASH_COOKIE, path=ROOT)
    return response


def cookie_options(console: Console) -> dict[str, Any]:
    return {"path": ROOT, "httponly": True, "samesite": "Lax", "secure": console.secure}


def redirect(request: web.Request, to: str, *, notice: str | None = None) -> web.Response:
    """Post/redirect/get; ``notice`` shows once on the next page (a cookie, not the URL:
    names stay out of access logs)."""
    response = web.Response(status=303, headers={**HEADERS, "Location": to})
    if notice:
        options = cookie_options(console_of(request))
        response.set_cookie(FLASH_COOKIE, quote(notice), max_age=60, **options)
    return response


def _flash(request: web.Request) -> str | None:
    value = request.cookies.get(FLASH_COOKIE)
    return unquote(value)[:300] if value else None


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    console = console_of(request)
    if request.path == ROOT.rstrip("/"):  # the session cookie's path is /staff/
        return redirect(request, ROOT)
    route = request.match_info.route.name
    if route in UPLOAD_ROUTES:
        request = request.clone(client_max_size=UPLOAD_LIMIT)
    form = None
    if request.method == "POST":
        try:
            form = await request.post()
        except web.HTTPRequestEntityTooLarge:
            return page(request, "message", status=413, error=text(request, "too_large"))
        except (ValueError, UnicodeDecodeError):
            return page(request, "message", status=400, error=text(request, "bad_request"))
    if route in PUBLIC_ROUTES:
        if form is not None and not _same(request.cookies.get(PRE_CSRF_COOKIE), form.get("csrf")):
            return page(request, "sign_in", status=403, phone="", error=text(request, "csrf"))
        return await handler(request)
    token = request.cookies.get(SESSION_COOKIE)
    member = await staff_of(
        console.repos, console.municipality, token, now=console.clock.now(), policy=console.policy
    )
    if member is None:
        notice = text(request, "session_ended") if token else None
        response = redirect(request, ROOT + "sign-in", notice=notice)
        if token:
            response.del_cookie(SESSION_COOKIE, path=ROOT)
        return response
    request[STAFF] = member
    if form is not None and not _same(member.csrf, form.get("csrf")):
        return page(request, "message", status=403, error=text(request, "csrf"))
    try:
        return await handler(request)
    except (web.HTTPNotFound, web.HTTPMethodNotAllowed) as exc:
        return page(request, "message", status=exc.status, error=text(request, "not_found"))


async def field(request: web.Request, name: str, limit: int, *, lines: bool = False) -> str:
    """A form field as text: at most ``limit`` characters, NFC, without control and
    format characters (NUL cannot even be stored in PostgreSQL), spaces trimmed; ``lines``:
    a textarea whose line breaks are kept (``\n``), each line trimmed."""
    value = (await request.post()).get(name, "")
    if not isinstance(value, str):
        return ""
    value = unicodedata.normalize("NFC", value[: limit * 2])
    if lines:
        value = value.replace("\r\n", "\n")
    kept = "".join(
        ch if lines and ch == "\n" else " " if ch in "\t\r\n" else ch for ch in value
        if unicodedata.category(ch)[0] != "C" or ch in "\t\r\n"
    )  # fmt: skip
    if lines:
        kept = "\n".join(line.strip() for line in kept.split("\n"))
    return kept.strip()[:limit]


def _same(expected: str | None, sent: object) -> bool:
    return (
        isinstance(expected, str)
        and isinstance(sent, str)
        and bool(expected)
        and hmac.compare_digest(expected.encode(), sent.encode())
    )


async def hearing_of(request: web.Request) -> Hearing | None:
    """The hearing of the URL's ``{hearing}``, if it is this municipality's."""
    console = console_of(request)
    return await hearings.find_hearing(
        console.repos, console.municipality, int(request.match_info["hearing"])
    )


async def not_found(request: web.Request) -> web.Response:
    return page(request, "message", status=404, error=text(request, "not_found"))
