"""The projects page: the projects and activities of the joint action plan with their cost
and status; moving a status on tells the residents of the project's village (of the whole
municipality for a municipality-wide one), through :func:`bot.core.services.projects.
update_status` as ``civic-bot project status`` does, audit-logged with the staff member;
its progress and milestones (the joint action plan: set here, audit-logged; a milestone
done tells the village as a status does); a project's monitoring acts (read-only)."""

from __future__ import annotations

from aiohttp import web

from bot.core.services import monitoring, projects, public_site
from bot.core.services.audit import Actor
from bot.core.services.budget_import import STATUSES
from bot.core.services.errors import Refused, ServiceError
from bot.webui.base import (
    HEADERS,
    ROOT,
    VIA,
    console_of,
    field,
    not_found,
    page,
    redirect,
    staff,
    text,
)
from bot.webui.public.photos import thumbnail_response
from storage.models import Project

#: a staff page's photo: kept by the staff member's browser only (an act never changes)
PRIVATE_DAY = "private, max-age=86400"
HERE = ROOT + "projects"
PROJECT = r"/projects/{project:\d{1,9}}"


def add_routes(app: web.Application) -> None:
    add = app.router.add_route
    add("GET", "/projects", listing, name="projects")
    add("POST", PROJECT + "/status", change_status, name="project_status")
    add("POST", PROJECT + "/progress", change_progress, name="project_progress")
    add("POST", PROJECT + "/milestones", add_milestone, name="project_milestone_add")
    add("POST", PROJECT + r"/milestones/{milestone:\d{1,9}}/done", milestone_done,
        name="project_milestone_done")  # fmt: skip
    add("GET", PROJECT + "/acts", acts, name="project_acts")
    add("GET", r"/acts/{act:\d{1,9}}/{n:\d{1,3}}.jpg", act_photo, name="act_photo")


async def listing(request: web.Request, *, status: int = 200, error: str | None = None):
    console = console_of(request)
    villages = await console.repos.municipalities.villages(console.municipality.id)
    return page(
        request, "projects", status=status, statuses=STATUSES,
        projects=await console.repos.budget.projects(console.municipality.id),
        milestones=await projects.milestones(console.repos, console.municipality),
        progress_of=projects.PROGRESS,
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


async def _project(request: web.Request) -> Project | None:
    console = console_of(request)
    return await console.repos.budget.project(
        console.municipality.id, int(request.match_info["project"])
    )


def _at(project: Project) -> str:
    return f"{HERE}#project-{project.code}"


async def change_progress(request: web.Request) -> web.StreamResponse:
    project = await _project(request)
    if project is None:
        return await not_found(request)
    console = console_of(request)
    try:
        await projects.set_progress(
            console.repos, console.municipality, project, await field(request, "progress", 8),
            now=console.clock.now(), actor=Actor.of(staff(request).resident, VIA),
        )  # fmt: skip
    except Refused as refused:
        return await listing(request, status=400, error=text(request, "project_" + refused.code))
    return redirect(request, _at(project), notice=text(request, "project_progress_set",
                                                      code=project.code))  # fmt: skip


async def add_milestone(request: web.Request) -> web.StreamResponse:
    project = await _project(request)
    if project is None:
        return await not_found(request)
    console = console_of(request)
    try:
        await projects.add_milestone(
            console.repos, console.municipality, project,
            await field(request, "title", projects.MAX_MILESTONE + 1),
            await field(request, "due", 10), now=console.clock.now(),
            actor=Actor.of(staff(request).resident, VIA),
        )  # fmt: skip
    except Refused as refused:
        return await listing(request, status=400, error=text(request, "project_" + refused.code))
    return redirect(request, _at(project), notice=text(request, "project_milestone_added",
                                                      code=project.code))  # fmt: skip


async def milestone_done(request: web.Request) -> web.StreamResponse:
    project = await _project(request)
    if project is None:
        return await not_found(request)
    console = console_of(request)
    try:
        told = await projects.milestone_done(
            console.repos, console.renderer, console.municipality, project,
            int(request.match_info["milestone"]), now=console.clock.now(),
            actor=Actor.of(staff(request).resident, VIA),
        )  # fmt: skip
    except Refused as refused:
        return await listing(request, status=400, error=text(request, "project_" + refused.code))
    notice = text(request, "project_milestone_done", code=project.code, told=told)
    return redirect(request, _at(project), notice=notice)


async def acts(request: web.Request) -> web.Response:
    """A project's monitoring acts, oldest first (read-only: an act is never changed)."""
    console = console_of(request)
    try:
        project, filed = await monitoring.acts_for(
            console.repos, console.municipality, int(request.match_info["project"])
        )
    except Refused:
        return await not_found(request)
    return page(request, "acts", project=project, acts=filed, photos=console.photos is not None)


async def act_photo(request: web.Request) -> web.Response:
    """An act's photo as a small JPEG, as the public pages show it
    (:mod:`bot.webui.public.photos`)."""
    console = console_of(request)
    file_id = await public_site.act_photo(
        console.repos, console.municipality, int(request.match_info["act"]),
        int(request.match_info["n"]),
    )  # fmt: skip
    if file_id is None or console.photos is None:
        return await not_found(request)
    try:
        return await thumbnail_response(
            request, console.photos, console.thumbnails, file_id, now=console.clock.now(),
            headers=HEADERS, cache_control=PRIVATE_DAY,
        )  # fmt: skip
    except web.HTTPNotFound:
        return await not_found(request)
    except web.HTTPServiceUnavailable:  # Telegram would not give it now: later
        response = page(request, "message", status=503, error=text(request, "photo_unavailable"))
        response.headers["Retry-After"] = "300"
        return response
