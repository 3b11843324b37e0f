"""The audit trail: every staff action is recorded by the service that performs it, in
the same transaction, so a failed action leaves no row and every front end (command
line, Telegram, the web console) records alike.

A row names who (a staff member's resident id, or ``cli``: the command line's operator
when no staff identity was given), when (UTC), the municipality, the action, the object
and a short detail. Never a resident's phone, name or ballot choice: residents by id only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.clock import iso
from storage.models import AuditEntry, Municipality, Resident
from storage.repos import Repos


@dataclass(frozen=True)
class Actor:
    """Who performs a staff action: a staff member (resident id) or the CLI operator."""

    resident_id: int | None = None
    via: str = "cli"

    @classmethod
    def of(cls, resident: Resident, via: str) -> Actor:
        return cls(resident.id, via)


#: the operator of the command line, when no ``--by PHONE`` names a staff member
CLI = Actor()
#: what an action taken on the staff console is recorded as coming through
WEB = "web"


def who(entry: AuditEntry) -> str:
    return "cli" if entry.actor_id is None else f"resident {entry.actor_id} ({entry.via})"


async def record(
    repos: Repos,
    municipality_id: int,
    actor: Actor,
    action: str,
    *,
    now: datetime,
    object_kind: str = "",
    object_id: int | None = None,
    detail: str = "",
) -> None:
    """Append one row; call it inside the action's own transaction."""
    await repos.audit.append(
        municipality_id=municipality_id,
        at=iso(now),
        actor_id=actor.resident_id,
        via=actor.via,
        action=action,
        object_kind=object_kind,
        object_id=object_id,
        detail=detail,
    )


async def entries(
    repos: Repos, *, municipality: Municipality | None = None, since: datetime | None = None
) -> list[AuditEntry]:
    return await repos.audit.entries(
        municipality_id=municipality.id if municipality else None,
        since=iso(since) if since else None,
    )
