"""Projects and plan activities: staff move a project's status on, set its progress and
its milestones (the joint action plan); the residents of its village (of the whole
municipality for a municipality-wide project) are told of a new status and of a milestone
done. Every change is audit-logged."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from bot.core.clock import iso
from bot.core.rendering.templates import Renderer
from bot.core.services import audit
from bot.core.services.audit import CLI, Actor
from bot.core.services.budget_import import STATUSES
from bot.core.services.errors import Refused, ServiceError
from bot.core.services.outbound import drafts_for
from storage.models import Milestone, Municipality, Project
from storage.repos import Repos

PAGE = 5000
#: a project's status as a share of the way done (cancelled: none), where staff set none
PROGRESS = {"planned": 0, "tender": 25, "in_progress": 60, "done": 100, "cancelled": 0}
#: the longest milestone title kept
MAX_MILESTONE = 200


def progress(project: Project) -> int:
    """Per cent done: as staff set it, else as the status says."""
    return project.progress if project.progress is not None else PROGRESS.get(project.status, 0)


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
        told = await _tell_village(
            repos, municipality, project, f"project:{project.id}:status:{status}",
            lambda channel, language, p=project: renderer.render(
                "project_status", language, channel, project=p
            ), now=now,
        )  # fmt: skip
        await audit.record(
            repos, municipality.id, actor, "project status", now=now, object_kind="project",
            object_id=project.id, detail=f"{project.code}: {status}; {told} message(s)",
        )  # fmt: skip
    return project, told


async def _tell_village(
    repos: Repos, municipality: Municipality, project: Project, key: str,
    render: Callable[[str, str], str], *, now: datetime,
) -> int:  # fmt: skip
    """Enqueue ``render``'s message to the residents of the project's village (of the whole
    municipality for a municipality-wide project), once per ``key``; how many were told."""
    told, after = 0, 0
    while page := await repos.broadcasts.audience_page(
        municipality_id=municipality.id, village_id=project.village_id, after_id=after,
        limit=PAGE,
    ):  # fmt: skip
        drafts = [
            draft
            for recipient in page
            for draft in drafts_for(
                recipient, municipality_id=municipality.id, key=key, render=render
            )
        ]
        told += await repos.outbox.enqueue(drafts, now=iso(now))
        after = page[-1].resident_id
    return told


async def set_progress(
    repos: Repos, municipality: Municipality, project: Project, raw: str, *, now: datetime,
    actor: Actor,
) -> bool:  # fmt: skip
    """Set the project's progress from what staff typed (0..100, ``%`` allowed); False if
    it was that already. Refused ``bad_progress``."""
    text = raw.strip().removesuffix("%").strip()
    if not (text.isascii() and text.isdecimal() and 0 <= int(text) <= 100):
        raise Refused("bad_progress")
    progress = int(text)
    if project.progress == progress:
        return False
    async with repos.db.transaction():
        await repos.budget.set_progress(project.id, progress)
        await audit.record(
            repos, municipality.id, actor, "project progress", now=now, object_kind="project",
            object_id=project.id, detail=f"{project.code}: {progress}%",
        )  # fmt: skip
    return True


async def add_milestone(
    repos: Repos, municipality: Municipality, project: Project, title: str, due: str, *,
    now: datetime, actor: Actor,
) -> int:  # fmt: skip
    """A new milestone of the project (``due``: YYYY-MM-DD or empty). Refused
    ``bad_milestone`` (no title, or too long) or ``bad_date``."""
    if not title or len(title) > MAX_MILESTONE:
        raise Refused("bad_milestone")
    try:
        due_on = date.fromisoformat(due).isoformat() if due else None
    except ValueError:
        raise Refused("bad_date") from None
    async with repos.db.transaction():
        milestone_id = await repos.budget.add_milestone(project.id, title, due_on, now=iso(now))
        await audit.record(
            repos, municipality.id, actor, "project milestone", now=now, object_kind="project",
            object_id=project.id, detail=f"{project.code}: milestone {milestone_id} added",
        )  # fmt: skip
    return milestone_id


async def milestone_done(
    repos: Repos, renderer: Renderer, municipality: Municipality, project: Project,
    milestone_id: int, *, now: datetime, actor: Actor,
) -> int:  # fmt: skip
    """Mark the milestone done today (the municipality's date) and tell the village; how
    many were told. Refused ``unknown_milestone`` (not this project's, or done already)."""
    today = now.astimezone(renderer.tz).date().isoformat()
    async with repos.db.transaction():
        if not await repos.budget.mark_milestone_done(project.id, milestone_id, today):
            raise Refused("unknown_milestone")
        milestone = next(
            m for m in (await repos.budget.milestones(municipality.id))[project.id]
            if m.id == milestone_id
        )  # fmt: skip
        told = await _tell_village(
            repos, municipality, project, f"project:{project.id}:milestone:{milestone_id}",
            lambda channel, language: renderer.render(
                "project_milestone", language, channel, project=project, milestone=milestone
            ), now=now,
        )  # fmt: skip
        await audit.record(
            repos, municipality.id, actor, "project milestone", now=now, object_kind="project",
            object_id=project.id,
            detail=f"{project.code}: milestone {milestone_id} done; {told} message(s)",
        )  # fmt: skip
    return told


async def milestones(repos: Repos, municipality: Municipality) -> dict[int, list[Milestone]]:
    """Every project's milestones, by project id."""
    return await repos.budget.milestones(municipality.id)
