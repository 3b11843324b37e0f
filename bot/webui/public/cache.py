"""Public pages as a slow line wants them: rendered once per data version, kept gzipped,
and answered with ``304 Not Modified`` when the reader already has them.

A page's key is its route, its parameters and its language; an entry stays good while
the municipality's data version (:meth:`storage.public.PublicRepo.data_version`) is the
one it was rendered at. The ETag is the key and the version, hashed, so a repeat visit
costs one small query and no rendering.
"""

from __future__ import annotations

import gzip
import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from bot.core.rendering.templates import TEMPLATES_DIR
from bot.core.services import public_site

#: pages kept; the least recently used goes first
CAPACITY = 1024
#: checked again on every visit: the data version decides
CACHE_CONTROL = "public, no-cache"


def _build() -> str:
    """What the pages are made of in this release: their templates, texts and code."""
    digest = hashlib.sha256()
    here = Path(__file__).parent
    sources = [*sorted((TEMPLATES_DIR / "web" / "public").rglob("*")), *sorted(here.glob("*.py")),
               Path(public_site.__file__)]  # fmt: skip
    for path in sources:
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


BUILD = _build()


@dataclass(frozen=True)
class Entry:
    version: str
    etag: str
    last_modified: datetime
    content_type: str
    body: bytes
    #: None for what gzip cannot make smaller (a JPEG)
    gzipped: bytes | None


class PageCache:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[Hashable, Entry] = OrderedDict()

    def get(self, key: Hashable, version: str) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None or entry.version != version:
            return None
        self._entries.move_to_end(key)
        return entry

    def put(
        self, key: Hashable, version: str, body: bytes, content_type: str, *, now: datetime
    ) -> Entry:
        zipped = None if content_type.startswith("image/") else gzip.compress(body, 9, mtime=0)
        entry = Entry(
            version, etag_of(key, version), now.astimezone(UTC).replace(microsecond=0),
            content_type, body, zipped,
        )  # fmt: skip
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)
        return entry


def etag_of(key: Hashable, version: str) -> str:
    """Strong: the same bytes for the same key, version and build (gzip without a time
    stamp), so replicas agree and a new release is not answered 304 from an old page."""
    return f'"{hashlib.sha256(repr((BUILD, key, version)).encode()).hexdigest()[:24]}"'


async def respond(
    request: web.Request,
    cache: PageCache,
    key: Hashable,
    version: str,
    build: Callable[[], Awaitable[tuple[bytes, str]]],
    *,
    now: datetime,
    headers: dict[str, str],
    cache_control: str = CACHE_CONTROL,
) -> web.Response:
    """The page of ``key`` at ``version``: 304 when the reader's copy is current, else from
    the cache or ``build()`` (body, content type), gzipped when the reader takes gzip."""
    entry = cache.get(key, version)
    if entry is None:
        body, content_type = await build()
        entry = cache.put(key, version, body, content_type, now=now)
    common = {
        **headers,
        "ETag": entry.etag,
        "Last-Modified": _http_date(entry.last_modified),
        "Cache-Control": cache_control,
        "Vary": "Accept-Encoding",
    }
    if _not_modified(request, entry):
        return web.Response(status=304, headers=common)
    if entry.gzipped is not None and "gzip" in request.headers.get("Accept-Encoding", "").lower():
        response = web.Response(body=entry.gzipped, headers={**common, "Content-Encoding": "gzip"})
    else:
        response = web.Response(body=entry.body, headers=common)
    response.content_type = entry.content_type.split(";")[0]
    if response.content_type.startswith("text/"):
        response.charset = "utf-8"
    return response


def _not_modified(request: web.Request, entry: Entry) -> bool:
    sent = request.headers.get("If-None-Match")
    if sent is not None:
        return entry.etag in {tag.strip().removeprefix("W/") for tag in sent.split(",")}
    since = request.if_modified_since
    return since is not None and entry.last_modified <= since


def _http_date(moment: datetime) -> str:
    return moment.strftime("%a, %d %b %Y %H:%M:%S GMT")
