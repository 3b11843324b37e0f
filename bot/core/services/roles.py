"""Granting, revoking and listing roles (staff, admin, deputy, monitor)."""

from __future__ import annotations

from datetime import datetime

from bot.core.clock import iso
from bot.core.phones import InvalidPhone, mask_phone, normalize_phone
from bot.core.services import audit
from bot.core.services.audit import CLI, Actor
from bot.core.services.errors import ServiceError
from storage.models import ROLES, Municipality, Resident, RoleHolder
from storage.repos import Repos

STAFF_ROLES = {"staff", "admin"}


class NotStaff(ServiceError):
    """Only staff may do this."""


async def held(repos: Repos, resident: Resident) -> set[str]:
    """The roles the resident holds (what HELP lists commands for)."""
    return await repos.roles.of(resident.id)


async def is_staff(repos: Repos, resident: Resident) -> bool:
    return bool(await held(repos, resident) & STAFF_ROLES)


async def require_staff(repos: Repos, resident: Resident) -> None:
    """Checked on every staff call, not only when a menu is shown."""
    if not await is_staff(repos, resident):
        raise NotStaff("only municipal staff may do this")


async def staff_actor(repos: Repos, municipality: Municipality, phone: str) -> Actor:
    """The staff member a phone number names (``--by PHONE``); a ServiceError otherwise."""
    resident = await _resident(repos, municipality, phone)
    try:
        await require_staff(repos, resident)
    except NotStaff:
        who = mask_phone(resident.phone)
        raise NotStaff(f"{who} is not staff of {municipality.slug}") from None
    return Actor(resident.id, "cli")


async def _resident(repos: Repos, municipality: Municipality, phone: str) -> Resident:
    try:
        e164 = normalize_phone(phone)
    except InvalidPhone as exc:
        raise ServiceError(str(exc)) from None
    resident = await repos.residents.by_phone(municipality.id, e164)
    if resident is None:
        raise ServiceError(f"{e164} is not in the register of {municipality.slug}")
    return resident


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ServiceError(f"role must be one of {', '.join(ROLES)}, not {role!r}")


async def grant(
    repos: Repos,
    municipality: Municipality,
    phone: str,
    role: str,
    *,
    now: datetime,
    actor: Actor = CLI,
) -> bool:
    _check_role(role)
    resident = await _resident(repos, municipality, phone)
    async with repos.db.transaction():
        granted = await repos.roles.grant(
            municipality_id=municipality.id, resident_id=resident.id, role=role, now=iso(now)
        )
        if granted:
            await _audit(repos, municipality, actor, "role granted", resident, role, now)
    return granted


async def revoke(
    repos: Repos,
    municipality: Municipality,
    phone: str,
    role: str,
    *,
    now: datetime,
    actor: Actor = CLI,
) -> bool:
    _check_role(role)
    resident = await _resident(repos, municipality, phone)
    async with repos.db.transaction():
        revoked = await repos.roles.revoke(resident_id=resident.id, role=role)
        if revoked:
            await _audit(repos, municipality, actor, "role revoked", resident, role, now)
    return revoked


async def _audit(
    repos: Repos,
    municipality: Municipality,
    actor: Actor,
    action: str,
    resident: Resident,
    role: str,
    now: datetime,
) -> None:
    await audit.record(
        repos, municipality.id, actor, action, now=now, object_kind="resident",
        object_id=resident.id, detail=role,
    )  # fmt: skip


async def holders(
    repos: Repos, municipality: Municipality, role: str | None = None
) -> list[RoleHolder]:
    if role is not None:
        _check_role(role)
    return await repos.roles.holders(municipality.id, role)
