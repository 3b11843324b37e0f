"""Shared fixtures: real databases (SQLite files in a temp dir; with ``TEST_POSTGRES_URL``
set, also a fresh PostgreSQL database per test), a controllable clock, the demo data.

With ``TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/postgres`` (a server where
that user may create databases) every test that uses ``db_url`` (and so ``repos``, ``demo``)
runs twice, ``[sqlite]`` and ``[postgresql]``; ``@pytest.mark.sqlite_only`` keeps a test on
SQLite. Without it the tests run on SQLite only, exactly as before.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import pytest
from aiogram import Bot, Dispatcher

from bot.channels.telegram.dispatcher import build_dispatcher
from bot.core.rendering.templates import Renderer
from bot.core.services import demo_data
from bot.core.services.attendance import CheckInWindow
from storage.db import Database, connect
from storage.migrate import migrate
from storage.models import Municipality
from storage.repos import Repos
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.processes import TEST_BALLOT_KEY, child_env
from tests.telegram_helpers import fake_bot, feed_update

T = TypeVar("T")


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 25, 4, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


#: the check-in window of the default settings (CHECKIN_OPENS_BEFORE_HOURS=2,
#: CHECKIN_CLOSES_AFTER_HOURS=6) in the demo's time zone
WINDOW = CheckInWindow(ZoneInfo("Asia/Bishkek"), timedelta(hours=2), timedelta(hours=6))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


#: a PostgreSQL server for the tests (a URL whose user may create databases), or None
TEST_POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL") or None
BACKENDS = ("sqlite", "postgresql") if TEST_POSTGRES_URL else ("sqlite",)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only: the test checks SQLite itself; not run on PostgreSQL"
    )
    config.addinivalue_line("markers", "postgres_only: needs TEST_POSTGRES_URL")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Storage tests on every backend: ``backend`` (behind ``db_url``) is parametrised
    when a PostgreSQL server is at hand; otherwise it is plain SQLite, without an id."""
    if "backend" not in metafunc.fixturenames or not TEST_POSTGRES_URL:
        return
    if metafunc.definition.get_closest_marker("postgres_only"):
        metafunc.parametrize("backend", ["postgresql"], indirect=True)
    elif not metafunc.definition.get_closest_marker("sqlite_only"):
        metafunc.parametrize("backend", BACKENDS, indirect=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if TEST_POSTGRES_URL:
        return
    skip = pytest.mark.skip(reason="needs a PostgreSQL server: set TEST_POSTGRES_URL")
    for item in items:
        if item.get_closest_marker("postgres_only"):
            item.add_marker(skip)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return getattr(request, "param", "sqlite")


def postgres_url(database: str) -> str:
    """``TEST_POSTGRES_URL`` with another database name."""
    assert TEST_POSTGRES_URL is not None
    return urlunsplit(urlsplit(TEST_POSTGRES_URL)._replace(path=f"/{database}"))


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to the end from sync code, even inside an event loop (a thread)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _postgres_admin(statement: str) -> None:
    """Run ``statement`` on the test server (from a thread: the caller may be inside an
    event loop, e.g. an async test making a second database)."""
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(TEST_POSTGRES_URL)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    run_sync(run())


@pytest.fixture
def new_db_url(backend: str, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Makes empty databases on the backend: SQLite files, or fresh PostgreSQL databases
    (dropped after the test)."""
    created: list[str] = []

    def make() -> str:
        if backend == "sqlite":
            name = "civic-bot.db" if not created else f"civic-bot-{len(created)}.db"
            created.append(name)
            return f"sqlite:///{tmp_path / name}"
        name = f"civic_test_{uuid.uuid4().hex[:16]}"
        _postgres_admin(f'CREATE DATABASE "{name}"')
        created.append(name)
        return postgres_url(name)

    yield make
    if backend == "postgresql":
        for name in created:
            _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def db_url(new_db_url: Callable[[], str]) -> str:
    """An empty database: a SQLite file, or a fresh PostgreSQL database dropped after."""
    return new_db_url()


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    """A connection to an empty database at the latest schema."""
    async with connect(db_url) as db:
        await migrate(db)
        yield db


@pytest.fixture
async def repos(db_url: str) -> AsyncIterator[Repos]:
    async with connect(db_url) as db:
        await migrate(db)
        yield Repos(db, TEST_BALLOT_KEY)


@pytest.fixture
async def demo(repos: Repos, clock: FakeClock) -> Municipality:
    municipality, _ = await demo_data.ensure_demo(repos, now=clock.now())
    return municipality


@pytest.fixture(scope="session")
def renderer() -> Renderer:
    return Renderer("Asia/Bishkek")


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    """The fake Bot API; strict: an edit of a message the bot never sent fails, as on
    Telegram."""
    async with FakeTelegramAPI(strict_edits=True) as fake:
        yield fake


@pytest.fixture
async def bot(api: FakeTelegramAPI) -> AsyncIterator[Bot]:
    bot = fake_bot(api)
    yield bot
    await bot.session.close()


@pytest.fixture
def dp(repos: Repos, demo: Municipality, renderer: Renderer, clock: FakeClock) -> Dispatcher:
    """The dispatcher of ``civic-bot run`` over the demo municipality."""
    return build_dispatcher(repos=repos, renderer=renderer, clock=clock)


@pytest.fixture
def feed(dp: Dispatcher, bot: Bot) -> Callable[[dict[str, Any]], Coroutine[Any, Any, None]]:
    """``await feed(update)``: a raw update through ``dp``, its reply sent."""
    return functools.partial(feed_update, dp, bot)


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bot ARGS`` as a subprocess, the way a user runs ``civic-bot``."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=child_env(env or {}),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def table_snapshot(repos: Repos, *tables: str) -> dict[str, list[tuple]]:
    """Every row of the given tables, to assert that something changed nothing."""
    names = tables or ("municipalities", "villages", "households", "residents", "roles")
    return {
        name: [tuple(row) for row in await repos.db.fetchall(f"SELECT * FROM {name} ORDER BY 1")]
        for name in names
    }


def dump_database(url: str) -> list[str]:
    """Every table's definition and rows, as text: to assert that something changed nothing."""
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            return list(conn.iterdump())

    async def dump() -> list[str]:
        import asyncpg

        conn = await asyncpg.connect(url)
        try:
            lines = [
                str(tuple(row))
                for row in await conn.fetch(
                    "SELECT table_name, column_name, data_type, is_nullable, column_default"
                    " FROM information_schema.columns WHERE table_schema = current_schema()"
                    " ORDER BY table_name, ordinal_position"
                )
            ]
            tables = await conn.fetch(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = current_schema() ORDER BY table_name"
            )
            for (table,) in tables:
                rows = await conn.fetch(f'SELECT * FROM "{table}"')
                lines += sorted(f"{table}: {tuple(row)}" for row in rows)
            return lines
        finally:
            await conn.close()

    return run_sync(dump())


def query_database(url: str, sql: str) -> list[tuple]:
    """The rows of one query, from sync code (through storage.db, so on any backend)."""

    async def fetch() -> list[tuple]:
        async with connect(url) as db:
            return [tuple(row) for row in await db.fetchall(sql)]

    return run_sync(fetch())
