"""The console's projects page over HTTP: a project's status moved on tells the residents of
its village (as ``civic-bot project status``), audit-logged with the staff member; bad input
gets a polite 4xx and changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.core.rendering.templates import Renderer
from bot.core.services import demo_data, monitoring
from bot.core.services.budget_import import import_budget
from bot.webui.texts import texts
from tests.conftest import FakeClock, table_snapshot
from tests.console_site import SMS_STAFF, Site, console_site
from tests.test_console import client
from tests.test_console_imports import GOOD_BUDGET

KY = texts("ky")


@pytest.fixture
async def site(db_url: str, clock: FakeClock, renderer: Renderer) -> AsyncIterator[Site]:
    async with console_site(db_url, clock, renderer) as running:
        await import_budget(running.repos, running.municipality, GOOD_BUDGET.encode(),
                            now=clock.now())  # fmt: skip
        yield running


async def test_a_status_moved_on_tells_the_village_and_is_audit_logged(site: Site) -> None:
    project = await site.repos.budget.project_by_code(site.municipality.id, "W-1")
    staff = await site.repos.residents.by_phone(site.municipality.id, SMS_STAFF)
    assert project is not None and staff is not None
    async with client(site) as c:
        await c.sign_in()
        assert await c.get("/staff/") == 200 and 'href="/staff/projects"' in c.page
        assert await c.get("/staff/projects") == 200
        assert c.says("New water pipe") and c.says(KY["project_status_planned"])
        queued = await site.count("SELECT COUNT(*) FROM outbox")
        assert await c.post(f"/staff/projects/{project.id}/status", {"status": "tender"}) == 200
        told = await site.count("SELECT COUNT(*) FROM outbox") - queued
        assert told > 100 and c.says(KY["project_status_changed"].format(code="W-1", told=told))
    changed = await site.repos.budget.project_by_code(site.municipality.id, "W-1")
    assert changed is not None and changed.status == "tender"
    rows = await site.repos.db.fetchall(
        "SELECT actor_id, via FROM audit_log WHERE action = 'project status'"
    )
    assert [tuple(r) for r in rows] == [(staff.id, "web")]


async def test_bad_input_is_answered_politely_and_changes_nothing(site: Site) -> None:
    project = await site.repos.budget.project_by_code(site.municipality.id, "W-1")
    assert project is not None
    async with client(site) as c:
        await c.sign_in()
        before = await table_snapshot(site.repos, "projects", "outbox", "audit_log")
        assert await c.get("/staff/projects") == 200
        for bad in ({}, {"status": "finished"}, {"status": "\x00"}, {"status": "x" * 5000}):
            assert await c.post(f"/staff/projects/{project.id}/status", bad) == 400
            assert c.says(KY["project_bad_status"])
        assert await c.post("/staff/projects/999999/status", {"status": "done"}) == 404
        assert await c.post(f"/staff/projects/{project.id}/status", {"status": "done"},
                            csrf=False) == 403  # fmt: skip
        assert await table_snapshot(site.repos, "projects", "outbox", "audit_log") == before


async def test_a_projects_monitoring_acts_are_listed_with_their_photos(site: Site) -> None:
    project = await site.repos.budget.project_by_code(site.municipality.id, "W-1")
    monitor = await site.repos.residents.by_phone(site.municipality.id,
                                                  sorted(demo_data.MONITOR_PHONES)[0])  # fmt: skip
    assert project is not None and monitor is not None
    async with client(site) as c:
        await c.sign_in()
        assert await c.get(f"/staff/projects/{project.id}/acts") == 200
        assert c.says(KY["act_none"])
        await monitoring.file_act(site.repos, site.municipality, monitor, project.id, "purchase",
                                  "Трубалар сатылып алынды", now=site.clock.now(),
                                  photos=["file-1", "file-2"])  # fmt: skip
        assert await c.get("/staff/projects") == 200
        assert f'href="/staff/projects/{project.id}/acts"' in c.page
        assert await c.get(f"/staff/projects/{project.id}/acts") == 200
        assert c.says("Трубалар сатылып алынды") and c.says(KY["act_kind_purchase"])
        assert c.says(KY["act_photos"].format(count=2)) and c.says(monitor.name)
        assert await c.get("/staff/projects/999999/acts") == 404
