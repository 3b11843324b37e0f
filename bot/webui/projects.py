"""The projects page: the projects and activities of the joint action plan with their cost
and status; moving a status on tells the residents of the project's village (of the whole
municipality for a municipality-wide one), through :func:`bot.core.services.projects.
update_status` as ``civic-bot project status`` does, audit-logged with the staff member;
a project's monitoring acts (read-only)."""

from __future__ import annotations

from aiohttp import web

from bot.core.services import monitoring, projects
from bot.core.services.audit import Actor
from bot.core.services.budget_import import STATUSES
from bot.core.services.errors import Refused, ServiceError
from bot.webui.base import ROOT, console_of, field, not_found, page, redirect, staff, text

VIA = "web"
HERE = ROOT + "projects"
PROJECT = r"/projects/{project:\d{1,9}}"


def add_routes(app: web.Application) -> None:
    add = app.router.add_route
    add("GET", "/projects", listing, name="projects")
    add("POST", PROJECT + "/status", change_status, name="project_status")
    add("GET", PROJECT + "/acts", acts, name="project_acts")


async def listing(request: web.Request, *, status: int = 200, error: str | None = None):
    console = console_of(request)
    villages = await console.repos.municipalities.villages(console.municipality.id)
    return page(
        request, "projects", status=status, statuses=STATUSES,
        projects=await console.repos.budget.projects(console.municipality.id),
        villages={v.id: v.name for v in villages}, error=error,
    )  # fmt: skip


async def change_status(request: web.Request) -> web.StreamResponse:
    console = console_of(request)
    project = await console.repos.budget.project(
        console.municipality.id, int(request.match_info["project"])
    )
    if project is None:
        return await not_found(request)
    wanted = await field(request, "status", 20)
    if wanted not in STATUSES:
        return await listing(request, status=400, error=text(request, "project_bad_status"))
    try:
        changed, told = await projects.update_status(
            console.repos, console.renderer, console.municipality, project.code, wanted,
            now=console.clock.now(), actor=Actor.of(staff(request).resident, VIA),
        )  # fmt: skip
    except ServiceError as exc:
        return await listing(request, status=400, error=text(request, "refused", reason=str(exc)))
    notice = text(request, "project_status_changed", code=changed.code, told=told)
    return redirect(request, HERE, notice=notice)


async def acts(request: web.Request) -> web.Response:
    """A project's monitoring acts, oldest first (read-only: an act is never changed)."""
    console = console_of(request)
    try:
        project, filed = await monitoring.acts_for(
            console.repos, console.municipality, int(request.match_info["project"])
        )
    except Refused:
        return await not_found(request)
    return page(request, "acts", project=project, acts=filed)
