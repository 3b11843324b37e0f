"""The console's problems page: what waits for moderation and what is approved. Approving,
rejecting and merging are :mod:`bot.core.services.problems`' own, as from the CLI."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.services import problems
from storage.models import Municipality, Problem
from storage.repos import Repos


@dataclass(frozen=True)
class Moderation:
    pending: list[Problem]
    #: approved problems with their support (proposers), most supported first
    approved: list[tuple[Problem, int]]


async def moderation(repos: Repos, municipality: Municipality) -> Moderation:
    return Moderation(
        pending=await repos.problems.by_status(municipality.id, "pending"),
        approved=await problems.approved(repos, municipality),
    )
