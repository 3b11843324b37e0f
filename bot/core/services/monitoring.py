"""Monitoring acts on projects: only members of the monitoring group file them; once
filed, an act is never changed (there is no edit path), and anyone may read them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.core.clock import iso
from bot.core.services.errors import Refused
from storage.models import MonitoringAct, Municipality, Project, Resident
from storage.repos import Repos

KINDS = ("tender", "purchase", "handover", "use")
MAX_ACT = 1000


async def file_act(
    repos: Repos,
    municipality: Municipality,
    author: Resident,
    project_id: int,
    kind: str,
    body: str,
    *,
    now: datetime,
    photos: Sequence[str] = (),
) -> tuple[Project, int]:
    """File an act and its photos (all or nothing); return the project and the act's id."""
    await _require_monitor(repos, author)
    project = await repos.budget.project(municipality.id, project_id)
    if project is None:
        raise Refused("unknown_project")
    if kind not in KINDS:
        raise Refused("unknown_kind")
    text = " ".join(body.split())
    if not text and not photos:
        raise Refused("empty")
    if len(text) > MAX_ACT:
        raise Refused("too_long")
    async with repos.db.transaction():
        act_id = await repos.acts.add(
            municipality_id=municipality.id,
            project_id=project.id,
            author_id=author.id,
            kind=kind,
            body=text,
            photos=photos,
            now=iso(now),
        )
    return project, act_id


async def _require_monitor(repos: Repos, author: Resident) -> None:
    if "monitor" not in await repos.roles.of(author.id):
        raise Refused("not_monitor")


async def projects_to_monitor(
    repos: Repos, municipality: Municipality, author: Resident
) -> list[Project]:
    """The projects ``author`` may file acts on: refused unless they are a monitor (said
    before they start a form; :func:`file_act` checks again)."""
    await _require_monitor(repos, author)
    return await projects(repos, municipality)


async def projects(repos: Repos, municipality: Municipality) -> list[Project]:
    return await repos.budget.projects(municipality.id)


async def find_project(repos: Repos, municipality: Municipality, number: int) -> Project | None:
    return await repos.budget.project(municipality.id, number)


async def acts_for(
    repos: Repos, municipality: Municipality, project_id: int
) -> tuple[Project, list[MonitoringAct]]:
    project = await repos.budget.project(municipality.id, project_id)
    if project is None:
        raise Refused("unknown_project")
    return project, await repos.acts.for_project(project.id)
