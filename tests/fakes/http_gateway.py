"""A tiny aggregator HTTP API on 127.0.0.1: records each request, answers as told.

By default ``200 {"status": "ok", "data": [{"id": "msg-1"}]}`` (ids counting up);
``answer_next(status, body, headers)`` queues other answers (429, 500, 400, ...).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes.telegram_api import FakeHTTPServer


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


class FakeHttpGateway(FakeHTTPServer):
    def __init__(self) -> None:
        super().__init__()
        self.requests: list[Request] = []
        self._queued: list[tuple[int, Any, dict[str, str]]] = []
        self._ids = itertools.count(1)

    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    def answer_next(self, status: int, body: Any = None, headers: dict[str, str] | None = None):
        self._queued.append((status, body, headers or {}))

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests.append(
            Request(
                request.method,
                request.path,
                dict(request.query),
                dict(request.headers),
                await request.read(),
            )
        )
        if self._queued:
            status, body, headers = self._queued.pop(0)
        else:
            status, body, headers = (
                200,
                {"status": "ok", "data": [{"id": f"msg-{next(self._ids)}"}]},
                {},
            )
        text = body if isinstance(body, str) else json.dumps(body)
        return web.Response(
            status=status, text=text, headers=headers, content_type="application/json"
        )
