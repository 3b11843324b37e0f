"""The console's imports page over HTTP: a budget or the register from a CSV file, a
preview with every bad line explained in the staff member's language, nothing imported
until confirmed (then audit-logged as the CLI does), Excel's UTF-16 files read and
Windows-1251 ones explained; bad input gets a polite 4xx and changes nothing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.core.clock import iso
from bot.core.rendering.templates import Renderer
from bot.core.services import demo_data
from bot.webui.texts import texts
from tests.conftest import FakeClock, table_snapshot
from tests.console_site import SMS_STAFF, Site, console_site
from tests.test_console import Client, client

KY, RU = texts("ky"), texts("ru")
BUDGET_TABLES = ("budgets", "budget_lines", "projects", "audit_log")
REGISTER_TABLES = ("households", "residents", "audit_log")
HEADER = "kind,year,code,name,village,amount,source_type,status\n"
GOOD_BUDGET = (
    HEADER
    + "revenue,2026,,Local taxes,,2500000,,\n"
    + "spending,2026,,Water pipe,Ak-Chiy,900000,,\n"
    + "project,2026,W-1,New water pipe,Ak-Chiy,900000,,planned\n"
    + "funding,2026,W-1,ARIS,,600000,grant,\n"
    + "funding,2026,W-1,,,300000,local_budget,\n"
)
#: line 3: a village not there; line 4: the project costs more than its funding
BAD_BUDGET = GOOD_BUDGET.replace("Water pipe,Ak-Chiy", "Water pipe,Ak-Suu").replace(
    "ARIS,,600000", "ARIS,,500000"
)


@pytest.fixture
async def site(db_url: str, clock: FakeClock, renderer: Renderer) -> AsyncIterator[Site]:
    async with console_site(db_url, clock, renderer) as running:
        yield running


async def upload(c: Client, kind: str | None, data: bytes | None, name: str = "f.csv") -> int:
    """Submit the imports form as a browser does (multipart, with the page's CSRF token)."""
    found = re.search(r'name="csrf" value="([^"]*)"', c.page)
    assert found, c.page
    form = aiohttp.FormData()
    form.add_field("csrf", found[1])
    if kind is not None:
        form.add_field("kind", kind)
    if data is not None:
        form.add_field("file", data, filename=name, content_type="text/csv")
    async with c.http.post(c.site.base_url + "/staff/imports", data=form) as resp:
        c.page = await resp.text()
        return resp.status


def _token(c: Client) -> str:
    found = re.search(r'name="token" value="([^"]+)"', c.page)
    assert found, c.page
    return found[1]


async def test_a_budget_with_bad_lines_is_explained_then_a_good_one_imported_on_confirm(
    site: Site,
) -> None:
    before = await table_snapshot(site.repos, *BUDGET_TABLES)
    async with client(site) as c:
        await c.sign_in()
        assert await c.get("/staff/") == 200 and 'href="/staff/imports"' in c.page
        assert await c.get("/staff/imports") == 200
        assert await upload(c, "budget", BAD_BUDGET.encode()) == 400
        assert c.says(KY["import_rejected"].format(count=2))
        assert c.says(KY["import_unknown_village"].format(value="Ak-Suu"))
        assert c.says(KY["import_funding_sum"].format(code="W-1", cost=900000, total=800000))
        assert re.search(r'<td class="num">3</td><td>[^<]*Ak-Suu', c.page)
        assert await table_snapshot(site.repos, *BUDGET_TABLES) == before

        assert await upload(c, "budget", GOOD_BUDGET.encode()) == 200
        assert c.says(KY["import_preview_budget"].format(year=2026, version=1, lines=2, projects=1))
        assert await table_snapshot(site.repos, *BUDGET_TABLES) == before  # not yet
        assert await c.post("/staff/imports/confirm", {"token": _token(c)}) == 200
        assert c.says(KY["import_done_budget"].format(year=2026, version=1))
    versions = await site.repos.budget.versions(site.municipality.id)
    assert [(b.year, b.version) for b in versions if b.year == 2026] == [(2026, 1)]
    staff = await site.repos.residents.by_phone(site.municipality.id, SMS_STAFF)
    assert staff is not None
    rows = await site.repos.db.fetchall(
        "SELECT actor_id, via FROM audit_log WHERE action = 'budget imported'"
    )
    assert [tuple(r) for r in rows][-1:] == [(staff.id, "web")]


async def test_the_reasons_are_in_the_staff_members_language(site: Site) -> None:
    member = await site.repos.residents.by_phone(site.municipality.id, SMS_STAFF)
    assert member is not None
    await site.repos.residents.set_language(member.id, "ru", now=iso(site.clock.now()))
    async with client(site) as c:
        await c.sign_in()
        assert await c.get("/staff/imports") == 200
        assert await upload(c, "budget", BAD_BUDGET.encode()) == 400
        assert c.says(RU["import_unknown_village"].format(value="Ak-Suu"))
        assert c.says(RU["import_bad_lines"])


async def test_the_register_from_excel_utf16_with_semicolons_and_cp1251_explained(
    site: Site,
) -> None:
    households = "code;village;address\r\nNEW-1;Kachybek;Ленин көчөсү, 1\r\n"
    residents = (
        "phone;name;gender;birth_year;household\r\n0555 987 654;Айгүл Өмүрбекова;ж;1990;NEW-1\r\n"
    )
    before = await table_snapshot(site.repos, *REGISTER_TABLES)
    async with client(site) as c:
        await c.sign_in()
        assert await c.get("/staff/imports") == 200
        assert (
            await upload(
                c,
                "residents",
                "phone,name,gender,birth_year,household\n"
                "0555987654,Иван Петров,м,1980,AC-001\n".encode("cp1251"),
            )
            == 400
        )
        assert c.says(KY["import_not_utf8"])
        assert await table_snapshot(site.repos, *REGISTER_TABLES) == before

        excel = "\ufeff" + households  # Excel's "Unicode text": UTF-16 with its BOM
        assert await upload(c, "households", excel.encode("utf-16-le")) == 200
        assert c.says(KY["import_preview_register"].format(created=1, updated=0, unchanged=0))
        assert await c.post("/staff/imports/confirm", {"token": _token(c)}) == 200
        assert c.says(KY["import_done_register"].format(created=1, updated=0, unchanged=0))

        assert await upload(c, "residents", residents.encode("utf-8-sig")) == 200
        assert await c.post("/staff/imports/confirm", {"token": _token(c)}) == 200
    added = await site.repos.residents.by_phone(site.municipality.id, "+996555987654")
    assert added is not None and added.name == "Айгүл Өмүрбекова" and added.gender == "f"


async def test_bad_input_gets_a_polite_answer_and_changes_nothing(site: Site) -> None:
    before = await table_snapshot(site.repos, *BUDGET_TABLES, "households", "residents")
    async with client(site) as c:
        await c.sign_in()
        assert await c.get("/staff/imports") == 200
        assert await upload(c, None, GOOD_BUDGET.encode()) == 400
        assert c.says(KY["import_pick_kind"])
        assert await upload(c, "../../etc", GOOD_BUDGET.encode()) == 400
        assert await upload(c, "budget", None) == 400 and c.says(KY["import_no_file"])
        assert await upload(c, "budget", b"") == 400 and c.says(KY["import_no_file"])
        assert await upload(c, "budget", b"\x00\xff\xfe garbage") == 400
        assert await upload(c, "budget", b"kind,year,colour\nrevenue,2026,red\n") == 400
        assert c.says(KY["import_unknown_columns"].format(columns="colour"))
        assert await c.post("/staff/imports/confirm", {"token": "made-up"}) == 400
        assert c.says(KY["import_expired"])
        assert await c.post("/staff/imports/confirm", {}) == 400

        # a preview confirmed too late, or by another staff member, imports nothing
        assert await upload(c, "budget", GOOD_BUDGET.encode()) == 200
        token = _token(c)
        for _ in range(2):  # the session stays (idle expiry), the preview does not
            site.clock.advance(seconds=int(timedelta(minutes=16).total_seconds()))
            assert await c.get("/staff/imports") == 200
        assert await c.post("/staff/imports/confirm", {"token": token}) == 400
        assert c.says(KY["import_expired"])
        assert await upload(c, "budget", GOOD_BUDGET.encode()) == 200
        token = _token(c)
        async with client(site) as other:
            await other.sign_in(demo_data.STAFF_PHONES[5])
            assert await other.get("/staff/imports") == 200
            assert await other.post("/staff/imports/confirm", {"token": token}) == 400
        # without the form's CSRF token: refused
        assert await c.post("/staff/imports/confirm", {"token": token}, csrf=False) == 403
        assert await table_snapshot(site.repos, *BUDGET_TABLES, "households", "residents") == (
            before
        )
        # the preview is still there for its owner
        assert await c.get("/staff/imports") == 200
        assert await c.post("/staff/imports/confirm", {"token": token}) == 200


async def test_no_input_yields_a_5xx(site: Site) -> None:
    async with client(site) as c:
        await c.sign_in()
        assert await c.get("/staff/imports") == 200
        csrf = re.search(r'name="csrf" value="([^"]*)"', c.page)
        assert csrf
        url = site.base_url + "/staff/imports"
        bodies: list[object] = [
            {"csrf": csrf[1], "kind": "budget", "file": "not a file"},
            {"csrf": csrf[1], "kind": ["budget", "residents"]},
            b"\xff\xfe\x00",
            "x" * (9 * 1024 * 1024),
        ]
        for body in bodies:
            async with c.http.post(url, data=body) as resp:
                assert resp.status < 500, await resp.text()
        big = b"kind,year\n" + b"revenue,2026\n" * (700 * 1024)  # > 8 MB
        assert await upload(c, "budget", big) == 413
        assert c.says(KY["too_large"])
        for path in ("/staff/imports/confirm", "/staff/imports"):
            form = {"csrf": csrf[1], "token": "\x00"}
            async with c.http.post(site.base_url + path, data=form) as resp:
                assert resp.status < 500


def test_every_code_of_a_bad_line_has_its_text_in_every_language() -> None:
    """The codes the import services give a bad line (a code without a text would show the
    English reason instead)."""
    sources = "".join(
        (Path(__file__).parents[1] / f"bot/core/services/{name}.py").read_text()
        for name in ("csv_input", "budget_import", "register_import")
    )
    codes = set(re.findall(r'BadValue\(\s*f?"[^"]*",\s*"([a-z_0-9]+)"', sources))
    codes |= set(re.findall(r'LineError\(\s*[^,()]+,\s*(?:f?"[^"]*"|reason),\s*"([a-z_0-9]+)"',
                            sources))  # fmt: skip
    codes |= {"bad_birth_year", "funding_sum"}  # their reasons span lines
    assert len(codes) == 26
    for language in ("ky", "ru", "en"):
        assert not {c for c in codes if "import_" + c not in texts(language)}, language


async def test_the_today_page_links_the_new_pages_and_its_title_is_plain_text(site: Site) -> None:
    async with client(site) as c:
        await c.sign_in()
        assert await c.get("/staff/") == 200
        for page in ("imports", "residents", "problems", "projects", "ratings"):
            assert f'href="/staff/{page}"' in c.page
        title = c.page.split("<title>")[1].split("</title>")[0]
        assert "<" not in title and title.startswith(KY["today"])  # no links inside <title>
