"""The public pages: thin handlers over :mod:`bot.core.services.public_site`, rendered from
``templates/web/public/`` in the language the reader chose (``?lang=``, else the
municipality's own), each served through the page cache (:mod:`bot.webui.public.cache`).

No sign-in, no cookies, no script: a page is the same for everyone who asks for it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.core.clock import Clock
from bot.core.languages import LANGUAGES
from bot.core.rendering.templates import Renderer
from bot.core.services import poll_io, public_site
from bot.core.services.errors import ServiceError
from bot.webui.public.cache import PageCache, respond
from bot.webui.public.photos import THUMBNAILS, Fetch, thumbnail_response
from bot.webui.texts import texts
from storage.models import Municipality
from storage.repos import Repos

ROOT = "/m/"
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
HTML = "text/html; charset=utf-8"
CSV = "text/csv; charset=utf-8"
#: a photo of an act never changes (acts are never edited)
FOREVER = "public, max-age=31536000, immutable"


@dataclass
class Public:
    repos: Repos
    renderer: Renderer
    clock: Clock
    #: the SMALL_GROUP_MIN setting: no figures for a smaller group
    small_group_min: int
    #: a Telegram file's bytes by its file id (None: not available now); without it the
    #: pages say how many photos an act has, without showing them
    photos: Fetch | None = None
    cache: PageCache = field(default_factory=PageCache)
    thumbnails: PageCache = field(default_factory=lambda: PageCache(THUMBNAILS))


PUBLIC = web.AppKey("public", Public)
Build = Callable[[], Awaitable[tuple[bytes, str]]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def public_of(request: web.Request) -> Public:
    return request.app[PUBLIC]


def language(request: web.Request, municipality: Municipality | None) -> str:
    chosen = request.query.get("lang", "")
    if chosen in LANGUAGES:
        return chosen
    return municipality.default_language if municipality else "ky"


def _html(
    request: web.Request, name: str, lang: str, municipality: Municipality | None,
    kept: dict[str, int | None] | None = None, **data: Any,
) -> bytes:  # fmt: skip
    """The page ``name``; ``kept``: its parameters (part of its cache key), which the links
    to the page in another language keep."""
    site = public_of(request)
    return site.renderer.render_page(
        f"public/{name}.html.j2", lang, t=texts(lang, "public"), root=ROOT,
        municipality=municipality, page=name, query=_query(lang), path=request.path,
        in_languages={code: request.path + _query(code, kept) for code in LANGUAGES},
        small_group_min=site.small_group_min, photos=site.photos is not None,
        **data,
    ).encode()  # fmt: skip


def _query(lang: str, kept: dict[str, int | None] | None = None) -> str:
    """What every link of a page carries: the reader's language (and ``kept``, those of
    its parameters that are given)."""
    extra = {name: value for name, value in (kept or {}).items() if value is not None}
    return "?" + urlencode({"lang": lang, **extra})


async def _serve(
    request: web.Request, version: str, key: tuple[object, ...], build: Build
) -> web.Response:
    """The page of ``key`` at the data ``version`` (:func:`_municipality`)."""
    site = public_of(request)
    return await respond(
        request, site.cache, key, version, build, now=site.clock.now(), headers=HEADERS
    )


def message(request: web.Request, status: int, key: str, municipality: Municipality | None = None
            ) -> web.Response:  # fmt: skip
    """A polite page with one line (not found, bad input), never cached."""
    lang = language(request, municipality)
    body = _html(request, "message", lang, municipality, error=texts(lang, "public")[key])
    return web.Response(body=body, status=status, content_type="text/html", charset="utf-8",
                        headers={**HEADERS, "Cache-Control": "no-store"})  # fmt: skip


async def _municipality(request: web.Request) -> tuple[Municipality, str]:
    """The municipality the address names and its data version (one query)."""
    site = public_of(request)
    found = await public_site.municipality(
        site.repos, request.match_info["slug"], now=site.clock.now()
    )
    if found is None:
        raise web.HTTPNotFound()
    return found


def _int(request: web.Request, name: str) -> int | None:
    """A query parameter that must be a small whole number; absent: None."""
    value = request.query.get(name)
    if value is None:
        return None
    if not value.isascii() or not value.isdecimal() or len(value) > 9:
        raise web.HTTPBadRequest()
    return int(value)


# the pages


async def to_home(request: web.Request) -> web.Response:
    lang = request.query.get("lang", "")
    query = _query(lang) if lang in LANGUAGES else ""
    raise web.HTTPPermanentRedirect(f"{ROOT}{request.match_info['slug']}/{query}")


async def municipalities(request: web.Request) -> web.Response:
    lang = language(request, None)

    async def build() -> tuple[bytes, str]:
        found = await public_site.municipalities(public_of(request).repos)
        return _html(request, "list", lang, None, municipalities=found), HTML

    data_version = await public_site.list_version(public_of(request).repos)
    return await _serve(request, data_version, ("list", lang), build)


async def home(request: web.Request) -> web.Response:
    m, data_version = await _municipality(request)
    lang = language(request, m)

    async def build() -> tuple[bytes, str]:
        site = public_of(request)
        now = site.clock.now()
        return _html(
            request, "home", lang, m,
            budget=await public_site.budget_view(site.repos, m),
            hearings=await public_site.hearings_view(site.repos, m, now=now),
            open_polls=await public_site.open_polls(site.repos, m, now=now),
        ), HTML  # fmt: skip

    return await _serve(request, data_version, ("home", m.id, lang), build)


async def budget(request: web.Request) -> web.Response:
    m, data_version = await _municipality(request)
    lang = language(request, m)
    year, version = _int(request, "year"), _int(request, "version")

    async def build() -> tuple[bytes, str]:
        view = await public_site.budget_view(public_of(request).repos, m, year, version)
        if view is None and (year or version):
            raise web.HTTPNotFound()
        kept = {"year": year, "version": version}
        return _html(request, "budget", lang, m, kept, view=view), HTML

    return await _serve(request, data_version, ("budget", m.id, lang, year, version), build)


async def projects(request: web.Request) -> web.Response:
    m, data_version = await _municipality(request)
    lang = language(request, m)

    async def build() -> tuple[bytes, str]:
        repos = public_of(request).repos
        return _html(
            request, "projects", lang, m, projects=await public_site.projects_view(repos, m),
            plans=await public_site.plans(repos, m),
        ), HTML  # fmt: skip

    return await _serve(request, data_version, ("projects", m.id, lang), build)


async def hearings(request: web.Request) -> web.Response:
    m, data_version = await _municipality(request)
    lang = language(request, m)

    async def build() -> tuple[bytes, str]:
        site = public_of(request)
        view = await public_site.hearings_view(site.repos, m, now=site.clock.now())
        villages = await public_site.villages(site.repos, m)
        return _html(request, "hearings", lang, m, view=view, villages=villages), HTML

    return await _serve(request, data_version, ("hearings", m.id, lang), build)


async def polls(request: web.Request) -> web.Response:
    m, data_version = await _municipality(request)
    lang = language(request, m)
    number = _int(request, "page")

    async def build() -> tuple[bytes, str]:
        site = public_of(request)
        view = await public_site.polls_view(
            site.repos, m, now=site.clock.now(), small_group_min=site.small_group_min,
            page=1 if number is None else number,
        )  # fmt: skip
        if view is None:
            raise web.HTTPNotFound()
        return _html(request, "polls", lang, m, {"page": number}, view=view), HTML

    return await _serve(request, data_version, ("polls", m.id, lang, number), build)


async def ratings(request: web.Request) -> web.Response:
    m, data_version = await _municipality(request)
    lang = language(request, m)

    async def build() -> tuple[bytes, str]:
        site = public_of(request)
        view = await public_site.ratings_view(site.repos, m, small_group_min=site.small_group_min)
        return _html(request, "ratings", lang, m, view=view), HTML

    return await _serve(request, data_version, ("ratings", m.id, lang), build)


async def open_data(request: web.Request) -> web.Response:
    m, data_version = await _municipality(request)
    lang = language(request, m)

    async def build() -> tuple[bytes, str]:
        site = public_of(request)
        closed = await public_site.countable_polls(site.repos, m, now=site.clock.now())
        return _html(request, "data", lang, m, closed=closed), HTML

    return await _serve(request, data_version, ("data", m.id, lang), build)


# open data files

TABLES = ("budget", "projects", "hearings", "ratings")


async def table_csv(request: web.Request) -> web.Response:
    m, data_version = await _municipality(request)
    lang = language(request, m)
    name = request.match_info["table"]
    if name not in TABLES:
        raise web.HTTPNotFound()
    # the budget of the year and version its page shows (default: the latest)
    year = _int(request, "year") if name == "budget" else None
    version = _int(request, "version") if name == "budget" else None

    async def build() -> tuple[bytes, str]:
        site = public_of(request)
        repos, now = site.repos, site.clock.now()
        if name == "budget":
            view = await public_site.budget_view(repos, m, year, version)
            if view is None and (year or version):
                raise web.HTTPNotFound()
            text = public_site.budget_csv(view, lang)
        elif name == "projects":
            text = public_site.projects_csv(await public_site.projects_view(repos, m), lang)
        elif name == "hearings":
            view = await public_site.hearings_view(repos, m, now=now)
            text = public_site.hearings_csv(view, lang)
        else:
            text = public_site.ratings_csv(
                await public_site.ratings_view(repos, m, small_group_min=site.small_group_min),
                lang,
            )
        return text.encode(), CSV

    response = await _serve(request, data_version, ("csv", m.id, name, lang, year, version), build)
    return _download(response, f"{m.slug}-{name}.csv")


class _NotCountable(Exception):
    """The poll is open, or its ballots cannot be opened here: no files for it."""


async def poll_file(request: web.Request) -> web.Response:
    """A closed poll's results as CSV, or its anonymous ballots as pabulib ``.pb``."""
    m, data_version = await _municipality(request)
    site = public_of(request)
    number, kind = int(request.match_info["poll"]), request.match_info["kind"]
    lang = language(request, m)

    async def build() -> tuple[bytes, str]:
        now = site.clock.now()
        poll = await public_site.poll(site.repos, m, number)
        if poll is None:
            raise web.HTTPNotFound()
        if not public_site.countable(site.repos, poll, now=now):
            raise _NotCountable()
        try:
            if kind == "pb":
                text = await poll_io.export_pb(site.repos, m, poll, now=now)
            else:
                text = await poll_io.results_csv(
                    site.repos, poll, now=now, small_group_min=site.small_group_min,
                    language=lang,
                )  # fmt: skip
        except ServiceError:  # the poll cannot be counted here
            raise web.HTTPNotFound() from None
        return text.encode(), "text/plain; charset=utf-8" if kind == "pb" else CSV

    # the poll is looked up only to render its file: from the cache, one query in all
    key = ("poll", m.id, number, kind, lang if kind == "csv" else None)
    try:
        response = await _serve(request, data_version, key, build)
    except _NotCountable:
        return message(request, 404, "poll_not_closed", m)
    return _download(response, f"{m.slug}-poll-{number}.{kind}")


async def photo(request: web.Request) -> web.Response:
    """A monitoring act's photo as a small JPEG (:mod:`bot.core.rendering.thumbnails`)."""
    m, _ = await _municipality(request)
    site = public_of(request)
    act, position = int(request.match_info["act"]), int(request.match_info["n"])
    file_id = await public_site.act_photo(site.repos, m, act, position)
    if file_id is None or site.photos is None:
        raise web.HTTPNotFound()
    try:
        return await thumbnail_response(
            request, site.photos, site.thumbnails, file_id, now=site.clock.now(),
            headers=HEADERS, cache_control=FOREVER,
        )  # fmt: skip
    except web.HTTPServiceUnavailable:  # Telegram would not give it now: later
        response = message(request, 503, "photo_unavailable", m)
        response.headers["Retry-After"] = "300"
        return response


def _download(response: web.Response, filename: str) -> web.Response:
    if response.status == 200:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
