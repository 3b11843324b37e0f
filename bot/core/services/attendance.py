"""Attendance at a public hearing: the municipality's own record (participants, women,
deputies), so nobody may rewrite it.

A check-in counts inside the window only (the hearing's day, from a few hours before the
start to a few hours after: :class:`CheckInWindow`). Afterwards the attendance changes only by
a correction: a staff member, a reason, and a row in the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.clock import iso
from bot.core.phones import InvalidPhone, normalize_phone
from bot.core.services import audit
from bot.core.services.audit import Actor
from bot.core.services.errors import ServiceError
from storage.models import Hearing, Municipality, Resident
from storage.repos import Repos


@dataclass(frozen=True)
class CheckInWindow:
    """When the door is open: from ``before`` the start to ``after`` it, and only on the
    hearing's own day in the municipality's time zone (CHECKIN_OPENS_BEFORE_HOURS,
    CHECKIN_CLOSES_AFTER_HOURS)."""

    tz: ZoneInfo
    before: timedelta
    after: timedelta

    def bounds(self, hearing: Hearing) -> tuple[datetime, datetime]:
        starts = datetime.fromisoformat(hearing.starts_at).astimezone(self.tz)
        day = datetime.combine(starts.date(), time(0), tzinfo=self.tz)
        next_day = datetime.combine(starts.date() + timedelta(days=1), time(0), tzinfo=self.tz)
        return max(starts - self.before, day), min(starts + self.after, next_day)


@dataclass(frozen=True)
class Correction:
    """A change to the attendance after the window: by a staff member, for a reason."""

    actor: Actor
    reason: str


def admit(
    hearing: Hearing, window: CheckInWindow, *, now: datetime, correction: Correction | None
) -> bool:
    """May the attendance of ``hearing`` change now? True: as a correction (to be
    audited). A ServiceError with one clear line when not."""
    if hearing.status == "cancelled":
        raise ServiceError(f"hearing {hearing.id} is cancelled")
    opens, closes = window.bounds(hearing)
    shown = "%Y-%m-%d %H:%M"
    if now < opens:
        raise ServiceError(
            f"check-in for hearing {hearing.id} opens at {opens.strftime(shown)}: not yet"
        )
    if now <= closes:
        return False
    if correction is None or correction.actor.resident_id is None or not correction.reason.strip():
        raise ServiceError(
            f"check-in for hearing {hearing.id} closed at {closes.strftime(shown)}: a later"
            " correction needs a staff member (--by PHONE) and a reason (--reason)"
        )
    return True


@dataclass(frozen=True)
class CheckIn:
    name: str | None
    first_time: bool


async def _person(
    repos: Repos, municipality: Municipality, hearing: Hearing, phone: str | None, code: str | None
) -> Resident | None:
    """The registered resident a phone number or RSVP code names (None: neither given)."""
    if phone:
        try:
            resident = await repos.residents.by_phone(municipality.id, normalize_phone(phone))
        except InvalidPhone as exc:
            raise ServiceError(str(exc)) from None
        if resident is None:
            raise ServiceError(f"{phone} is not in the register: check in as a walk-in")
        return resident
    if code:
        rsvp = await repos.hearings.by_code(hearing.id, code.strip())
        if rsvp is None:
            raise ServiceError(f"no answer with code {code!r} for hearing {hearing.id}")
        return await repos.residents.by_id(rsvp.resident_id)
    return None


async def check_in(
    repos: Repos,
    municipality: Municipality,
    hearing: Hearing,
    *,
    now: datetime,
    window: CheckInWindow,
    phone: str | None = None,
    code: str | None = None,
    walk_in_gender: str | None = None,
    walk_in_role: str = "resident",
    walk_in_village_id: int | None = None,
    correction: Correction | None = None,
) -> CheckIn:
    """Check in by phone, by RSVP code, or a walk-in outside the register (gender, role,
    village if known), inside the window; afterwards only as an audited correction."""
    corrected = admit(hearing, window, now=now, correction=correction)
    resident = await _person(repos, municipality, hearing, phone, code)
    async with repos.db.transaction():
        result = await count_person(
            repos, hearing, resident, now=now, walk_in_gender=walk_in_gender,
            walk_in_role=walk_in_role, walk_in_village_id=walk_in_village_id,
        )  # fmt: skip
        if corrected and result.first_time:
            assert correction is not None
            who = _who(resident, walk_in_gender, walk_in_role)
            detail = f"{who}; reason: {correction.reason.strip()}"
            await _audit(repos, hearing, correction.actor, "attendance added", now, detail)
    return result


def _who(resident: Resident | None, gender: str | None, role: str) -> str:
    """An attendee as the audit names them: residents by id only."""
    return f"resident {resident.id}" if resident else f"walk-in {gender} {role}"


async def count_person(
    repos: Repos,
    hearing: Hearing,
    resident: Resident | None,
    *,
    now: datetime,
    walk_in_gender: str | None = None,
    walk_in_role: str = "resident",
    walk_in_village_id: int | None = None,
    walk_in_key: str | None = None,
) -> CheckIn:
    """Record one person at the door (no window check: see :func:`admit`). A walk-in with
    a ``walk_in_key`` already recorded is not counted again."""
    if resident is None:
        if walk_in_gender not in ("f", "m"):
            raise ServiceError("a walk-in needs a gender (f or m)")
        first = await repos.hearings.check_in(
            hearing.id,
            resident_id=None,
            gender=walk_in_gender,
            role=walk_in_role,
            village_id=walk_in_village_id,
            birth_year=None,
            now=iso(now),
            walk_in_key=walk_in_key,
        )
        return CheckIn(None, first)
    roles = await repos.roles.of(resident.id)
    role = "deputy" if "deputy" in roles else "staff" if roles & {"staff", "admin"} else "resident"
    first = await repos.hearings.check_in(
        hearing.id,
        resident_id=resident.id,
        gender=resident.gender,
        role=role,
        village_id=resident.village_id,
        birth_year=resident.birth_year,
        now=iso(now),
    )
    return CheckIn(resident.name, first)


async def remove_attendee(
    repos: Repos,
    municipality: Municipality,
    hearing: Hearing,
    *,
    now: datetime,
    window: CheckInWindow,
    correction: Correction,
    phone: str | None = None,
    code: str | None = None,
    walk_in_gender: str | None = None,
    walk_in_role: str = "resident",
) -> None:
    """Take one person off the attendance (a mistaken check-in): always a correction by a
    staff member with a reason, audited; never before the window opens."""
    if correction.actor.resident_id is None or not correction.reason.strip():
        raise ServiceError(
            "removing an attendee needs a staff member (--by PHONE) and a reason (--reason)"
        )
    admit(hearing, window, now=now, correction=correction)
    resident = await _person(repos, municipality, hearing, phone, code)
    if resident is None and walk_in_gender not in ("f", "m"):
        raise ServiceError("a walk-in needs a gender (f or m)")
    async with repos.db.transaction():
        removed = await repos.hearings.remove_attendee(
            hearing.id,
            resident_id=resident.id if resident else None,
            gender=walk_in_gender,
            role=walk_in_role,
        )
        who = _who(resident, walk_in_gender, walk_in_role)
        if not removed:
            raise ServiceError(f"{'that resident' if resident else who} is not checked in")
        detail = f"{who}; reason: {correction.reason.strip()}"
        await _audit(repos, hearing, correction.actor, "attendance removed", now, detail)


async def _audit(
    repos: Repos, hearing: Hearing, actor: Actor, action: str, now: datetime, detail: str
) -> None:
    await audit.record(
        repos, hearing.municipality_id, actor, action, now=now, object_kind="hearing",
        object_id=hearing.id, detail=detail,
    )  # fmt: skip
