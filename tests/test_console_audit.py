"""The console's audit log page over HTTP: newest first, 50 a page, filtered by local date,
staff named; a date that cannot be read gets a polite 400 in the staff member's language;
on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.core.rendering.templates import Renderer
from bot.core.services import audit
from bot.core.services.audit import CLI, Actor
from bot.webui.texts import texts
from tests.conftest import FakeClock, table_snapshot
from tests.console_site import SMS_STAFF, Site, console_site
from tests.test_console import Client, client

KY = texts("ky")


@pytest.fixture
async def site(db_url: str, clock: FakeClock, renderer: Renderer) -> AsyncIterator[Site]:
    async with console_site(db_url, clock, renderer) as running:
        yield running


def _rows(c: Client) -> list[str]:
    table = c.page.split('id="audit-log"')[1].split("</tbody>")[0]
    return re.findall(r"<tr><td>.*?</tr>", table, re.S)


async def _history(site: Site) -> str:
    """70 actions, one an hour from 2026-11-20 00:00 Bishkek time on: every tenth by the
    staff member of SMS_STAFF via web, the others by the command line. Returns the name."""
    member = await site.repos.residents.by_phone(site.municipality.id, SMS_STAFF)
    assert member is not None
    start = site.clock.now().replace(day=19, hour=18)  # 2026-11-20 00:00 in Bishkek
    for n in range(70):
        actor = Actor.of(member, "web") if n % 10 == 0 else CLI
        await audit.record(site.repos, site.municipality.id, actor, f"action {n:02d}",
                           now=start + timedelta(hours=n), object_kind="hearing",
                           object_id=n)  # fmt: skip
    return member.name


async def test_newest_first_fifty_a_page_and_the_older_ones_after(site: Site) -> None:
    name = await _history(site)
    async with client(site) as c:
        await c.sign_in()
        assert await c.get("/staff/") == 200 and 'href="/staff/audit"' in c.page
        assert await c.get("/staff/audit?from=2026-11-20&to=2026-11-22") == 200
        rows = _rows(c)
        assert len(rows) == 50
        assert "action 69" in rows[0] and "action 20" in rows[-1]
        assert name in rows[9] and KY["audit_via_web"] in rows[9]  # action 60
        assert KY["audit_cli"] in rows[1]
        older = re.search(r'href="(/staff/audit\?[^"]+)"', c.page)
        assert older
        assert await c.get(older[1].replace("&amp;", "&")) == 200
        rows = _rows(c)
        assert [re.search(r"action (\d\d)", r)[1] for r in rows] == [  # type: ignore[index]
            f"{n:02d}" for n in range(19, -1, -1)
        ]
        assert not c.says(KY["audit_older"])


async def test_filtered_by_local_dates(site: Site) -> None:
    await _history(site)
    async with client(site) as c:
        await c.sign_in()
        # 2026-11-21 in Bishkek: actions 24..47
        assert await c.get("/staff/audit?from=2026-11-21&to=2026-11-21") == 200
        found = [int(re.search(r"action (\d\d)", r)[1]) for r in _rows(c)]  # type: ignore[index]
        assert found == list(range(47, 23, -1))
        assert await c.get("/staff/audit?from=2026-12-01") == 200
        assert c.says(KY["audit_empty"])


@pytest.mark.parametrize(
    ("language", "query", "code"),
    [
        ("ky", "from=21.11.2026", "bad_date"),
        ("ru", "to=2026-02-30", "bad_date"),
        ("en", "from=0001-01-01", "bad_date"),
        ("ky", "from=2026-11-22&to=2026-11-21", "dates_reversed"),
    ],
)
async def test_a_date_that_cannot_be_read_gets_a_polite_answer(
    site: Site, language: str, query: str, code: str
) -> None:
    member = await site.repos.residents.by_phone(site.municipality.id, SMS_STAFF)
    assert member is not None
    await site.repos.residents.set_language(member.id, language, now="2026-11-25T00:00:00Z")
    async with client(site) as c:
        await c.sign_in()
        before = await table_snapshot(site.repos, "audit_log")
        assert await c.get("/staff/audit?" + query) == 400
        assert c.says(texts(language)["audit_" + code])
        assert before == await table_snapshot(site.repos, "audit_log")


async def test_no_query_yields_a_server_error(site: Site) -> None:
    await _history(site)
    nasty = ["", "0", "-1", "99999999999999999999", "' OR 1=1 --", "%", "%00", "я" * 500,
             "<script>", "9999-12-31", "2026-13-40", "1e9"]  # fmt: skip
    async with client(site) as c:
        await c.sign_in()
        for value in nasty:
            for name in ("from", "to", "before"):
                status = await c.get(f"/staff/audit?{name}={value}")
                assert status < 500, (name, value)
                assert "<script>" not in c.page
