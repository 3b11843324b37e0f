"""Every kind of meeting the seed counts, not only budget hearings: the demo holds the seed's
other events with its totals; a PRA session invites its age group only, in words that name
the meeting; the console creates any kind (refusals polite in three languages, nothing
changed); the migration keeps existing rows hearings. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.core.rendering.templates import Renderer
from bot.core.services import demo_data, hearings, participation
from bot.core.services.demo_hearings import TZ, ensure_seed_meetings
from bot.core.services.voting import age_group
from bot.webui.texts import texts
from storage.db import connect
from storage.migrate import available, migrate
from storage.models import Municipality
from storage.repos import Repos
from tests.conftest import FakeClock, table_snapshot
from tests.console_site import SMS_STAFF, Site, console_site
from tests.samples import HEARING, STARTS
from tests.test_console import client

CHANGED = ("hearings", "invitations", "outbox", "audit_log")


async def test_the_demo_holds_the_seeds_other_meetings(
    repos: Repos, demo: Municipality, clock: FakeClock
) -> None:
    """8 PRA sessions, 4 assemblies, 7 trainings, 3 working meetings besides the five
    hearings: every year together, the seed's 1,284 participants, 388 women, 79 deputies;
    at a PRA session only its age group; loading the demo again adds none."""
    report = await participation.year_report(repos, demo, "all", tz=TZ, now=clock.now())
    assert report.by_meeting == {"hearing": 5, "pra": 8, "assembly": 4, "training": 7,
                                 "working": 3}  # fmt: skip
    assert (report.participants, report.women, report.deputies) == (1284, 388, 79)
    assert report.years == [2015, 2014, 2013, 2012]
    pra = [e for e in report.events if e.hearing.meeting == "pra"]
    assert Counter(e.hearing.age_group for e in pra) == {"18-35": 3, "36-55": 3, "55+": 2}
    for event in pra:
        assert set(event.by_age_group) == {event.hearing.age_group}, event.hearing
    assert not await ensure_seed_meetings(repos, demo, demo_data.DEPUTY_PHONES, now=clock.now())
    await demo_data.ensure_demo(repos, now=clock.now())
    assert len(await repos.hearings.all(demo.id)) == 27


async def test_a_pra_session_invites_its_age_group_naming_the_meeting(
    repos: Repos, demo: Municipality, renderer: Renderer, clock: FakeClock
) -> None:
    starts = clock.now() + timedelta(days=5)
    session = await hearings.create_hearing(
        repos, demo, kind="", starts_at=starts, place="Club", now=clock.now(), meeting="pra",
        age_group="18-35",
    )  # fmt: skip
    assert (session.meeting, session.age_group, session.kind) == ("pra", "18-35", "formation")
    queued = await hearings.publish(repos, renderer, session, now=clock.now())
    invited = await repos.db.fetchall(
        "SELECT r.birth_year, r.language FROM invitations i"
        " JOIN residents r ON r.id = i.resident_id WHERE i.hearing_id = ?",
        (session.id,),
    )
    young = await repos.db.fetchval(
        "SELECT COUNT(*) FROM residents WHERE municipality_id = ? AND opted_out = FALSE"
        " AND birth_year BETWEEN ? AND ?",
        (demo.id, starts.year - 35, starts.year - 18),
    )
    assert 0 < len(invited) == young == queued
    assert {age_group(born, starts.year) for born, _ in invited} == {"18-35"}
    body = await repos.db.fetchval(
        "SELECT o.body FROM outbox o JOIN residents r ON r.id = o.resident_id"
        " WHERE o.dedupe_key LIKE ? AND r.language = 'ky' AND o.channel = 'sms' LIMIT 1",
        (f"hearing:{session.id}:invite:%",),
    )
    assert body.startswith(f"ПРА сессиясы №{session.id} (18-35 жаштагылар үчүн): ")
    assert body.endswith(f"У{session.id} ИЙЕ / ЖОК / БАЛКИМ")


OPENERS = {
    "ky": {"pra": "ПРА сессиясы №7 (55+ жаштагылар үчүн): ", "focus": "Жамаат лидерлеринин "
           "фокус-тобу №7: ", "assembly": "Айылдык жыйын №7: ", "training": "Тренинг №7: ",
           "working": "Жумушчу жолугушуу №7: ", "hearing": "Коомдук угуу №7 (бюджеттин "
           "долбоору): "},
    "ru": {"pra": "СИНС / PRA-сессия №7 (для возраста 55+ лет): ", "focus": "Фокус-группа "
           "лидеров сообщества №7: ", "assembly": "Сельский сход №7: ", "training": "Тренинг "
           "№7: ", "working": "Рабочая встреча №7: ", "hearing": "Публичные слушания №7 "
           "(проект бюджета): "},
    "en": {"pra": "PRA session 7 for ages 55+: ", "focus": "Focus group of community "
           "leaders 7: ", "assembly": "Village assembly 7: ", "training": "Training 7: ",
           "working": "Working meeting 7: ", "hearing": "Public hearing 7 on the draft "
           "budget: "},
}  # fmt: skip


@pytest.mark.parametrize("language", ["ky", "ru", "en"])
@pytest.mark.parametrize("channel", ["sms", "telegram"])
def test_the_invitation_names_the_kind_of_meeting(
    renderer: Renderer, language: str, channel: str
) -> None:
    for meeting, opener in OPENERS[language].items():
        group = "55+" if meeting == "pra" else None
        shown = replace(HEARING, kind="formation", meeting=meeting, age_group=group)
        text = renderer.render("hearing_invite", language, channel, hearing=shown, starts=STARTS)
        assert text.startswith(opener.replace("7", str(HEARING.id))), (meeting, text)


@pytest.fixture
async def site(db_url: str, clock: FakeClock, renderer: Renderer) -> AsyncIterator[Site]:
    async with console_site(db_url, clock, renderer) as running:
        yield running


def _form(site: Site, **changes: str) -> dict[str, str]:
    day = (site.clock.now() + timedelta(days=3)).date()
    form = {"meeting": "pra", "age_group": "36-55", "date": day.isoformat(), "time": "10:00",
            "place": "Айылдык клуб", "village": "", "agenda": ""}  # fmt: skip
    return form | changes


async def test_the_console_creates_a_pra_session_for_one_age_group(site: Site) -> None:
    ky = texts("ky")
    async with client(site) as c:
        await c.sign_in()
        assert await c.get("/staff/hearings/new") == 200
        assert c.says(ky["hearing_meeting"]) and c.says(ky["meeting_assembly"])
        assert await c.post("/staff/hearings/new", _form(site)) == 200
        assert c.says(ky["hearing_created"]) and c.says(f"{ky['meeting_pra']} 36-55")
        newest = max(await site.repos.hearings.all(site.municipality.id), key=lambda h: h.id)
        assert (newest.meeting, newest.age_group) == ("pra", "36-55")
        assert await c.post("/staff/hearings/new", _form(site, meeting="working",
                                                          age_group="")) == 200  # fmt: skip
        assert await c.get("/staff/hearings") == 200 and c.says(ky["meeting_working"])


@pytest.mark.parametrize("language", ["ky", "ru", "en"])
async def test_a_meeting_the_console_cannot_create_is_explained(site: Site, language: str) -> None:
    staff = await site.repos.residents.by_phone(site.municipality.id, SMS_STAFF)
    assert staff is not None
    await site.repos.residents.set_language(staff.id, language, now="2026-11-25T00:00:00Z")
    said = texts(language)
    async with client(site) as c:
        await c.sign_in()
        before = await table_snapshot(site.repos, *CHANGED)
        for changes, reason in (
            ({"meeting": "training"}, "hearing_age_group_pra_only"),
            ({"age_group": "12-17"}, "hearing_age_group_pra_only"),
            ({"meeting": "party", "age_group": ""}, "hearing_meeting_needed"),
            ({"meeting": "hearing", "age_group": ""}, "hearing_kind_needed"),
        ):
            assert await c.post("/staff/hearings/new", _form(site, **changes)) == 400, changes
            assert c.says(said[reason]), changes
        assert await table_snapshot(site.repos, *CHANGED) == before


async def test_existing_hearings_stay_hearings_and_a_meeting_is_one_of_the_kinds(
    db_url: str,
) -> None:
    version = next(m.version for m in available() if m.name == "meeting_kinds")
    async with connect(db_url) as db:
        await migrate(db, target=version - 1)
        await db.execute(
            "INSERT INTO municipalities (slug, name, created_at) VALUES ('m', 'M', '')"
        )
        await db.execute(
            "INSERT INTO hearings (municipality_id, kind, starts_at, place, created_at)"
            " VALUES (1, 'execution', '2015-02-20T04:00:00Z', 'Club', '')"
        )
        await migrate(db)
        rows = await db.fetchall("SELECT meeting, age_group FROM hearings")
        assert [tuple(row) for row in rows] == [("hearing", None)]
        for meeting, group in (("party", None), ("training", "0-17")):
            with pytest.raises(Exception, match=r"(?i)check"):
                async with db.transaction():
                    await db.execute(
                        "INSERT INTO hearings (municipality_id, kind, starts_at, place,"
                        " created_at, meeting, age_group) VALUES (1, 'formation', '', '', '',"
                        " ?, ?)",
                        (meeting, group),
                    )
