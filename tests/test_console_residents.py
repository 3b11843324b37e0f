"""The console's residents pages over HTTP: search by phone (any usual form) or a part of
the name (any case), the card, corrections audit-logged with the staff member, roles granted
and revoked by an administrator only (as ``civic-bot staff``); bad input gets a polite 4xx
in the staff member's language and changes nothing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from urllib.parse import quote

import pytest

from bot.core.clock import iso
from bot.core.rendering.templates import Renderer
from bot.core.services import demo_data
from bot.webui.texts import texts
from tests.conftest import FakeClock, table_snapshot
from tests.console_site import RESIDENT, SMS_STAFF, Site, console_site
from tests.test_console import Client, client

KY, RU = texts("ky"), texts("ru")
ADMIN = demo_data.STAFF_PHONES[0]


@pytest.fixture
async def site(db_url: str, clock: FakeClock, renderer: Renderer) -> AsyncIterator[Site]:
    async with console_site(db_url, clock, renderer) as running:
        yield running


def _found(c: Client) -> list[str]:
    return re.findall(r'href="/staff/residents/(\d+)"', c.page)


async def test_search_by_phone_or_part_of_the_name_and_see_the_card(site: Site) -> None:
    resident = await site.repos.residents.by_phone(site.municipality.id, RESIDENT)
    assert resident is not None
    first, *_ = resident.name.split()
    async with client(site) as c:
        await c.sign_in()
        assert await c.get("/staff/") == 200 and 'href="/staff/residents"' in c.page
        for typed in ("0700 000 100", "+996 (700) 00-01-00", "996700000100"):
            assert await c.get("/staff/residents?q=" + quote(typed)) == 200
            assert _found(c) == [str(resident.id)]
        assert await c.get("/staff/residents?q=0700999999") == 200
        assert _found(c) == [] and c.says(KY["resident_none"])
        assert await c.get("/staff/residents?q=" + quote(first[:3].lower())) == 200
        found = _found(c)
        assert str(resident.id) in found or len(found) == 50
        assert await c.get("/staff/residents?q=" + quote(resident.name.upper())) == 200
        assert str(resident.id) in _found(c)
        assert await c.get("/staff/residents?q=" + quote(resident.name.lower())) == 200
        assert str(resident.id) in _found(c)
        assert await c.get(f"/staff/residents/{resident.id}") == 200
        assert c.says(resident.name) and c.says(RESIDENT)


async def test_a_correction_is_saved_and_audit_logged_a_bad_one_explained(site: Site) -> None:
    resident = await site.repos.residents.by_phone(site.municipality.id, RESIDENT)
    staff = await site.repos.residents.by_phone(site.municipality.id, SMS_STAFF)
    assert resident is not None and staff is not None
    await site.repos.residents.set_language(staff.id, "ru", now=iso(site.clock.now()))
    url = f"/staff/residents/{resident.id}"
    async with client(site) as c:
        await c.sign_in()
        assert await c.get(url) == 200
        before = await table_snapshot(site.repos, "residents", "audit_log")
        bad = {"name": "Айгүл Өмүрбекова", "gender": "f", "birth_year": "1850"}
        assert await c.post(url + "/correct", bad) == 400
        assert c.says(RU["resident_bad_birth_year"])
        assert 'value="Айгүл Өмүрбекова"' in c.page  # what was typed stays
        for wrong in (
            {**bad, "birth_year": "", "gender": "x"},
            {**bad, "name": " ", "birth_year": ""},
        ):
            assert await c.post(url + "/correct", wrong) == 400
        assert await table_snapshot(site.repos, "residents", "audit_log") == before

        good = {"name": "Айгүл Өмүрбекова", "gender": "f", "birth_year": "1990"}
        assert await c.post(url + "/correct", good) == 200
        assert c.says(RU["resident_corrected"])
        assert await c.post(url + "/correct", good) == 200 and c.says(RU["resident_unchanged"])
    corrected = await site.repos.residents.by_id(resident.id)
    assert corrected is not None
    assert (corrected.name, corrected.gender, corrected.birth_year) == (
        "Айгүл Өмүрбекова",
        "f",
        1990,
    )
    rows = await site.repos.db.fetchall(
        "SELECT actor_id, via, object_id FROM audit_log WHERE action = 'resident corrected'"
    )
    assert [tuple(r) for r in rows] == [(staff.id, "web", resident.id)]


async def test_roles_by_an_administrator_only(site: Site) -> None:
    resident = await site.repos.residents.by_phone(site.municipality.id, RESIDENT)
    assert resident is not None
    url = f"/staff/residents/{resident.id}"
    async with client(site) as c:
        await c.sign_in(SMS_STAFF)  # staff, not admin
        assert await c.get(url) == 200 and not c.says(KY["resident_grant"])
        before = await table_snapshot(site.repos, "roles", "audit_log")
        assert await c.post(url + "/roles", {"role": "deputy", "action": "grant"}) == 400
        assert c.says(KY["resident_admin_only"])
        assert await table_snapshot(site.repos, "roles", "audit_log") == before
    async with client(site) as c:
        await c.sign_in(ADMIN)
        assert await c.get(url) == 200 and c.says(KY["resident_grant"])
        for bad in ({"role": "king", "action": "grant"}, {"role": "deputy", "action": "x"}):
            assert await c.post(url + "/roles", bad) == 400 and c.says(KY["resident_bad_role"])
        assert await table_snapshot(site.repos, "roles", "audit_log") == before
        assert await c.post(url + "/roles", {"role": "deputy", "action": "grant"}) == 200
        assert c.says(KY["resident_role_granted"])
        assert "deputy" in await site.repos.roles.of(resident.id)
        assert await c.post(url + "/roles", {"role": "deputy", "action": "revoke"}) == 200
        assert c.says(KY["resident_role_revoked"])
        assert "deputy" not in await site.repos.roles.of(resident.id)
    admin = await site.repos.residents.by_phone(site.municipality.id, ADMIN)
    assert admin is not None
    rows = await site.repos.db.fetchall(
        "SELECT action, actor_id, via, detail FROM audit_log WHERE object_id = ?"
        " AND action LIKE 'role %' ORDER BY id",
        (resident.id,),
    )
    assert [tuple(r) for r in rows] == [
        ("role granted", admin.id, "web", "deputy"),
        ("role revoked", admin.id, "web", "deputy"),
    ]


async def test_bad_input_is_answered_politely_and_no_input_yields_a_5xx(site: Site) -> None:
    before = await table_snapshot(site.repos, "residents", "roles", "audit_log")
    async with client(site) as c:
        await c.sign_in(ADMIN)
        assert await c.get("/staff/residents?q=a") == 400 and c.says(KY["resident_short"])
        assert await c.get("/staff/residents?q=12") == 400 and c.says(KY["resident_bad_phone"])
        assert await c.get("/staff/residents/999999999") == 404
        assert await c.get("/staff/residents") == 200
        weird = ["%", "_", "\\", "'; DROP TABLE residents; --", "\x00", "Ә" * 300, "%25%00"]
        for q in weird:
            assert await c.get("/staff/residents?q=" + quote(q)) < 500
        resident = await site.repos.residents.by_phone(site.municipality.id, RESIDENT)
        assert resident is not None
        url = f"/staff/residents/{resident.id}"
        assert await c.get(url) == 200
        for form in ({}, {"name": "\x00" * 500, "gender": "ж" * 50, "birth_year": "１９９０"},
                     {"role": "\x00", "action": "grant"}):  # fmt: skip
            assert await c.post(url + "/correct", form) < 500
            assert await c.post(url + "/roles", form) < 500
        assert await c.post(url + "/correct", {}, csrf=False) == 403
    assert await table_snapshot(site.repos, "residents", "roles", "audit_log") == before
