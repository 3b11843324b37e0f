"""The staff console's hearings pages over HTTP, as tests/test_console.py drives the console:
create, edit, publish (invitations through the outbox, as ``civic-bot hearing publish``),
the invitations with their answers by village, the outcome, cancel; bad input gets a polite
400 in the staff member's language and changes nothing; on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.core.rendering.templates import Renderer
from bot.core.services import demo_data, hearing_desk, hearings
from bot.core.services.audit import CLI
from bot.core.services.errors import Refused
from bot.webui.texts import texts
from tests.conftest import FakeClock, table_snapshot
from tests.console_site import SMS_STAFF, Site, console_site
from tests.test_console import Client, client

KY = texts("ky")
CHANGED = ("hearings", "invitations", "rsvps", "outbox", "audit_log")


@pytest.fixture
async def site(db_url: str, clock: FakeClock, renderer: Renderer) -> AsyncIterator[Site]:
    async with console_site(db_url, clock, renderer) as running:
        yield running


def _figure(c: Client, name: str) -> int:
    found = re.search(rf'id="{name}">([\d\s\u00a0\u202f,]+)<', c.page)
    assert found, (name, c.page)
    return int(re.sub(r"\D", "", found[1]))


async def _staff_id(site: Site) -> int:
    member = await site.repos.residents.by_phone(site.municipality.id, SMS_STAFF)
    assert member is not None
    return member.id


def _form(site: Site, **changes: str) -> dict[str, str]:
    """The create form for a hearing in three days at 10:00, Bishkek time."""
    day = (site.clock.now() + timedelta(days=3)).date()
    form = {"kind": "formation", "date": day.isoformat(), "time": "10:00",
            "place": "Айыл өкмөтүнүн залы", "village": "", "agenda": "Бюджет 2027"}  # fmt: skip
    return form | changes


async def _latest_hearing_id(site: Site) -> int:
    return await site.count("SELECT MAX(id) FROM hearings WHERE municipality_id = ?",
                            site.municipality.id)  # fmt: skip


async def test_create_edit_publish_and_watch_the_answers_come_in(site: Site) -> None:
    async with client(site) as c:
        await c.sign_in()
        assert await c.get("/staff/hearings") == 200 and c.says(KY["hearing_new"])
        assert await c.get("/staff/hearings/new") == 200
        assert await c.post("/staff/hearings/new", _form(site)) == 200
        assert c.says(KY["hearing_created"]) and c.says(KY["status_draft"])
        hearing_id = await _latest_hearing_id(site)
        hearing = await hearings.get_hearing(site.repos, site.municipality, hearing_id)
        assert hearing.status == "draft" and hearing.place == "Айыл өкмөтүнүн залы"
        assert hearing.starts_at.startswith(_form(site)["date"] + "T04:00")  # 10:00 in Bishkek
        assert c.says(KY["hearing_not_published"])

        here = f"/staff/hearings/{hearing_id}"
        assert await c.get(here + "/edit") == 200 and 'value="10:00"' in c.page
        edited = _form(site, place="Маданият үйү", time="11:30", agenda=" Бюджет\r\n Жолдор ")
        assert await c.post(here + "/edit", edited) == 200
        assert c.says(KY["hearing_saved"].format(told=0)) and c.says("Маданият үйү")
        hearing = await hearings.get_hearing(site.repos, site.municipality, hearing_id)
        assert str(hearing.agenda) == "Бюджет\nЖолдор"  # a textarea keeps its lines

        assert await c.post(here + "/publish", {}) == 200
        queued = await site.count("SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE ?",
                                  f"hearing:{hearing_id}:invite:%")  # fmt: skip
        invited = await site.count("SELECT COUNT(*) FROM invitations WHERE hearing_id = ?",
                                   hearing_id)  # fmt: skip
        assert queued > 100 and invited > 100
        assert c.says(KY["hearing_published_now"].format(count=queued))
        assert c.says(KY["status_published"])
        assert _figure(c, "invited") == invited and _figure(c, "unanswered") == invited

        # answers come in; the page shows them by village on the next look
        people = [r for r in (await site.repos.residents.by_phones(site.municipality.id)).values()
                  if r.phone not in demo_data.ROLE_HOLDERS][:3]  # fmt: skip
        for person, reply in zip(people, ("yes", "yes", "no"), strict=True):
            await hearings.answer(site.repos, site.municipality, person, hearing_id, reply,
                                  now=site.clock.now())  # fmt: skip
        assert await c.get(here) == 200
        assert (_figure(c, "yes"), _figure(c, "no"), _figure(c, "maybe")) == (2, 1, 0)
        assert _figure(c, "unanswered") == invited - 3
        table = c.page.split('id="invited-by-village"')[1].split("</table>")[0]
        for village in {p.village_id for p in people}:
            name = next(v.name for v in await site.repos.municipalities.villages(
                site.municipality.id) if v.id == village)  # fmt: skip
            assert name in table

        # publishing again sends nothing twice
        assert await c.post(here + "/publish", {}) == 200
        assert c.says(KY["hearing_published_now"].format(count=0))
        assert await site.count("SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE ?",
                                f"hearing:{hearing_id}:invite:%") == queued  # fmt: skip

        # a new place is told to everyone invited
        moved = _form(site, place="Мектеп", time="11:30")
        assert await c.post(here + "/edit", moved) == 200
        assert c.says(KY["hearing_saved"].format(told=invited))

    audit = await site.repos.db.fetchall(
        "SELECT actor_id, via, action FROM audit_log WHERE object_id = ? ORDER BY id", (hearing_id,)
    )
    staff_id = await _staff_id(site)
    assert [tuple(row) for row in audit] == [
        (staff_id, "web", "hearing created"), (staff_id, "web", "hearing changed"),
        (staff_id, "web", "hearing published"), (staff_id, "web", "hearing published"),
        (staff_id, "web", "hearing changed"),
    ]  # fmt: skip


async def test_the_list_shows_every_hearing_with_its_status(site: Site) -> None:
    kept = await site.hearing_today()
    dropped = await site.hearing_today()
    await hearings.cancel(site.repos, Renderer(), dropped, now=site.clock.now())
    async with client(site) as c:
        await c.sign_in()
        assert await c.get("/staff/") == 200
        assert f'href="/staff/hearings/{kept.id}"' in c.page  # Today links to the hearing
        assert await c.get("/staff/hearings") == 200
        assert c.says(KY["hearing"].format(id=kept.id)) and c.says(KY["status_published"])
        assert c.says(KY["hearing"].format(id=dropped.id)) and c.says(KY["status_cancelled"])


async def test_cancel_needs_the_confirmation_then_tells_everyone_invited(site: Site) -> None:
    async with client(site) as c:
        await c.sign_in()
        await c.get("/staff/hearings/new")
        await c.post("/staff/hearings/new", _form(site))
        hearing_id = await _latest_hearing_id(site)
        here = f"/staff/hearings/{hearing_id}"
        await c.post(here + "/publish", {})
        invited = _figure(c, "invited")
        before = await table_snapshot(site.repos, *CHANGED)
        assert await c.post(here + "/cancel", {}) == 400
        assert c.says(KY["hearing_confirm_needed"])
        assert before == await table_snapshot(site.repos, *CHANGED)
        assert await c.post(here + "/cancel", {"confirm": "1"}) == 200
        assert c.says(KY["hearing_cancelled_now"].format(told=invited))
        assert c.says(KY["status_cancelled"])
        told = await site.count("SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE ?",
                                f"hearing:{hearing_id}:cancelled:%")  # fmt: skip
        assert told == invited
        # a cancelled hearing is neither published nor changed again
        before = await table_snapshot(site.repos, *CHANGED)
        assert await c.post(here + "/publish", {}) == 400 and c.says(KY["hearing_is_cancelled"])
        assert await c.post(here + "/edit", _form(site)) == 400
        assert c.says(KY["hearing_is_cancelled"])
        assert before == await table_snapshot(site.repos, *CHANGED)


async def test_the_outcome_goes_after_the_hearing_to_the_invited_and_who_came(
    site: Site, clock: FakeClock
) -> None:
    async with client(site) as c:
        await c.sign_in()
        await c.get("/staff/hearings/new")
        await c.post("/staff/hearings/new", _form(site))
        hearing_id = await _latest_hearing_id(site)
        here = f"/staff/hearings/{hearing_id}"
        await c.post(here + "/publish", {})
        invited = _figure(c, "invited")
        assert c.says(KY["hearing_outcome_later"])
        before = await table_snapshot(site.repos, *CHANGED)
        assert await c.post(here + "/outcome", {"outcome": "Жол оңдолот"}) == 400
        assert c.says(KY["hearing_not_held_yet"])
        assert before == await table_snapshot(site.repos, *CHANGED)

        clock.advance(days=4)
        await c.sign_in()
        before = await table_snapshot(site.repos, *CHANGED)
        assert await c.get(here) == 200 and not c.says(KY["hearing_publish"])
        assert await c.post(here + "/outcome", {"outcome": "  "}) == 400
        assert c.says(KY["hearing_outcome_needed"])
        assert await c.post(here + "/publish", {}) == 400 and c.says(KY["hearing_is_past"])
        assert before == await table_snapshot(site.repos, *CHANGED)
        assert await c.post(here + "/outcome", {"outcome": "Жол оңдолот"}) == 200
        assert c.says(KY["hearing_outcome_sent"].format(told=invited))
        assert c.says("Жол оңдолот")


@pytest.mark.parametrize(
    ("language", "changes", "code"),
    [
        ("ky", {"kind": ""}, "kind_needed"),
        ("ru", {"kind": "party"}, "kind_needed"),
        ("en", {"date": ""}, "bad_time"),
        ("ky", {"date": "04.12.2026"}, "bad_time"),
        ("ru", {"time": "25:00"}, "bad_time"),
        ("en", {"time": "10:00+05:00"}, "bad_time"),
        ("ky", {"date": "2026-11-20"}, "in_past"),
        ("ru", {"place": "   "}, "place_needed"),
        ("en", {"place": "я" * 201}, "too_long"),
        ("ky", {"agenda": "я" * 2001}, "too_long"),
        ("ru", {"village": "Atlantis"}, "unknown_village"),
    ],
)
async def test_a_bad_hearing_form_gets_a_polite_answer_in_the_staff_language(
    site: Site, language: str, changes: dict[str, str], code: str
) -> None:
    await site.repos.residents.set_language(await _staff_id(site), language,
                                            now="2026-11-25T00:00:00Z")  # fmt: skip
    hearing = await site.hearing_today()
    async with client(site) as c:
        await c.sign_in()
        before = await table_snapshot(site.repos, *CHANGED)
        await c.get("/staff/hearings/new")
        assert await c.post("/staff/hearings/new", _form(site, **changes)) == 400
        assert c.says(texts(language)["hearing_" + code])
        assert f'lang="{language}"' in c.page
        if "kind" not in changes and "village" not in changes:  # the edit form too
            await c.get(f"/staff/hearings/{hearing.id}/edit")
            edit = f"/staff/hearings/{hearing.id}/edit"
            assert await c.post(edit, _form(site, **changes)) == 400
            assert c.says(texts(language)["hearing_" + code])
        assert before == await table_snapshot(site.repos, *CHANGED)


async def test_no_input_on_the_hearings_pages_yields_a_server_error(site: Site) -> None:
    hearing = await site.hearing_today()
    nasty = ["", "0", "-1", "99999999999999999999", "' OR 1=1 --", "%", "\x00", "я" * 5000,
             "<script>", "1e9", "2026-13-40", "9999-12-31", "0001-01-01", "24:00"]  # fmt: skip
    here = f"/staff/hearings/{hearing.id}"
    async with client(site) as c:
        await c.sign_in()
        fields = {"/staff/hearings/new": ("kind", "date", "time", "place", "village", "agenda"),
                  here + "/edit": ("date", "time", "place", "agenda"),
                  here + "/outcome": ("outcome",), here + "/cancel": ("confirm",)}  # fmt: skip
        for value in nasty:
            for path, names in fields.items():
                for name in names:
                    await c.get(here)
                    status = await c.post(path, {**_form(site), name: value})
                    assert status < 500, (path, name, value)
                    assert "<script>" not in c.page
        for path in ("/staff/hearings/999999999", "/staff/hearings/x", "/staff/hearings/1/nope",
                     "/staff/hearings/999999999/edit"):  # fmt: skip
            assert await c.get(path) in (404, 405), path
            assert c.says(KY["not_found"])


async def test_a_hearing_cancelled_since_the_page_was_read_is_refused_as_the_page_says(
    site: Site, renderer: Renderer
) -> None:
    """The page read the hearing as a draft; someone (the command line) cancelled it since:
    publishing is refused with the code the hearings page explains, and nobody is invited."""
    async with client(site) as c:
        await c.sign_in()
        await c.get("/staff/hearings/new")
        await c.post("/staff/hearings/new", _form(site))
    read = await hearings.get_hearing(site.repos, site.municipality, await _latest_hearing_id(site))
    await hearings.cancel(site.repos, renderer, read, now=site.clock.now())
    before = await table_snapshot(site.repos, *CHANGED)
    with pytest.raises(Refused) as refused:
        await hearing_desk.publish(site.repos, renderer, read, now=site.clock.now(), actor=CLI)
    assert refused.value.code == "is_cancelled" and "hearing_is_cancelled" in KY
    assert before == await table_snapshot(site.repos, *CHANGED)
