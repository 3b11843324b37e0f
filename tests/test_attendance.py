"""Hearing attendance nobody can rewrite: check-in only on the hearing's day inside the
window, later corrections by staff with a reason (audited), imports that count nobody
twice. On SQLite and PostgreSQL, with the demo's seed hearings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.services import attendance, demo_data, hearings
from bot.core.services.attendance import Correction
from bot.core.services.attendance_import import import_attendance
from bot.core.services.audit import CLI, Actor
from bot.core.services.errors import ServiceError
from storage.models import Hearing, Municipality, Resident
from storage.repos import Repos
from tests.conftest import WINDOW, FakeClock, table_snapshot

TZ = WINDOW.tz


async def seed_hearing(repos: Repos, demo: Municipality, day: str) -> Hearing:
    found = [h for h in await repos.hearings.all(demo.id) if h.starts_at.startswith(day)]
    assert len(found) == 1
    return found[0]


async def counts(repos: Repos, hearing: Hearing) -> tuple[int, int]:
    report = await hearings.report(repos, hearing)
    return report.participants, report.women


async def staff(repos: Repos, demo: Municipality) -> Resident:
    resident = await repos.residents.by_phone(demo.id, demo_data.STAFF_PHONES[1])
    assert resident is not None
    return resident


async def absent(repos: Repos, demo: Municipality, hearing: Hearing, n: int) -> list[Resident]:
    """``n`` registered residents who were not at ``hearing``."""
    present = {
        row[0]
        for row in await repos.db.fetchall(
            "SELECT resident_id FROM attendance WHERE hearing_id = ?", (hearing.id,)
        )
    }
    residents = sorted((await repos.residents.by_phones(demo.id)).values(), key=lambda r: r.id)
    return [r for r in residents if r.id not in present][:n]


async def audit_rows(repos: Repos) -> list[tuple]:
    """The audit trail of attendance (the demo's own set-up is recorded too)."""
    rows = await repos.db.fetchall(
        "SELECT actor_id, via, action, object_kind, object_id, detail FROM audit_log"
        " WHERE action LIKE 'attendance %' ORDER BY id"
    )
    return [tuple(row) for row in rows]


async def test_a_check_in_for_a_hearing_of_2013_is_refused_and_changes_nothing(
    repos: Repos, demo: Municipality, clock: FakeClock
) -> None:
    hearing = await seed_hearing(repos, demo, "2013-01-26")
    assert await counts(repos, hearing) == (111, 65)
    before = await table_snapshot(repos, "attendance", "audit_log")
    for who in ({"phone": demo_data.RESIDENT_PHONE}, {"walk_in_gender": "f"}):
        with pytest.raises(ServiceError, match=f"check-in for hearing {hearing.id} closed at"):
            await attendance.check_in(repos, demo, hearing, now=clock.now(), window=WINDOW, **who)
    assert await counts(repos, hearing) == (111, 65)
    assert await table_snapshot(repos, "attendance", "audit_log") == before


async def test_a_check_in_13_days_early_is_refused_even_as_a_correction(
    repos: Repos, demo: Municipality, clock: FakeClock
) -> None:
    hearing = await hearings.create_hearing(
        repos, demo, kind="formation", starts_at=clock.now() + timedelta(days=13),
        place="Club", now=clock.now(),
    )  # fmt: skip
    correction = Correction(Actor.of(await staff(repos, demo), "cli"), "early bird")
    for extra in ({}, {"correction": correction}):
        with pytest.raises(ServiceError, match="opens at"):
            await attendance.check_in(
                repos, demo, hearing, now=clock.now(), window=WINDOW, walk_in_gender="m", **extra
            )
    assert await counts(repos, hearing) == (0, 0)


async def test_the_window_opens_before_the_start_and_ends_with_the_day(
    repos: Repos, demo: Municipality, clock: FakeClock
) -> None:
    starts = datetime(2026, 12, 4, 10, 0, tzinfo=TZ)
    late = datetime(2026, 12, 4, 22, 0, tzinfo=TZ)  # + 6 hours would be past midnight
    morning, evening = [
        await hearings.create_hearing(
            repos, demo, kind="formation", starts_at=at, place="Club", now=clock.now()
        )
        for at in (starts, late)
    ]

    async def walk_in(hearing: Hearing, at: datetime) -> bool:
        try:
            await attendance.check_in(
                repos, demo, hearing, now=at.astimezone(UTC), window=WINDOW, walk_in_gender="f"
            )
        except ServiceError:
            return False
        return True

    minute = timedelta(minutes=1)
    assert not await walk_in(morning, starts - timedelta(hours=2) - minute)
    assert await walk_in(morning, starts - timedelta(hours=2))
    assert await walk_in(morning, starts + timedelta(hours=6))
    assert not await walk_in(morning, starts + timedelta(hours=6) + minute)
    assert await walk_in(evening, late + timedelta(hours=1, minutes=59))
    assert not await walk_in(evening, late + timedelta(hours=2, minutes=1))  # the next day
    assert await counts(repos, morning) == (2, 2)
    assert await counts(repos, evening) == (1, 1)


async def test_a_later_correction_needs_staff_and_a_reason_and_is_audited(
    repos: Repos, demo: Municipality, clock: FakeClock
) -> None:
    hearing = await seed_hearing(repos, demo, "2013-01-26")
    member = await staff(repos, demo)
    resident = (await absent(repos, demo, hearing, 1))[0]
    for bad in (
        Correction(CLI, "paper sheet entered next day"),  # nobody named
        Correction(Actor.of(member, "cli"), "  "),  # no reason
    ):
        with pytest.raises(ServiceError, match="needs a staff member"):
            await attendance.check_in(
                repos, demo, hearing, now=clock.now(), window=WINDOW, phone=resident.phone,
                correction=bad,
            )  # fmt: skip
    assert await counts(repos, hearing) == (111, 65)
    assert await audit_rows(repos) == []

    fix = Correction(Actor.of(member, "cli"), "paper sheet entered next day")
    added = await attendance.check_in(
        repos, demo, hearing, now=clock.now(), window=WINDOW, phone=resident.phone, correction=fix
    )
    assert added.first_time
    women = 65 + (resident.gender == "f")
    assert await counts(repos, hearing) == (112, women)
    await attendance.remove_attendee(
        repos, demo, hearing, now=clock.now(), window=WINDOW, phone=resident.phone, correction=fix
    )
    assert await counts(repos, hearing) == (111, 65)
    with pytest.raises(ServiceError, match="not checked in"):
        await attendance.remove_attendee(
            repos, demo, hearing, now=clock.now(), window=WINDOW, phone=resident.phone,
            correction=fix,
        )  # fmt: skip
    detail = f"resident {resident.id}; reason: paper sheet entered next day"
    assert await audit_rows(repos) == [
        (member.id, "cli", "attendance added", "hearing", hearing.id, detail),
        (member.id, "cli", "attendance removed", "hearing", hearing.id, detail),
    ]
    text = repr(await audit_rows(repos))
    assert resident.phone not in text and resident.name not in text


async def test_reimporting_an_attendance_sheet_counts_nobody_twice(
    repos: Repos, demo: Municipality, clock: FakeClock
) -> None:
    hearing = await seed_hearing(repos, demo, "2013-01-26")
    fix = Correction(Actor.of(await staff(repos, demo), "cli"), "the paper sheet")
    first, second = await absent(repos, demo, hearing, 2)
    sheet = f"phone,gender,role\n{first.phone},,\n,f,\n,f,\n,m,guest\n".encode()

    async def load(data: bytes, name: str = "sheet.csv") -> tuple[int, int]:
        return await import_attendance(
            repos, demo, hearing, data, now=clock.now(), window=WINDOW, sheet=name,
            correction=fix,
        )  # fmt: skip

    women = 65 + 2 + (first.gender == "f")
    assert await load(sheet) == (4, 0)
    assert await counts(repos, hearing) == (115, women)
    assert await load(sheet) == (0, 4)
    assert await counts(repos, hearing) == (115, women)
    # the same sheet, corrected: one more resident and one more walk-in woman
    longer = sheet + f"{second.phone},,\n,f,\n".encode()
    assert await load(longer) == (2, 4)
    assert await counts(repos, hearing) == (117, women + 1 + (second.gender == "f"))
    # another sheet of the same hearing: its walk-ins are other people
    assert await load(b"phone,gender,role\n,m,\n", "door-2.csv") == (1, 0)
    assert await counts(repos, hearing) == (118, women + 1 + (second.gender == "f"))
    actions = [row[2] for row in await audit_rows(repos)]
    assert actions == ["attendance imported"] * 4


async def test_an_import_after_the_window_without_a_correction_is_refused(
    repos: Repos, demo: Municipality, clock: FakeClock
) -> None:
    hearing = await seed_hearing(repos, demo, "2014-06-13")
    before = await table_snapshot(repos, "attendance", "audit_log")
    with pytest.raises(ServiceError, match="closed at"):
        await import_attendance(
            repos, demo, hearing, b"phone,gender,role\n,f,\n", now=clock.now(), window=WINDOW,
            sheet="s.csv",
        )  # fmt: skip
    assert await table_snapshot(repos, "attendance", "audit_log") == before
