"""The console's service ratings page over HTTP: open a round (audit-logged with the staff
member, as ``civic-bot rating open``), see the averages by service and village once rated;
a form without a name or services gets a polite 400 and changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.core.rendering.templates import Renderer
from bot.core.services import ratings
from bot.webui.texts import texts
from tests.conftest import FakeClock, table_snapshot
from tests.console_site import SMS_STAFF, Site, console_site
from tests.test_console import client
from tests.test_console_polls import voters

KY = texts("ky")


@pytest.fixture
async def site(db_url: str, clock: FakeClock, renderer: Renderer) -> AsyncIterator[Site]:
    async with console_site(db_url, clock, renderer) as running:
        yield running


async def test_open_a_round_and_read_the_averages(site: Site) -> None:
    staff = await site.repos.residents.by_phone(site.municipality.id, SMS_STAFF)
    assert staff is not None
    async with client(site) as c:
        await c.sign_in()
        assert await c.get("/staff/") == 200 and 'href="/staff/ratings"' in c.page
        # the demo's closed round of 2015, in the staff member's language
        assert await c.get("/staff/ratings") == 200 and c.says("Кызматтарды баалоо 2015")
        form = {"name": "2026 күз", "services": "Суу\r\nТаштанды"}
        assert await c.post("/staff/ratings/open", form) == 200
        assert c.says(KY["rating_opened"])
        for resident, score in zip(await voters(site, 4), ("5", "4", "3", "4"), strict=True):
            await ratings.rate(site.repos, site.municipality, resident, "Суу", score,
                               now=site.clock.now())  # fmt: skip
        assert await c.get("/staff/ratings") == 200
        assert c.says("2026 күз")
        assert '<th scope="row">Суу</th><td class="num">4.00</td><td class="num">4</td>' in c.page
    rows = await site.repos.db.fetchall(
        "SELECT actor_id, via FROM audit_log WHERE action = 'rating round opened'"
    )
    assert [tuple(r) for r in rows] == [(staff.id, "web")]


async def test_bad_input_is_answered_politely_and_changes_nothing(site: Site) -> None:
    async with client(site) as c:
        await c.sign_in()
        before = await table_snapshot(site.repos, "rating_rounds", "audit_log")
        assert await c.get("/staff/ratings") == 200
        bad = [
            {},
            {"name": "Күз"},
            {"services": "Суу"},
            {"name": " ", "services": "Суу"},
            {"name": "Күз", "services": "Суу\nсуу"},
            {"name": "\x00", "services": "\x00"},
        ]
        for form in bad:
            assert await c.post("/staff/ratings/open", form) == 400
            assert c.says(KY["rating_form_needed"])
        assert await c.post("/staff/ratings/open", {"name": "Күз", "services": "Суу"},
                            csrf=False) == 403  # fmt: skip
        assert await table_snapshot(site.repos, "rating_rounds", "audit_log") == before
