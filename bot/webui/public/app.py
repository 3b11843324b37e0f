"""The public site's aiohttp application, mounted under ``/m/`` by ``bot/app.py``."""

from __future__ import annotations

from aiohttp import web

from bot.core.rendering.templates import TEMPLATES_DIR
from bot.webui.public import pages
from bot.webui.public.pages import PUBLIC, Public

STYLESHEET = TEMPLATES_DIR / "web" / "public" / "public.css"


async def stylesheet(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STYLESHEET, headers={"Cache-Control": "public, max-age=86400"})


@web.middleware
async def polite(request: web.Request, handler: pages.Handler) -> web.StreamResponse:
    """A wrong address or parameter gets a page saying so in the reader's language."""
    if request.path == pages.ROOT.rstrip("/"):
        raise web.HTTPPermanentRedirect(pages.ROOT)
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return pages.message(request, 404, "not_found")
    except web.HTTPBadRequest:
        return pages.message(request, 400, "bad_request")
    except web.HTTPMethodNotAllowed as exc:
        return pages.message(request, exc.status, "not_found")


def build_public(public: Public) -> web.Application:
    """The public pages as an aiohttp application, for ``app.add_subapp("/m/", ...)``."""
    app = web.Application(middlewares=[polite])
    app[PUBLIC] = public
    add = app.router.add_get
    slug = "/{slug:[a-z0-9][a-z0-9-]{0,62}}"
    add("/", pages.municipalities, name="list")
    add("/static/public.css", stylesheet, name="stylesheet")
    add(slug, pages.to_home, name="to_home")
    add(slug + "/", pages.home, name="home")
    for name in ("budget", "projects", "hearings", "polls", "ratings"):
        add(f"{slug}/{name}", getattr(pages, name), name=name)
    add(slug + "/data", pages.open_data, name="data")
    add(slug + "/data/{table:[a-z]+}.csv", pages.table_csv, name="table_csv")
    add(slug + r"/acts/{act:\d{1,9}}/{n:\d{1,3}}.jpg", pages.photo, name="photo")
    add(slug + r"/data/poll-{poll:\d{1,9}}.{kind:csv|pb}", pages.poll_file, name="poll_file")
    return app
