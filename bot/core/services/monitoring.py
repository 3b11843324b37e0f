"""Monitoring acts on projects: only members of the monitoring group file them; once
filed, an act is never changed (there is no edit path), and anyone may read them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.core.clock import iso
from bot.core.services.errors import ServiceError
from storage.models import MonitoringAct, Municipality, Project, Resident
from storage.repos import Repos

KINDS = ("tender", "purchase", "handover", "use")
MAX_ACT = 1000


class ActRefused(ServiceError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


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
    if "monitor" not in await repos.roles.of(author.id):
        raise ActRefused("not_monitor")
    project = await repos.budget.project(municipality.id, project_id)
    if project is None:
        raise ActRefused("unknown_project")
    if kind not in KINDS:
        raise ActRefused("unknown_kind")
    text = " ".join(body.split())
    if not text and not photos:
        raise ActRefused("empty")
    if len(text) > MAX_ACT:
        raise ActRefused("too_long")
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


async def acts_for(
    repos: Repos, municipality: Municipality, project_id: int
) -> tuple[Project, list[MonitoringAct]]:
    project = await repos.budget.project(municipality.id, project_id)
    if project is None:
        raise ActRefused("unknown_project")
    return project, await repos.acts.for_project(project.id)
