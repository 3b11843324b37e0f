"""The yearly participation report over HTTP: on the demo's five seed hearings (their real
counts, shared/DOMAIN.md), a page per year and its CSV; a year that cannot be read gets a
polite 400; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.core.rendering.templates import Renderer
from bot.core.services import hearings
from bot.webui.texts import texts
from tests.conftest import FakeClock
from tests.console_site import SMS_STAFF, Site, console_site
from tests.test_console import client

KY = texts("ky")


@pytest.fixture
async def site(db_url: str, clock: FakeClock, renderer: Renderer) -> AsyncIterator[Site]:
    async with console_site(db_url, clock, renderer) as running:
        yield running


def summary(events: int, participants: int, women: int, deputies: int) -> str:
    return KY["participation_summary"].format(
        events=events, participants=participants, women=women, deputies=deputies
    )


async def test_the_seed_hearings_year_by_year_and_as_csv(site: Site) -> None:
    cancelled = await site.hearing_today()
    await hearings.cancel(site.repos, Renderer(), cancelled, now=site.clock.now())
    async with client(site) as c:
        await c.sign_in()
        assert await c.get("/staff/") == 200 and 'href="/staff/participation"' in c.page
        assert await c.get("/staff/participation") == 200  # the latest year with an event
        assert c.says(summary(1, 200, 84, 11)) and c.says("2015")
        assert await c.get("/staff/participation?year=2013") == 200
        assert c.says(summary(2, 233, 121, 11))
        assert c.says(KY["kind_execution"] + ": 1") and c.says(KY["kind_formation"] + ": 1")
        assert await c.get("/staff/participation?year=2014") == 200
        assert c.says(summary(2, 216, 49, 5))
        assert c.says(KY["participation_uncounted"].format(count=1))
        assert await c.get("/staff/participation?year=2026") == 200  # only the cancelled one
        assert c.says(summary(0, 0, 0, 0))
        async with c.http.get(site.base_url + "/staff/participation.csv?year=2014") as resp:
            assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/csv")
            csv = await resp.text()
    assert csv.splitlines() == [
        "date,kind,place,participants,women,deputies",
        "2014-03-01,execution,Ак-Чий айылдык клубу,103,21,5",
        "2014-06-13,formation,Ак-Чий айылдык клубу,113,28,–",
        "2014,2 events,,216,49,5",
    ]


@pytest.mark.parametrize("language", ["ky", "ru", "en"])
async def test_a_year_that_cannot_be_read_gets_a_polite_answer(site: Site, language: str) -> None:
    staff = await site.repos.residents.by_phone(site.municipality.id, SMS_STAFF)
    assert staff is not None
    await site.repos.residents.set_language(staff.id, language, now="2026-11-25T00:00:00Z")
    async with client(site) as c:
        await c.sign_in()
        for year in ("abc", "20133", "-1", "1e3", "<script>", "２０１５", "%00"):
            for path in ("/staff/participation", "/staff/participation.csv"):
                assert await c.get(f"{path}?year={year}") == 400, (path, year)
                assert c.says(texts(language)["participation_bad_year"])
                assert "<script>" not in c.page
