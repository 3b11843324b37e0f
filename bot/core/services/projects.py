"""Projects and plan activities: staff move a project's status on, and the residents of
its village (of the whole municipality for a municipality-wide project) are told."""

from __future__ import annotations

from datetime import datetime

from bot.core.clock import iso
from bot.core.rendering.templates import Renderer
from bot.core.services import audit
from bot.core.services.audit import CLI, Actor
from bot.core.services.budget_import import STATUSES
from bot.core.services.errors import ServiceError
from bot.core.services.outbound import drafts_for
from storage.models import Municipality, Project
from storage.repos import Repos

PAGE = 5000


async def update_status(
    repos: Repos,
    renderer: Renderer,
    municipality: Municipality,
    code: str,
    status: str,
    *,
    now: datetime,
    actor: Actor = CLI,
) -> tuple[Project, int]:
    if status not in STATUSES:
        raise ServiceError(f"status must be one of {', '.join(STATUSES)}")
    project = await repos.budget.project_by_code(municipality.id, code)
    if project is None:
        raise ServiceError(f"no project {code!r}")
    if project.status == status:
        return project, 0
    async with repos.db.transaction():
        await repos.budget.set_status(project.id, status)
        project = await repos.budget.project(municipality.id, project.id)
        assert project is not None
        told, after = 0, 0
        while page := await repos.broadcasts.audience_page(
            municipality_id=municipality.id,
            village_id=project.village_id,
            after_id=after,
            limit=PAGE,
        ):
            drafts = [
                draft
                for recipient in page
                for draft in drafts_for(
                    recipient, municipality_id=municipality.id,
                    key=f"project:{project.id}:status:{status}",
                    render=lambda channel, language, p=project: renderer.render(
                        "project_status", language, channel, project=p
                    ),
                )
            ]  # fmt: skip
            told += await repos.outbox.enqueue(drafts, now=iso(now))
            after = page[-1].resident_id
        await audit.record(
            repos, municipality.id, actor, "project status", now=now, object_kind="project",
            object_id=project.id, detail=f"{project.code}: {status}; {told} message(s)",
        )  # fmt: skip
    return project, told
