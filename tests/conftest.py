"""Shared fixtures: real SQLite files in a temp dir, a controllable clock, the demo data."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.rendering.templates import Renderer
from bot.services import demo_data
from storage.db import connect
from storage.migrate import migrate
from storage.models import Municipality
from storage.repos import Repos

REPO_ROOT = Path(__file__).resolve().parents[1]


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 25, 4, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'civic-bot.db'}"


@pytest.fixture
async def repos(db_url: str) -> AsyncIterator[Repos]:
    async with connect(db_url) as db:
        await migrate(db)
        yield Repos(db)


@pytest.fixture
async def demo(repos: Repos, clock: FakeClock) -> Municipality:
    municipality, _ = await demo_data.ensure_demo(repos, now=clock.now())
    return municipality


@pytest.fixture(scope="session")
def renderer() -> Renderer:
    return Renderer("Asia/Bishkek")


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bot ARGS`` as a subprocess, the way a user runs ``civic-bot``."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "TWILIO_"))}
    full_env.pop("DATABASE_URL", None)
    full_env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + full_env.get("PYTHONPATH", "")
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=full_env,
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
