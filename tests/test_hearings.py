"""Public budget hearings: publish, RSVP by text, changes, reminders, check-in, report."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.core.languages import LANGUAGES
from bot.core.rendering.sms import sms_size
from bot.core.rendering.templates import Renderer
from bot.core.services import attendance, demo_data, hearings
from bot.core.services.errors import ServiceError
from bot.core.services.hearing_jobs import HearingJobs
from bot.runtime.scheduling import Scheduler
from handlers.text import handle_text
from storage.models import Hearing, Municipality
from storage.repos import Repos
from tests.conftest import WINDOW, FakeClock, table_snapshot

RESIDENT = demo_data.RESIDENT_PHONE  # lives in Ak-Chiy
HEARING_TABLES = ("hearings", "invitations", "rsvps", "attendance", "outbox")


@pytest.fixture
def say(repos: Repos, renderer: Renderer, demo: Municipality, clock: FakeClock):
    async def say(text: str, phone: str = RESIDENT) -> str:
        handled = await handle_text(
            repos,
            renderer,
            municipality=demo,
            phone=phone,
            text=text,
            channel="sms",
            now=clock.now(),
        )
        return handled.text

    return say


async def new_hearing(
    repos: Repos, demo: Municipality, clock: FakeClock, *, days: float = 10, **extra
) -> Hearing:
    return await hearings.create_hearing(
        repos,
        demo,
        kind="formation",
        starts_at=clock.now() + timedelta(days=days),
        place="Club, Ak-Chiy",
        now=clock.now(),
        **extra,
    )


async def count(repos: Repos, pattern: str) -> int:
    return int(
        await repos.db.fetchval("SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE ?", (pattern,))
    )


async def test_publishing_invites_the_audience_once(
    repos: Repos, renderer: Renderer, demo: Municipality, clock: FakeClock
) -> None:
    hearing = await new_hearing(repos, demo, clock, village="Kachybek")
    queued = await hearings.publish(repos, renderer, hearing, now=clock.now())
    kachybek = await repos.db.fetchval(
        "SELECT COUNT(*) FROM residents r JOIN villages v ON v.id = r.village_id"
        " WHERE v.name = 'Kachybek'"
    )
    assert queued == kachybek
    assert await hearings.publish(repos, renderer, hearing, now=clock.now()) == 0
    body = await repos.db.fetchval(
        "SELECT body FROM outbox WHERE dedupe_key LIKE ? LIMIT 1",
        (f"hearing:{hearing.id}:invite:%",),
    )
    assert f"У{hearing.id} ИЙЕ" in body or f"С{hearing.id} ДА" in body


async def test_rsvp_by_sms_with_and_without_a_number(
    say, repos: Repos, renderer: Renderer, demo: Municipality, clock: FakeClock
) -> None:
    first = await new_hearing(repos, demo, clock)
    second = await new_hearing(repos, demo, clock, days=20)
    await hearings.publish(repos, renderer, first, now=clock.now())
    clock.advance(minutes=5)
    await hearings.publish(repos, renderer, second, now=clock.now())
    # two open invitations: a bare answer is asked which hearing, and nothing is recorded
    assert await say("ИЙЕ") == (
        f"Сиз бир нече угууга чакырылгансыз: {first.id}, {second.id}."
        f" Номерин жазыңыз: У{first.id} ИЙЕ."
    )
    await say("LANG RU")
    assert await say("нет") == (
        f"Вы приглашены на несколько слушаний: {first.id}, {second.id}."
        f" Укажите номер: С{first.id} НЕТ."
    )
    await say("LANG EN")
    assert await say("MAYBE") == (
        f"You are invited to several hearings: {first.id}, {second.id}."
        f" Add the number: H{first.id} MAYBE."
    )
    assert await repos.db.fetchval("SELECT COUNT(*) FROM rsvps") == 0
    reply = await say(f"H{second.id} YES")
    assert reply.startswith(f"Answer: coming. Hearing {second.id}: ")
    code = reply.rsplit(" ", 1)[1]
    assert len(code) == 5 and code.isdigit()
    assert sms_size(reply).segments <= 2
    again = await say(f"H{second.id} NO")
    assert again.startswith(f"Answer: not coming. Hearing {second.id}:")
    assert again.endswith(code)  # the same personal code
    assert (await say(f"С{first.id} возможно")).startswith(f"Answer: maybe. Hearing {first.id}:")
    rows = await repos.db.fetchall("SELECT hearing_id, answer FROM rsvps ORDER BY hearing_id")
    assert [tuple(r) for r in rows] == [(first.id, "maybe"), (second.id, "no")]
    assert "Club, Ak-Chiy" in await say("HEARINGS")


@pytest.mark.parametrize(
    ("setup", "text", "expected"),
    [
        ("none", "YES", "You have no open invitation. List: HEARINGS."),
        ("published", "H99 YES", "There is no hearing 99. List: HEARINGS."),
        ("cancelled", "H{id} YES", "Hearing {id} is cancelled."),
        ("past", "H{id} YES", "Hearing {id} is over."),
        ("other_village", "H{id} YES", "Hearing {id} is for another village."),
        ("published", "H{id} PERHAPS", "Reply H12 YES, H12 NO or H12 MAYBE."),
    ],
)
async def test_bad_answers_are_explained_and_change_nothing(
    say,
    repos: Repos,
    renderer: Renderer,
    demo: Municipality,
    clock: FakeClock,
    setup: str,
    text: str,
    expected: str,
) -> None:
    number = 0
    if setup != "none":
        village = "Kachybek" if setup == "other_village" else None
        hearing = await new_hearing(repos, demo, clock, village=village)
        await hearings.publish(repos, renderer, hearing, now=clock.now())
        number = hearing.id
        if setup == "cancelled":
            await hearings.cancel(repos, renderer, hearing, now=clock.now())
        if setup == "past":
            clock.advance(days=11)
    await say("LANG EN")
    before = await table_snapshot(repos, *HEARING_TABLES)
    assert await say(text.format(id=number)) == expected.format(id=number)
    assert await table_snapshot(repos, *HEARING_TABLES) == before


async def test_moving_and_cancelling_tell_everyone_invited(
    say, repos: Repos, renderer: Renderer, demo: Municipality, clock: FakeClock
) -> None:
    hearing = await new_hearing(repos, demo, clock, village="Sovetskoye")
    invited = await hearings.publish(repos, renderer, hearing, now=clock.now())
    moved, told = await hearings.update(
        repos, renderer, hearing, now=clock.now(), place="School hall"
    )
    assert (moved.revision, told) == (2, invited)
    _, told_again = await hearings.update(repos, renderer, moved, now=clock.now(), agenda="x")
    assert told_again == 0  # agenda only: nobody is disturbed
    assert await hearings.cancel(repos, renderer, moved, now=clock.now()) == invited
    with pytest.raises(ServiceError, match="already cancelled"):
        await hearings.cancel(repos, renderer, moved, now=clock.now())


async def test_a_hearing_in_the_past_is_refused(
    repos: Repos, demo: Municipality, clock: FakeClock
) -> None:
    with pytest.raises(ServiceError, match="in the past"):
        await new_hearing(repos, demo, clock, days=-1)


async def test_reminders_follow_the_answers_and_survive_restarts(
    say, repos: Repos, renderer: Renderer, demo: Municipality, clock: FakeClock
) -> None:
    hearing = await new_hearing(repos, demo, clock, village="Kachybek")
    invited = await hearings.publish(repos, renderer, hearing, now=clock.now())
    kachybek = await repos.db.fetchall(
        "SELECT phone FROM residents WHERE village_id = ? ORDER BY id LIMIT 3",
        (hearing.village_id,),
    )
    await say("YES", phone=kachybek[0][0])
    await say("NO", phone=kachybek[1][0])
    await say("БАЛКИМ", phone=kachybek[2][0])
    jobs = Scheduler([HearingJobs(repos, renderer, renderer.tz)], clock)
    assert await jobs.sync() == {}
    starts = datetime.fromisoformat(hearing.starts_at)
    clock.current = starts - timedelta(days=3)
    ran = await jobs.run_due()
    assert ran == {f"hearing:{hearing.id}:r1:remind-early": invited - 1}  # all but the "no"
    assert await Scheduler([HearingJobs(repos, renderer, renderer.tz)], clock).run_due() == {
        f"hearing:{hearing.id}:r1:remind-early": 0
    }
    clock.current = starts - timedelta(hours=1)  # 09:00 local: the morning has come
    ran = await jobs.run_due()
    assert ran == {f"hearing:{hearing.id}:r1:remind-today": 2}  # yes and maybe
    clock.current = starts + timedelta(hours=1)
    assert await Scheduler([HearingJobs(repos, renderer, renderer.tz)], clock).sync() == {}


async def test_a_moved_hearing_moves_its_reminders_and_stale_ones_are_skipped(
    repos: Repos, renderer: Renderer, demo: Municipality, clock: FakeClock
) -> None:
    hearing = await new_hearing(repos, demo, clock, village="Kachybek")
    await hearings.publish(repos, renderer, hearing, now=clock.now())
    later = datetime.fromisoformat(hearing.starts_at) + timedelta(days=7)
    await hearings.update(repos, renderer, hearing, now=clock.now(), starts_at=later)
    source = HearingJobs(repos, renderer, renderer.tz)
    keys = {job.key: job.at for job in await source.jobs(clock.now())}
    assert keys[f"hearing:{hearing.id}:r2:remind-early"] == later - timedelta(days=3)
    assert not any(":r1:" in key for key in keys)
    # down until after the early reminder's time but before the hearing: sent late, once
    clock.current = later - timedelta(days=1)
    ran = await Scheduler([source], clock).sync()
    assert list(ran) == [f"hearing:{hearing.id}:r2:remind-early"]


async def test_check_in_counts_each_person_once_and_reports(
    say, repos: Repos, renderer: Renderer, demo: Municipality, clock: FakeClock
) -> None:
    hearing = await new_hearing(repos, demo, clock)
    await hearings.publish(repos, renderer, hearing, now=clock.now())
    code = (await say("YES")).rsplit(" ", 1)[1]
    clock.advance(days=10)
    first = await attendance.check_in(
        repos, demo, hearing, now=clock.now(), window=WINDOW, code=code
    )
    assert first.first_time and first.name
    again = await attendance.check_in(
        repos, demo, hearing, now=clock.now(), window=WINDOW, phone="0700 000 001"
    )
    assert not again.first_time
    deputy = demo_data.DEPUTY_PHONES[0]  # a woman
    await attendance.check_in(repos, demo, hearing, now=clock.now(), window=WINDOW, phone=deputy)
    await attendance.check_in(
        repos,
        demo,
        hearing,
        now=clock.now(),
        window=WINDOW,
        walk_in_gender="f",
        walk_in_role="guest",
    )
    for bad in ({"phone": "+996700999999"}, {"code": "99999"}, {"walk_in_gender": "x"}):
        with pytest.raises(ServiceError):
            await attendance.check_in(repos, demo, hearing, now=clock.now(), window=WINDOW, **bad)
    report = await hearings.report(repos, hearing)
    assert (report.participants, report.women, report.deputies) == (3, 2, 1)
    assert report.by_village["Ak-Chiy"] == 2
    told = await hearings.publish_outcome(
        repos, renderer, hearing, "Budget approved", now=clock.now()
    )
    assert told >= 2
    outcome = await repos.db.fetchval(
        "SELECT body FROM outbox o JOIN residents r ON r.id = o.resident_id"
        " WHERE o.dedupe_key LIKE ? AND r.phone = ?",
        (f"hearing:{hearing.id}:outcome:%", deputy),
    )
    assert outcome.endswith("Budget approved")


async def test_the_demo_holds_the_seed_hearings(repos: Repos, demo: Municipality) -> None:
    rows = []
    for hearing in await repos.hearings.all(demo.id):
        if hearing.meeting != "hearing":
            continue  # the seed's other meetings: tests/test_meetings.py
        report = await hearings.report(repos, hearing)
        rows.append((hearing.starts_at[:10], hearing.kind, report.participants, report.women,
                     report.deputies))  # fmt: skip
    assert sorted(rows) == sorted([
        ("2013-01-26", "execution", 111, 65, 7), ("2014-03-01", "execution", 103, 21, 5),
        ("2015-02-20", "execution", 200, 84, 11), ("2013-06-28", "formation", 122, 56, 4),
        ("2014-06-13", "formation", 113, 28, None),
    ])  # fmt: skip


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_rsvp_refusal_fits_two_segments(renderer: Renderer, language: str) -> None:
    codes = ("no_invitation", "unknown_hearing", "cancelled", "past", "not_invited", "usage")
    for code in codes:
        text = renderer.render("rsvp_refused", language, "sms", code=code, number=123456)
        assert text and sms_size(text).segments <= 2, (code, text)
    for answer in ("yes", "no", "maybe"):
        text = renderer.render(
            "rsvp_refused", language, "sms", code="which_hearing",
            numbers=[123456, 123457, 123458], answer=answer,
        )  # fmt: skip
        assert text and sms_size(text).segments <= 2, (answer, text)
