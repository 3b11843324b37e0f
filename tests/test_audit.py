"""The audit trail of staff actions: every action recorded by its service with who, when,
what, in the action's own transaction, append-only on SQLite and PostgreSQL, and never
a phone, a name or a ballot's choice."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.rendering.templates import Renderer
from bot.core.services import (
    audit,
    broadcast,
    budget_summary,
    demo_budget,
    demo_data,
    hearings,
    poll_io,
    problems,
    projects,
    ratings,
    roles,
)
from bot.core.services.audit import CLI, Actor
from bot.core.services.ballot_text import parse_ballot_text
from bot.core.services.budget_import import STATUSES, import_budget
from bot.core.services.errors import ServiceError
from bot.core.services.poll_jobs import publish_results
from bot.core.services.polls import OptionSpec, create_poll
from bot.core.services.register_import import import_households, import_residents
from handlers.text import handle_text
from storage.models import Municipality, Resident
from storage.repos import Repos
from tests.conftest import FakeClock

HOUSEHOLDS = b"code,village\nX-1,Ak-Chiy\n"
RESIDENTS = "phone,name,gender,birth_year,household\n0555 123 456,Айгүл Асанова,f,1980,X-1\n"


async def resident(repos: Repos, demo: Municipality, phone: str) -> Resident:
    found = await repos.residents.by_phone(demo.id, phone)
    assert found is not None
    return found


async def trail(repos: Repos, after: int = 0) -> list[tuple]:
    rows = await repos.db.fetchall(
        "SELECT id, actor_id, via, action, object_kind, object_id, detail FROM audit_log"
        " WHERE id > ? ORDER BY id",
        (after,),
    )
    return [tuple(row) for row in rows]


async def last_id(repos: Repos) -> int:
    return int(await repos.db.fetchval("SELECT COALESCE(MAX(id), 0) FROM audit_log"))


async def test_every_staff_action_is_recorded_without_personal_data(
    repos: Repos, renderer: Renderer, demo: Municipality, clock: FakeClock
) -> None:
    member = await resident(repos, demo, demo_data.STAFF_PHONES[1])
    voter = await resident(repos, demo, demo_data.RESIDENT_PHONE)
    by = Actor.of(member, "cli")
    now = clock.now()
    start = await last_id(repos)

    hearing = await hearings.create_hearing(
        repos, demo, kind="formation", starts_at=now + timedelta(days=9), place="Club", now=now,
        actor=by,
    )  # fmt: skip
    await hearings.publish(repos, renderer, hearing, now=now, actor=by)
    _, told = await hearings.update(repos, renderer, hearing, now=now, place="School", actor=by)
    await hearings.cancel(repos, renderer, hearing, now=now, actor=by)
    first = await problems.propose(repos, voter, "Street lights in Ak-Chiy", now=now)
    second = await problems.propose(repos, voter, "Lights for Ak-Chiy streets", now=now)
    third = await problems.propose(repos, voter, "Something unrelated", now=now)
    await problems.approve(repos, demo, first.id, now=now, actor=by)
    await problems.merge(repos, demo, second.id, first.id, now=now, actor=by)
    await problems.reject(repos, demo, renderer, third.id, "not municipal", now=now, actor=by)
    poll = await create_poll(
        repos, demo, title="Lights", ballot_type="choose1",
        options=[OptionSpec("A"), OptionSpec("", problem_id=first.id)],
        opens_at=now, closes_at=now + timedelta(days=7), now=now, actor=by,
    )  # fmt: skip
    ballot = parse_ballot_text(f"#{poll.id} 2")
    await poll_io.enter_paper_ballot(repos, demo, poll, voter, ballot, now=now, actor=by)
    await publish_results(repos, renderer, poll, now=now + timedelta(days=8), actor=by)
    await publish_results(repos, renderer, poll, now=now + timedelta(days=8))  # the scheduler
    await roles.grant(repos, demo, demo_data.RESIDENT_PHONE, "monitor", now=now, actor=by)
    await roles.revoke(repos, demo, demo_data.RESIDENT_PHONE, "monitor", now=now, actor=by)
    await broadcast.create_broadcast(repos, demo, body="Water off", now=now, author=member)
    await import_households(repos, demo, HOUSEHOLDS, now=now, actor=by)
    await import_residents(repos, demo, RESIDENTS.encode(), now=now, actor=by)
    await import_budget(repos, demo, demo_budget.BUDGET_CSV.encode(), now=now, actor=by)
    await budget_summary.push_to_households(repos, renderer, demo, now=now, actor=by)
    project = (await repos.budget.projects(demo.id))[0]
    status = next(s for s in STATUSES if s != project.status)
    await projects.update_status(repos, renderer, demo, project.code, status, now=now, actor=by)
    await ratings.open_round(repos, demo, "2026", ["Water", "Roads"], now=now, actor=by)

    rows = await trail(repos, start)
    assert [row[3] for row in rows] == [
        "hearing created", "hearing published", "hearing changed", "hearing cancelled",
        "problem approved", "problem merged", "problem rejected", "poll created",
        "paper ballots entered", "poll results published", "role granted", "role revoked",
        "broadcast", "households imported", "residents imported", "budget imported",
        "budget pushed", "project status", "rating round opened",
    ]  # fmt: skip
    assert {(row[1], row[2]) for row in rows} == {(member.id, "cli")}
    assert rows[2][4:] == ("hearing", hearing.id, f"place changed; {told} resident(s) told")
    assert rows[5][4:] == ("problem", second.id, f"into problem {first.id}")
    # a paper ballot: the poll and a count, never the voter beside it, never the choice
    assert rows[8][4:] == ("poll", poll.id, "1 ballot(s)")
    assert rows[10][4:] == ("resident", voter.id, "monitor")
    text = repr(rows)
    for person in (await repos.residents.by_phones(demo.id)).values():
        assert person.phone not in text and person.name not in text
        assert person.phone[-9:] not in text


async def test_the_trail_refuses_update_and_delete(
    repos: Repos, demo: Municipality, clock: FakeClock
) -> None:
    async with repos.db.transaction():
        await audit.record(repos, demo.id, CLI, "probe", now=clock.now(), detail="kept")
    before = await trail(repos)
    for statement in (
        "UPDATE audit_log SET detail = 'rewritten'",
        "DELETE FROM audit_log",
    ):
        with pytest.raises(Exception, match="append-only"):
            await repos.db.execute(statement)
    assert await trail(repos) == before
    assert before[-1][3:] == ("probe", "", None, "kept")


async def test_a_failed_action_leaves_no_audit_row(
    repos: Repos, renderer: Renderer, demo: Municipality, clock: FakeClock
) -> None:
    hearing = await hearings.create_hearing(
        repos, demo, kind="formation", starts_at=clock.now() + timedelta(days=9), place="Club",
        now=clock.now(),
    )  # fmt: skip
    start = await last_id(repos)
    with pytest.raises(RuntimeError):
        async with repos.db.transaction():  # the cancellation fails after the service ran
            await hearings.cancel(repos, renderer, hearing, now=clock.now())
            raise RuntimeError("the disk is full")
    assert await trail(repos, start) == []
    fresh = await repos.hearings.get(demo.id, hearing.id)
    assert fresh is not None and fresh.status == "draft"
    with pytest.raises(ServiceError):
        await roles.grant(repos, demo, "+996700999999", "staff", now=clock.now())
    assert await trail(repos, start) == []


async def test_a_broadcast_by_text_names_the_staff_member_and_channel(
    repos: Repos, renderer: Renderer, demo: Municipality, clock: FakeClock
) -> None:
    admin = await resident(repos, demo, demo_data.ADMIN_PHONE)
    start = await last_id(repos)
    await handle_text(
        repos, renderer, municipality=demo, phone=demo_data.ADMIN_PHONE,
        text="BROADCAST Water is off on Monday", channel="sms", now=clock.now(),
    )  # fmt: skip
    handled = await handle_text(
        repos, renderer, municipality=demo, phone=demo_data.ADMIN_PHONE,
        text="YES", channel="sms", now=clock.now(),
    )  # fmt: skip
    assert handled.broadcast_id is not None
    [row] = await trail(repos, start)
    assert row[1:6] == (admin.id, "sms", "broadcast", "broadcast", handled.broadcast_id)
    # a resident who is not staff: refused, nothing recorded
    await handle_text(
        repos, renderer, municipality=demo, phone=demo_data.RESIDENT_PHONE,
        text="BROADCAST hello", channel="sms", now=clock.now(),
    )  # fmt: skip
    assert len(await trail(repos, start)) == 1
