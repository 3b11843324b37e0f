"""The joint action plan on the console's projects page and on the public project page:
a project's progress in per cent and its milestones, set by staff (audit-logged); a
milestone done tells the residents of the project's village as a new status does; bad
input gets a polite 400 and changes nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.core.rendering.templates import Renderer
from bot.core.services import projects
from bot.core.services.budget_import import import_budget
from bot.webui.texts import texts
from storage.models import Project
from tests.conftest import FakeClock, table_snapshot
from tests.console_site import SMS_STAFF, Site, console_site
from tests.test_console import client
from tests.test_console_imports import GOOD_BUDGET

KY = texts("ky")
PUBLIC_KY = texts("ky", "public")
TABLES = ("projects", "project_milestones", "outbox", "audit_log")


@pytest.fixture
async def site(db_url: str, clock: FakeClock, renderer: Renderer) -> AsyncIterator[Site]:
    async with console_site(db_url, clock, renderer) as running:
        await import_budget(running.repos, running.municipality, GOOD_BUDGET.encode(),
                            now=clock.now())  # fmt: skip
        yield running


async def w1(site: Site) -> Project:
    project = await site.repos.budget.project_by_code(site.municipality.id, "W-1")
    assert project is not None
    return project


async def public_projects(site: Site) -> str:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{site.base_url}/m/{site.municipality.slug}/projects?lang=ky") as resp,
    ):
        assert resp.status == 200
        return html.unescape(await resp.text())


async def audit_actions(site: Site) -> list[tuple[str, str]]:
    rows = await site.repos.db.fetchall(
        "SELECT action, detail FROM audit_log WHERE object_kind = 'project' ORDER BY id"
    )
    return [(r[0], r[1]) for r in rows]


async def test_progress_set_on_the_console_shows_on_the_public_page(site: Site) -> None:
    project = await w1(site)
    assert f"{projects.PROGRESS['planned']}%" in await public_projects(site)
    async with client(site) as c:
        await c.sign_in(SMS_STAFF)
        assert await c.get("/staff/projects") == 200
        queued = await site.count("SELECT COUNT(*) FROM outbox")
        assert await c.post(f"/staff/projects/{project.id}/progress", {"progress": "35 %"}) == 200
        assert c.says(KY["project_progress_set"].format(code="W-1"))
        assert f'id="progress-{project.id}"' in c.page and 'value="35"' in c.page
        assert await site.count("SELECT COUNT(*) FROM outbox") == queued  # nobody told
        # the audit log, unfiltered (PostgreSQL could not type its NULL filters: a 500)
        assert await c.get("/staff/audit") == 200 and c.says("W-1: 35%")
    assert (await w1(site)).progress == 35
    page = await public_projects(site)
    assert f"{PUBLIC_KY['progress']}: 35%" in page
    assert await audit_actions(site) == [("project progress", "W-1: 35%")]


async def test_a_milestone_added_then_done_tells_the_village(site: Site) -> None:
    project = await w1(site)
    async with client(site) as c:
        await c.sign_in(SMS_STAFF)
        assert await c.get("/staff/projects") == 200
        form = {"title": "Трубалар сатылып алынды", "due": "2026-12-20"}
        assert await c.post(f"/staff/projects/{project.id}/milestones", form) == 200
        assert c.says(KY["project_milestone_added"].format(code="W-1"))
        assert c.says("Трубалар сатылып алынды") and c.says("20.12.2026")
        page = await public_projects(site)
        assert PUBLIC_KY["plan_milestones"] in page and "Трубалар сатылып алынды" in page
        assert f'{PUBLIC_KY["milestone_due"]} <time datetime="2026-12-20">20.12.2026' in page
        [milestone] = (await projects.milestones(site.repos, site.municipality))[project.id]
        queued = await site.count("SELECT COUNT(*) FROM outbox")
        done = f"/staff/projects/{project.id}/milestones/{milestone.id}/done"
        assert await c.post(done, {}) == 200
        told = await site.count("SELECT COUNT(*) FROM outbox") - queued
        assert told > 100
        assert c.says(KY["project_milestone_done"].format(code="W-1", told=told))
        bodies = await site.repos.db.fetchall(
            "SELECT body FROM outbox WHERE dedupe_key LIKE ?",
            (f"project:{project.id}:milestone:{milestone.id}:%",),
        )
        assert len(bodies) == told and all("Трубалар сатылып алынды" in b[0] for b in bodies)
        # pressed again (a second tab): nobody is told twice
        assert await c.post(done, {}) == 400 and c.says(KY["project_unknown_milestone"])
        assert await site.count("SELECT COUNT(*) FROM outbox") == queued + told
    today = site.clock.now().strftime("%d.%m.%Y")  # 04:00 UTC: the same day in Bishkek
    assert f"{PUBLIC_KY['milestone_done']} <time" in (page := await public_projects(site))
    assert today in page
    assert [a for a, _ in await audit_actions(site)] == ["project milestone"] * 2


async def test_bad_plan_input_is_answered_politely_and_changes_nothing(site: Site) -> None:
    project = await w1(site)
    other = next(p for p in await site.repos.budget.projects(site.municipality.id)
                 if p.id != project.id)  # fmt: skip
    async with client(site) as c:
        await c.sign_in(SMS_STAFF)
        assert await c.get("/staff/projects") == 200
        await c.post(f"/staff/projects/{project.id}/milestones", {"title": "Бир"})
        [milestone] = (await projects.milestones(site.repos, site.municipality))[project.id]
        before = await table_snapshot(site.repos, *TABLES)
        progress = f"/staff/projects/{project.id}/progress"
        for bad in ({}, {"progress": ""}, {"progress": "101"}, {"progress": "-5"},
                    {"progress": "½"}, {"progress": "x" * 5000}, {"progress": "\x00"}):  # fmt: skip
            assert await c.post(progress, bad) == 400, bad
            assert c.says(KY["project_bad_progress"])
        add = f"/staff/projects/{project.id}/milestones"
        for bad, key in (
            ({"title": ""}, "project_bad_milestone"),
            ({"title": "x" * 201}, "project_bad_milestone"),
            ({"title": "Эки", "due": "2026-02-30"}, "project_bad_date"),
            ({"title": "Эки", "due": "эртең"}, "project_bad_date"),
        ):
            assert await c.post(add, bad) == 400 and c.says(KY[key]), bad
        wrong = f"/staff/projects/{other.id}/milestones/{milestone.id}/done"  # not its own
        assert await c.post(wrong, {}) == 400 and c.says(KY["project_unknown_milestone"])
        assert await c.post(f"/staff/projects/{project.id}/milestones/999999/done", {}) == 400
        assert await c.post("/staff/projects/999999/progress", {"progress": "5"}) == 404
        assert await c.post(progress, {"progress": "5"}, csrf=False) == 403
        assert await table_snapshot(site.repos, *TABLES) == before
