"""The yearly participation report over HTTP: on the demo's five seed hearings (their real
counts, shared/DOMAIN.md) and its other meetings (PRA sessions, assemblies, trainings,
working meetings), a page per year and its CSV; a year that cannot be read gets a polite
400; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from babel.numbers import format_decimal

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


def summary(events: int, participants: int | str, women: int, deputies: int) -> str:
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
        assert c.says(summary(9, 461, 141, 29)) and c.says("2015")
        assert await c.get("/staff/participation?year=2013") == 200
        assert c.says(summary(6, 335, 143, 22))
        assert c.says(KY["kind_execution"] + ": 1") and c.says(KY["kind_formation"] + ": 1")
        assert await c.get("/staff/participation?year=2014") == 200
        assert c.says(summary(6, 306, 67, 15))
        assert c.says(KY["participation_uncounted"].format(count=1))
        assert await c.get("/staff/participation?year=2026") == 200  # only the cancelled one
        assert c.says(summary(0, 0, 0, 0))
        async with c.http.get(site.base_url + "/staff/participation.csv?year=2014") as resp:
            assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/csv")
            csv = await resp.text()
    assert csv.splitlines() == [
        "date,meeting,kind,age_group,place,participants,women,deputies",
        "2014-02-14,training,,,Ак-Чий айыл өкмөтү,13,3,1",
        "2014-03-01,hearing,execution,,Ак-Чий айылдык клубу,103,21,5",
        "2014-04-19,assembly,,,Ак-Чий айылдык клубу,50,9,5",
        "2014-05-23,working,,,Ак-Чий айыл өкмөтү,15,3,3",
        "2014-06-13,hearing,formation,,Ак-Чий айылдык клубу,113,28,–",
        "2014-10-10,training,,,Ак-Чий айыл өкмөтү,12,3,1",
        "2014,6 events; hearing 2; assembly 1; training 2; working 1,,,,306,67,15",
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


async def test_every_year_reproduces_the_seed_totals_by_kind_of_meeting(site: Site) -> None:
    """The seed's opening figures: 8 PRA sessions, 5 hearings, 4 assemblies, 7 trainings,
    3 working meetings (27, though the seed says 26); 1,284 participants, 388 women, 79
    deputies."""
    async with client(site) as c:
        await c.sign_in()
        assert await c.get("/staff/participation?year=all") == 200
        thousands = format_decimal(1284, locale="ky")  # the page's number format
        assert c.says(summary(27, thousands, 388, 79)) and c.says(KY["participation_all"])
        kinds = (("hearing", 5), ("pra", 8), ("assembly", 4), ("training", 7), ("working", 3))
        assert c.says(" · ".join(f"{KY['meetings_' + m]}: {n}" for m, n in kinds))
        assert c.says(f"{KY['meeting_pra']} 55+") and c.says(KY["meeting_working"])
        async with c.http.get(site.base_url + "/staff/participation.csv?year=all") as resp:
            assert resp.status == 200
            assert 'filename="participation-all.csv"' in resp.headers["Content-Disposition"]
            csv = (await resp.text()).splitlines()
    assert len(csv) == 1 + 27 + 1
    assert "2012-03-07,pra,,55+,Ак-Чий айылдык клубу,22,5,1" in csv
    assert csv[-1] == (
        "all,27 events; hearing 5; pra 8; assembly 4; training 7; working 3,,,,1284,388,79"
    )
