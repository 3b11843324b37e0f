"""The console's problems page over HTTP: approve, reject with a reason the proposer is sent,
merge a duplicate (its proposers follow), each audit-logged with the staff member as the CLI
does; bad input gets a polite 4xx in the staff member's language and changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.core.rendering.templates import Renderer
from bot.core.services import problems
from bot.webui.texts import texts
from tests.conftest import FakeClock, table_snapshot
from tests.console_site import RESIDENT, SMS_STAFF, Site, console_site
from tests.test_console import client

KY = texts("ky")
TABLES = ("problems", "problem_proposers", "outbox", "audit_log")


@pytest.fixture
async def site(db_url: str, clock: FakeClock, renderer: Renderer) -> AsyncIterator[Site]:
    async with console_site(db_url, clock, renderer) as running:
        yield running


async def _proposed(site: Site, *bodies: str) -> list[int]:
    resident = await site.repos.residents.by_phone(site.municipality.id, RESIDENT)
    assert resident is not None
    return [(await problems.propose(site.repos, resident, body, now=site.clock.now())).id
            for body in bodies]  # fmt: skip


async def test_approve_reject_and_merge_audit_logged(site: Site) -> None:
    road, bridge, again = await _proposed(site, "Жол бузулган", "Көпүрө жок", "Жол начар")
    staff = await site.repos.residents.by_phone(site.municipality.id, SMS_STAFF)
    assert staff is not None
    async with client(site) as c:
        await c.sign_in()
        assert await c.get("/staff/") == 200 and 'href="/staff/problems"' in c.page
        assert await c.get("/staff/problems") == 200
        assert c.says("Жол бузулган") and c.says("Көпүрө жок")
        assert await c.post(f"/staff/problems/{road}/approve", {}) == 200
        assert c.says(KY["problem_approved"].format(number=road))
        queued = await site.count("SELECT COUNT(*) FROM outbox")
        assert await c.post(f"/staff/problems/{bridge}/reject", {"reason": "Району иши"}) == 200
        assert c.says(KY["problem_rejected"].format(number=bridge, told=1))
        assert await site.count("SELECT COUNT(*) FROM outbox") == queued + 1  # the proposer told
        assert await c.post(f"/staff/problems/{again}/merge", {"into": f"№{road}"}) == 200
        assert c.says(KY["problem_merged"].format(number=again, into=road))
    statuses = {p: (await site.repos.problems.get(site.municipality.id, p)).status  # type: ignore[union-attr]
                for p in (road, bridge, again)}  # fmt: skip
    assert statuses == {road: "approved", bridge: "rejected", again: "merged"}
    rows = await site.repos.db.fetchall(
        "SELECT action, actor_id, via FROM audit_log WHERE object_kind = 'problem' ORDER BY id"
    )
    assert [tuple(r) for r in rows] == [
        ("problem approved", staff.id, "web"),
        ("problem rejected", staff.id, "web"),
        ("problem merged", staff.id, "web"),
    ]


async def test_bad_input_is_answered_politely_and_changes_nothing(site: Site) -> None:
    (road,) = await _proposed(site, "Жол бузулган")
    async with client(site) as c:
        await c.sign_in()
        before = await table_snapshot(site.repos, *TABLES)  # after the sign-in code
        assert await c.get("/staff/problems") == 200
        assert await c.post(f"/staff/problems/{road}/reject", {"reason": "  "}) == 400
        assert c.says(KY["problem_reason_needed"])
        for into in ("", "abc", "１２", "-1", "\x00"):
            assert await c.post(f"/staff/problems/{road}/merge", {"into": into}) == 400
            assert c.says(KY["problem_bad_number"])
        assert await c.post(f"/staff/problems/{road}/merge", {"into": str(road)}) == 400
        assert await c.post(f"/staff/problems/{road}/merge", {"into": "99999"}) == 400
        assert await c.post("/staff/problems/99999/approve", {}) == 400
        assert await c.post(f"/staff/problems/{road}/approve", {}, csrf=False) == 403
        assert await table_snapshot(site.repos, *TABLES) == before
        for form in ({"reason": "x" * 5000}, {"into": "9" * 12}, {"reason": "\x00"}, {}):
            for action in ("reject", "merge", "approve"):
                assert await c.post(f"/staff/problems/{road}/{action}", form) < 500
                assert await c.get("/staff/problems") == 200
