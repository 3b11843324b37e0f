"""The staff console's broadcast composer over HTTP, against the fake Telegram and Twilio:
compose, preview (recipients by channel, the text per channel, SMS segments, the estimated
cost), confirm, watch the progress until nothing waits, cancel what has not gone; bad input
gets a polite 400 in the staff member's language and changes nothing; on SQLite and
PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from babel.numbers import format_decimal

from bot.core.rendering.templates import Renderer
from bot.core.services import hearings
from bot.core.services.demo_hearings import TZ
from bot.webui.texts import texts
from tests.conftest import FakeClock, table_snapshot
from tests.console_site import SMS_STAFF, Site, console_site
from tests.test_console import Client, client

KY = texts("ky")
CHANGED = ("broadcasts", "outbox", "audit_log")
#: 74 characters, Cyrillic: UCS-2, over the 70 of one segment, so two segments of 67
TEXT = "Урматтуу тургундар! Бюджеттик угуу 4-декабрда саат 10:00дө айылдык клубда."


@pytest.fixture
async def site(db_url: str, clock: FakeClock, renderer: Renderer) -> AsyncIterator[Site]:
    async with console_site(db_url, clock, renderer, sms_price_per_segment="1.5") as running:
        yield running


def _figure(c: Client, name: str) -> int:
    found = re.search(rf'id="{name}">([\d\s\u00a0\u202f,]+)<', c.page)
    assert found, (name, c.page)
    return int(re.sub(r"\D", "", found[1]))


async def _village(site: Site) -> tuple[str, int, int]:
    """The smallest village, its opted-in residents (who a broadcast there reaches) and
    how many of them Telegram reaches."""
    counted = await site.repos.db.fetchall(
        "SELECT v.name, COUNT(*), SUM(CASE WHEN r.telegram_user_id IS NOT NULL"
        " AND r.telegram_blocked = FALSE THEN 1 ELSE 0 END)"
        " FROM residents r JOIN villages v ON v.id = r.village_id"
        " WHERE r.municipality_id = ? AND r.opted_out = FALSE GROUP BY v.name ORDER BY 2",
        (site.municipality.id,),
    )
    return str(counted[0][0]), int(counted[0][1]), int(counted[0][2])


async def test_compose_preview_confirm_and_watch_it_finish(site: Site) -> None:
    village, residents, telegram = await _village(site)
    async with client(site) as c:
        await c.sign_in()
        assert await c.get("/staff/") == 200 and 'href="/staff/broadcast"' in c.page
        assert await c.get("/staff/broadcast") == 200 and c.says(KY["broadcast_audience"])
        before = await table_snapshot(site.repos, *CHANGED)
        form = {"audience": f"village:{village}", "body": TEXT}
        assert await c.post("/staff/broadcast/preview", form) == 200
        assert await table_snapshot(site.repos, *CHANGED) == before  # a preview sends nothing
        sms = residents - telegram
        assert c.says(KY["broadcast_recipients"].format(
            total=format_decimal(residents, locale="ky"), telegram=telegram,
            sms=format_decimal(sms, locale="ky")))  # fmt: skip
        assert c.says(KY["broadcast_segments"].format(segments=2, encoding="UCS-2", units=74))
        cost = format_decimal(sms * 2 * 1.5, format="#,##0", locale="ky")
        assert c.says(KY["broadcast_cost"].format(cost=f"{cost} сом")), c.page
        assert c.says(TEXT)

        assert await c.post("/staff/broadcast", form) == 400  # not confirmed
        assert c.says(KY["broadcast_confirm_needed"])
        assert await table_snapshot(site.repos, *CHANGED) == before
        await c.post("/staff/broadcast/preview", form)
        assert await c.post("/staff/broadcast", form | {"confirm": "yes"}) == 200
        assert c.says(KY["broadcast_queued"].format(recipients=residents))
        broadcast_id = int(await site.count("SELECT MAX(id) FROM broadcasts"))
        assert _figure(c, "b-recipients") == residents and _figure(c, "b-queued") == residents
        audit = await site.repos.db.fetchall(
            "SELECT via, detail FROM audit_log WHERE action = 'broadcast' AND object_id = ?",
            (broadcast_id,),
        )
        assert [tuple(row) for row in audit] == [("web", f"{residents} recipient(s), village "
                                                         f"{village}")]  # fmt: skip

        await site.deliver()
        assert await c.get(f"/staff/broadcast/{broadcast_id}") == 200
        assert _figure(c, "b-queued") == 0 and c.says(KY["broadcast_done"])
        assert _figure(c, "b-sent") + _figure(c, "b-delivered") == residents
    bodies = [m["body"] for m in site.twilio.messages.values()]
    assert bodies.count(TEXT) == sms


async def test_cancel_stops_what_has_not_gone(site: Site) -> None:
    village, residents, _ = await _village(site)
    async with client(site) as c:
        await c.sign_in()
        await c.get("/staff/broadcast")
        form = {"audience": f"village:{village}", "body": "Жыйын жылдырылды", "confirm": "yes"}
        assert await c.post("/staff/broadcast", form) == 200
        broadcast_id = int(await site.count("SELECT MAX(id) FROM broadcasts"))
        assert await c.post(f"/staff/broadcast/{broadcast_id}/cancel", {}) == 200
        assert c.says(KY["broadcast_cancelled"].format(stopped=residents))
        await site.deliver()
        assert await c.get(f"/staff/broadcast/{broadcast_id}") == 200
        assert _figure(c, "b-failed") == residents and _figure(c, "b-sent") == 0
    assert all(m["body"] != "Жыйын жылдырылды" for m in site.twilio.messages.values())


@pytest.mark.parametrize("language", ["ky", "ru", "en"])
async def test_a_broadcast_that_cannot_go_is_explained(site: Site, language: str) -> None:
    staff = await site.repos.residents.by_phone(site.municipality.id, SMS_STAFF)
    assert staff is not None
    await site.repos.residents.set_language(staff.id, language, now="2026-11-25T00:00:00Z")
    said = texts(language)
    async with client(site) as c:
        await c.sign_in()
        await c.get("/staff/broadcast")
        before = await table_snapshot(site.repos, *CHANGED)
        for form, reason in (
            ({"body": "  \r\n "}, "broadcast_text_needed"),
            ({"body": "x" * 1601}, "broadcast_too_long"),
            ({"body": "Салам", "audience": "village:Атлантида"}, "broadcast_unknown_audience"),
            ({"body": "Салам", "audience": "invited:999999"}, "broadcast_unknown_audience"),
            ({"body": "Салам", "audience": "unanswered:<b>"}, "broadcast_unknown_audience"),
            ({"body": "Салам", "audience": "everyone"}, "broadcast_unknown_audience"),
        ):
            for path in ("/staff/broadcast/preview", "/staff/broadcast"):
                assert await c.post(path, form | {"confirm": "yes"}) == 400, (path, form)
                assert c.says(said[reason]), (path, form)
        assert await table_snapshot(site.repos, *CHANGED) == before
        for path in ("/staff/broadcast/999999", "/staff/broadcast/999999/cancel"):
            status = await (c.get(path) if "cancel" not in path else c.post(path, {}))
            assert status == 404 and c.says(said["not_found"])


async def test_those_invited_to_a_hearing_or_who_have_not_answered(site: Site) -> None:
    village, residents, _ = await _village(site)
    now = site.clock.now()
    hearing = await hearings.create_hearing(
        site.repos, site.municipality, kind="formation", starts_at=now + timedelta(days=2),
        place="Клуб", now=now, village=village,
    )  # fmt: skip
    assert await hearings.publish(site.repos, Renderer(), hearing, now=now) == residents
    answered = await site.repos.db.fetchall(
        "SELECT r.id FROM residents r JOIN villages v ON v.id = r.village_id"
        " WHERE v.name = ? AND r.opted_out = FALSE ORDER BY r.id LIMIT 2",
        (village,),
    )
    for (resident_id,) in answered:
        resident = await site.repos.residents.by_id(resident_id)
        assert resident is not None
        await hearings.answer(site.repos, site.municipality, resident, hearing.id, "no", now=now)
    async with client(site) as c:
        await c.sign_in()
        assert await c.get("/staff/broadcast") == 200
        assert c.says(KY["broadcast_unanswered"].split(":")[0])
        for audience, reached in (("invited", residents), ("unanswered", residents - 2)):
            form = {"audience": f"{audience}:{hearing.id}", "body": "Эртең келиңиз"}
            assert await c.post("/staff/broadcast/preview", form) == 200
            assert c.says(format_decimal(reached, locale="ky") + " "), audience
        assert await c.post("/staff/broadcast", form | {"confirm": "yes"}) == 200
    broadcast_id = int(await site.count("SELECT MAX(id) FROM broadcasts"))
    told = await site.repos.db.fetchall(
        "SELECT DISTINCT resident_id FROM outbox WHERE broadcast_id = ?", (broadcast_id,)
    )
    assert len(told) == residents - 2
    assert not {row[0] for row in told} & {row[0] for row in answered}


async def test_a_broadcast_for_later_waits_until_its_time(site: Site) -> None:
    village, residents, _ = await _village(site)
    tomorrow = (site.clock.now().astimezone(TZ) + timedelta(days=1)).date().isoformat()
    form = {"audience": f"village:{village}", "body": "Эртең жыйын", "date": tomorrow,
            "time": "09:00"}  # fmt: skip
    async with client(site) as c:
        await c.sign_in()
        await c.get("/staff/broadcast")
        for day, time, reason in (
            ("2020-01-01", "09:00", "broadcast_in_past"),
            ("31.12.2026", "9", "broadcast_bad_time"),
            ("", "09:00", "broadcast_bad_time"),
        ):
            changes = {"date": day, "time": time}
            assert await c.post("/staff/broadcast/preview", form | changes) == 400, changes
            assert c.says(KY[reason]), changes
        assert await c.post("/staff/broadcast/preview", form) == 200
        assert c.says(KY["broadcast_due"].split("{")[0]) and f'value="{tomorrow}"' in c.page
        assert await c.post("/staff/broadcast", form | {"confirm": "yes"}) == 200
        broadcast_id = int(await site.count("SELECT MAX(id) FROM broadcasts"))
        due = datetime.fromisoformat(f"{tomorrow}T09:00").replace(tzinfo=TZ)
        waiting = await site.repos.db.fetchall(
            "SELECT next_attempt_at FROM outbox WHERE broadcast_id = ?", (broadcast_id,)
        )
        assert len(waiting) == residents
        assert {datetime.fromisoformat(row[0]) for row in waiting} == {due}
        await site.deliver()  # not yet
        assert await c.get(f"/staff/broadcast/{broadcast_id}") == 200
        assert _figure(c, "b-queued") == residents
        site.clock.advance(seconds=(due - site.clock.now()).total_seconds() + 60)
        await site.deliver()
        await c.sign_in()  # the session ended meanwhile
        assert await c.get(f"/staff/broadcast/{broadcast_id}") == 200
        assert _figure(c, "b-queued") == 0


async def test_each_language_gets_its_own_text(site: Site) -> None:
    village, residents, _ = await _village(site)
    form = {"audience": f"village:{village}", "body": "Жыйын эртең саат 10до",
            "body_ru": "Сход завтра в 10 часов", "confirm": "yes"}  # fmt: skip
    async with client(site) as c:
        await c.sign_in()
        await c.get("/staff/broadcast")
        assert await c.post("/staff/broadcast/preview", form) == 200
        assert c.says(KY["broadcast_in_ru"]) and c.says("Сход завтра в 10 часов")
        assert c.says(KY["broadcast_in_en"]) and c.says("Жыйын эртең саат 10до")
        assert await c.post("/staff/broadcast", form) == 200
    broadcast_id = int(await site.count("SELECT MAX(id) FROM broadcasts"))
    rows = await site.repos.db.fetchall(
        "SELECT r.language, o.body FROM outbox o JOIN residents r ON r.id = o.resident_id"
        " WHERE o.broadcast_id = ?",
        (broadcast_id,),
    )
    assert len(rows) == residents
    by_language = {(language, body) for language, body in rows}
    assert ("ru", "Сход завтра в 10 часов") in by_language
    assert ("ky", "Жыйын эртең саат 10до") in by_language
    assert {body for language, body in rows if language == "ru"} == {"Сход завтра в 10 часов"}
    assert {body for language, body in rows if language != "ru"} == {"Жыйын эртең саат 10до"}
