"""The staff console over HTTP (the browser tests drive the same pages in Chromium):
signing in with a code the fake provider delivered, its limits, sessions, CSRF, and the
check-in at the door; on SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest

from bot.core.rendering.templates import Renderer
from bot.core.services import demo_data
from bot.webui.texts import texts
from tests.conftest import FakeClock, table_snapshot
from tests.console_site import (
    RESIDENT,
    SMS_STAFF,
    TELEGRAM_STAFF,
    TELEGRAM_USER,
    Site,
    console_site,
)

EN, KY = texts("en"), texts("ky")


class Client:
    """A cookie-keeping HTTP client that submits the console's forms as a browser does."""

    def __init__(self, site: Site, http: aiohttp.ClientSession) -> None:
        self.site, self.http, self.page = site, http, ""

    async def get(self, path: str) -> int:
        async with self.http.get(self.site.base_url + path) as resp:
            self.page = await resp.text()
            return resp.status

    async def post(self, path: str, data: dict[str, str], *, csrf: bool = True) -> int:
        form = dict(data)
        if csrf:
            found = re.search(r'name="csrf" value="([^"]*)"', self.page)
            assert found, self.page
            form["csrf"] = found[1]
        async with self.http.post(self.site.base_url + path, data=form) as resp:
            self.page = await resp.text()
            return resp.status

    def says(self, text: str) -> bool:
        return text in html.unescape(self.page)

    async def request_code(self, phone: str) -> int:
        await self.get("/staff/sign-in")
        return await self.post("/staff/sign-in", {"phone": phone})

    async def sign_in(self, phone: str = SMS_STAFF) -> None:
        assert await self.request_code(phone) == 200
        await self.site.deliver()
        code = self.site.sms_code(phone)
        assert await self.post("/staff/sign-in/code", {"phone": phone, "code": code}) == 200
        assert 'id="h-backlog"' in self.page, self.page


@asynccontextmanager
async def client(site: Site) -> AsyncIterator[Client]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        yield Client(site, http)


@pytest.fixture
async def site(db_url: str, clock: FakeClock, renderer: Renderer) -> AsyncIterator[Site]:
    async with console_site(db_url, clock, renderer) as running:
        yield running


async def test_staff_sign_in_with_the_code_sent_by_sms_and_sign_out(site: Site) -> None:
    async with client(site) as c:
        assert await c.get("/staff/") == 200  # redirected to the sign-in page
        assert c.says(KY["sign_in_intro"])
        await c.sign_in(SMS_STAFF)
        assert c.says(KY["backlog"])
        stored = await site.repos.db.fetchall("SELECT code_hash FROM console_codes")
        code = site.sms_code(SMS_STAFF)
        assert all(code not in row[0] for row in stored)  # hashed, never in clear
        bodies = await site.repos.db.fetchall("SELECT body FROM outbox")
        assert bodies and all(code not in row[0] for row in bodies)  # the message sealed
        assert await c.post("/staff/sign-out", {}) == 200
        assert c.says(KY["signed_out"])
        assert await c.get("/staff/") == 200 and c.says(KY["sign_in_intro"])
        assert await site.count("SELECT COUNT(*) FROM console_sessions") == 0


async def test_a_staff_member_linked_to_telegram_gets_the_code_there(site: Site) -> None:
    async with client(site) as c:
        assert await c.request_code(TELEGRAM_STAFF) == 200
        await site.deliver()
        assert site.twilio.messages_to(TELEGRAM_STAFF) == []
        code = site.telegram_code(TELEGRAM_USER)
        await c.post("/staff/sign-in/code", {"phone": TELEGRAM_STAFF, "code": code})
        assert c.says(KY["today"]) and c.says(KY["door"]) is False  # no hearing yet


async def test_the_session_cookie_is_httponly_lax_and_secure_over_https(
    db_url: str, clock: FakeClock, renderer: Renderer
) -> None:
    for base, secure in (("http://127.0.0.1", False), ("https://bot.example.kg", True)):
        async with (
            console_site(db_url, clock, renderer, public_base_url=base) as s,
            aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http,
        ):
            # a Secure cookie does not come back over plain HTTP: hand it back here
            async with http.get(s.base_url + "/staff/sign-in") as resp:
                pre = resp.cookies["civic_staff_csrf"]
                csrf = re.findall(r'name="csrf" value="([^"]*)"', await resp.text())[0]
            headers = {"Cookie": f"civic_staff_csrf={pre.value}"}
            form = {"phone": SMS_STAFF, "csrf": csrf}
            async with http.post(s.base_url + "/staff/sign-in", data=form, headers=headers):
                pass
            await s.deliver()
            form["code"] = s.sms_code(SMS_STAFF)
            async with http.post(s.base_url + "/staff/sign-in/code", data=form, headers=headers,
                                 allow_redirects=False) as resp:  # fmt: skip
                assert resp.status == 303
                session = resp.cookies["civic_staff"]
            for cookie in (pre, session):
                assert cookie["httponly"] and cookie["samesite"] == "Lax"
                assert cookie["path"] == "/staff/"
                assert bool(cookie["secure"]) is secure
            await s.repos.db.execute("DELETE FROM console_codes")


async def test_a_wrong_code_then_the_right_one_a_reused_code_is_refused(site: Site) -> None:
    async with client(site) as c:
        await c.request_code(SMS_STAFF)
        await site.deliver()
        code = site.sms_code(SMS_STAFF)
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        assert await c.post("/staff/sign-in/code", {"phone": SMS_STAFF, "code": wrong}) == 400
        assert c.says(KY["wrong_code"])
        assert await c.post("/staff/sign-in/code", {"phone": SMS_STAFF, "code": code}) == 200
        assert c.says(KY["today"])
    async with client(site) as other:  # someone who saw the code
        await other.get("/staff/sign-in")
        assert await other.post("/staff/sign-in/code", {"phone": SMS_STAFF, "code": code}) == 400
        assert other.says(KY["used"])
    assert await site.count("SELECT COUNT(*) FROM console_sessions") == 1


async def test_an_expired_code_is_refused(site: Site, clock: FakeClock) -> None:
    async with client(site) as c:
        await c.request_code(SMS_STAFF)
        await site.deliver()
        clock.advance(minutes=10, seconds=1)
        code = site.sms_code(SMS_STAFF)
        assert await c.post("/staff/sign-in/code", {"phone": SMS_STAFF, "code": code}) == 400
        assert c.says(KY["expired"])
    assert await site.count("SELECT COUNT(*) FROM console_sessions") == 0


async def test_five_wrong_codes_use_up_the_code(site: Site) -> None:
    async with client(site) as c:
        await c.request_code(SMS_STAFF)
        await site.deliver()
        code = site.sms_code(SMS_STAFF)
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        for _ in range(5):
            await c.post("/staff/sign-in/code", {"phone": SMS_STAFF, "code": wrong})
        assert await c.post("/staff/sign-in/code", {"phone": SMS_STAFF, "code": code}) == 400
        assert c.says(KY["too_many_attempts"])


async def test_a_phone_that_is_not_staff_gets_the_same_answer_and_no_message(
    site: Site,
) -> None:
    async with client(site) as staff, client(site) as stranger:
        await staff.request_code(SMS_STAFF)
        assert await stranger.request_code(RESIDENT) == 200
        unknown = "+996555000999"  # not in the register at all
        await stranger.get("/staff/sign-in")
        assert await stranger.post("/staff/sign-in", {"phone": unknown}) == 200

        # the same page, word for word, but for the number in the hidden field
        def shown(page: str, phone: str) -> str:
            return re.sub(r'name="csrf" value="[^"]*"', "", page.replace(phone, "X"))

        assert shown(staff.page, SMS_STAFF) == shown(stranger.page, unknown)
        await site.deliver()
        assert site.twilio.messages_to(RESIDENT) == []
        assert site.twilio.messages_to(unknown) == []
        assert len(site.twilio.messages_to(SMS_STAFF)) == 1
        # and no code that could sign a resident in
        await stranger.post("/staff/sign-in/code", {"phone": RESIDENT, "code": "123456"})
        assert stranger.says(KY["wrong_code"])


async def test_three_codes_per_phone_an_hour_then_refused_without_a_message(
    site: Site, clock: FakeClock
) -> None:
    async with client(site) as c:
        for _ in range(3):
            assert await c.request_code(SMS_STAFF) == 200
        assert await c.request_code(SMS_STAFF) == 429
        assert c.says(KY["too_many_requests"])
        await site.deliver()
        assert len(site.twilio.messages_to(SMS_STAFF)) == 3
        clock.advance(hours=1, seconds=1)
        assert await c.request_code(SMS_STAFF) == 200


async def test_ten_requests_per_address_an_hour_whatever_the_phones(site: Site) -> None:
    phones = demo_data.STAFF_PHONES[:10]
    async with client(site) as c:
        for phone in phones:
            assert await c.request_code(phone) == 200
        assert await c.request_code(demo_data.STAFF_PHONES[10]) == 429
        assert await c.request_code(RESIDENT) == 429
        await site.deliver()
        assert site.twilio.messages_to(demo_data.STAFF_PHONES[10]) == []


async def test_sign_in_requests_are_forgotten_after_a_day(site: Site, clock: FakeClock) -> None:
    async with client(site) as c:
        await c.request_code(RESIDENT)
        clock.advance(days=1, seconds=1)
        await c.request_code(SMS_STAFF)
    phones = await site.repos.db.fetchall("SELECT phone FROM console_codes")
    assert [row[0] for row in phones] == [SMS_STAFF]


async def test_an_idle_session_ends(site: Site, clock: FakeClock) -> None:
    async with client(site) as c:
        await c.sign_in()
        clock.advance(minutes=29)
        assert await c.get("/staff/") == 200 and c.says(KY["backlog"])
        clock.advance(minutes=30, seconds=1)
        assert await c.get("/staff/") == 200
        assert c.says(KY["session_ended"]) and c.says(KY["sign_in_intro"])


async def test_a_revoked_role_ends_the_session_at_the_next_request(site: Site) -> None:
    async with client(site) as c:
        await c.sign_in()
        resident = await site.repos.residents.by_phone(site.municipality.id, SMS_STAFF)
        assert resident is not None
        await site.repos.roles.revoke(resident_id=resident.id, role="staff")
        await c.get("/staff/")
        assert c.says(KY["sign_in_intro"]) and not c.says(KY["backlog"])


async def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(site: Site) -> None:
    hearing = await site.hearing_today()
    async with client(site) as c:
        await c.sign_in()
        resident = await site.repos.residents.by_phone(site.municipality.id, RESIDENT)
        assert resident is not None
        before = await table_snapshot(site.repos, "attendance", "console_sessions")
        door = f"/staff/hearings/{hearing.id}/door"
        for form in ({}, {"csrf": "forged"}):
            status = await c.post(door + "/check-in", {"resident": str(resident.id), **form},
                                  csrf=False)  # fmt: skip
            assert status == 403 and c.says(KY["csrf"])
        assert await c.post("/staff/sign-out", {}, csrf=False) == 403
        assert before == await table_snapshot(site.repos, "attendance", "console_sessions")
    async with client(site) as c:  # the sign-in form too
        await site.deliver()
        sent = len(site.twilio.messages_to(SMS_STAFF))
        await c.get("/staff/sign-in")
        assert await c.post("/staff/sign-in", {"phone": SMS_STAFF}, csrf=False) == 403
        await site.deliver()
        assert len(site.twilio.messages_to(SMS_STAFF)) == sent


async def test_check_in_at_the_door_by_name_phone_and_code_and_a_walk_in(site: Site) -> None:
    hearing = await site.hearing_today()
    residents = [
        r for r in (await site.repos.residents.by_phones(site.municipality.id)).values()
        if r.phone not in demo_data.ROLE_HOLDERS
    ][:3]  # fmt: skip
    code = await site.rsvp_code(hearing, residents[2].phone)
    door = f"/staff/hearings/{hearing.id}/door"
    async with client(site) as c:
        await c.sign_in()
        assert await c.get(door) == 200
        for query, resident in (
            (residents[0].name.split()[0].lower(), residents[0]),
            ("0" + residents[1].phone.removeprefix("+996"), residents[1]),
            (code, residents[2]),
        ):
            assert await c.post(door + "/search", {"q": query}) == 200
            assert c.says(resident.name), query
            assert await c.post(door + "/check-in", {"resident": str(resident.id)}) == 200
            assert c.says(KY["checked_in_now"].format(name=resident.name))
        # twice is counted once
        await c.post(door + "/search", {"q": code})
        assert c.says(KY["here"])
        await c.post(door + "/check-in", {"resident": str(residents[2].id)})
        assert c.says(KY["checked_in_before"].format(name=residents[2].name))
        village = (await site.repos.municipalities.villages(site.municipality.id))[0].name
        form = {"name": "Жаңы Келген", "gender": "f", "village": village, "deputy": "1"}
        assert await c.post(door + "/walk-in", form) == 200
        assert c.says(KY["walk_in_done"].format(name="Жаңы Келген"))
        women = sum(r.gender == "f" for r in residents) + 1
        assert re.search(r'id="participants">4<', c.page)
        assert re.search(rf'id="women">{women}<', c.page)
        assert re.search(r'id="deputies">1<', c.page)
    assert await site.count("SELECT COUNT(*) FROM attendance WHERE hearing_id = ?", hearing.id) == 4


async def test_the_door_is_open_in_the_check_in_window_only(site: Site, clock: FakeClock) -> None:
    hearing = await site.hearing_today()  # in an hour; the door opens 2 hours before
    resident = await site.repos.residents.by_phone(site.municipality.id, RESIDENT)
    assert resident is not None
    door = f"/staff/hearings/{hearing.id}/door"
    clock.advance(hours=7, minutes=1)  # 6 hours after the start: closed ...
    async with client(site) as c:
        await c.sign_in()
        await c.get(door)
        assert await c.post(door + "/check-in", {"resident": str(resident.id)}) == 400
        assert c.says(KY["closed"].split("{")[0]) and c.says("--reason")
    async with client(site) as c:
        later = await site.hearing_today()  # ... and a hearing of another day: not yet
        await site.repos.hearings.update(later.id, starts_at="2026-11-27T04:00:00.000+00:00",
                                         place=later.place, agenda="", revision=0)  # fmt: skip
        await c.sign_in()
        await c.get(f"/staff/hearings/{later.id}/door")
        form = {"gender": "m", "village": "Ak-Chiy"}
        assert await c.post(f"/staff/hearings/{later.id}/door/walk-in", form) == 400
        assert c.says(KY["not_yet"].format(at="27.11.2026 08:00"))
    assert await site.count("SELECT COUNT(*) FROM attendance WHERE hearing_id IN (?, ?)",
                            hearing.id, later.id) == 0  # fmt: skip


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "A", "village": "?"}, "gender_needed"),
        ({"name": "A", "gender": "x", "village": "?"}, "gender_needed"),
        ({"name": "A", "gender": "m", "village": "Atlantis"}, "village_needed"),
        ({"name": "A" * 101, "gender": "m", "village": "?"}, "name_too_long"),
    ],
)
async def test_a_bad_walk_in_gets_a_polite_answer_and_counts_nobody(
    site: Site, form: dict[str, str], message: str
) -> None:
    hearing = await site.hearing_today()
    async with client(site) as c:
        await c.sign_in()
        await c.get(f"/staff/hearings/{hearing.id}/door")
        assert await c.post(f"/staff/hearings/{hearing.id}/door/walk-in", form) == 400
        assert c.says(KY[message])
    assert await site.count("SELECT COUNT(*) FROM attendance WHERE hearing_id = ?", hearing.id) == 0


def test_every_language_has_every_text() -> None:
    assert EN.keys() == KY.keys() == texts("ru").keys()
    assert all(value.strip() for lang in ("ky", "ru", "en") for value in texts(lang).values())


@pytest.mark.parametrize("language", ["ky", "ru", "en"])
async def test_a_staff_member_sees_the_console_in_their_language(site: Site, language: str) -> None:
    hearing = await site.hearing_today()
    resident = await site.repos.residents.by_phone(site.municipality.id, SMS_STAFF)
    assert resident is not None
    await site.repos.residents.set_language(resident.id, language, now="2026-11-25T00:00:00Z")
    t = texts(language)
    async with client(site) as c:
        await c.sign_in()  # the sign-in pages: the municipality's language (ky) ...
        assert c.says(t["backlog"]) and c.says(t["kind_formation"])  # ... then theirs
        assert f'lang="{language}"' in c.page
        await c.get(f"/staff/hearings/{hearing.id}/door")
        assert c.says(t["walk_in"]) and c.says(t["figures"])
        await c.post(f"/staff/hearings/{hearing.id}/door/walk-in", {"gender": "f"})
        assert c.says(t["village_needed"])


async def test_a_mistyped_phone_gets_a_polite_answer_and_sends_nothing(site: Site) -> None:
    async with client(site) as c:
        for typed in ("abc", "12", "+996 70", ""):
            assert await c.request_code(typed) == 400
            assert c.says(KY["invalid_phone"])
    assert await site.count("SELECT COUNT(*) FROM console_codes") == 0


async def test_no_input_yields_a_server_error(site: Site) -> None:
    hearing = await site.hearing_today()
    nasty = ["", "0", "-1", "99999999999999999999", "' OR 1=1 --", "%", "_", "\x00", "я" * 5000,
             "<script>", "+996", "1e9"]  # fmt: skip
    async with client(site) as c:
        await c.sign_in()
        door = f"/staff/hearings/{hearing.id}/door"
        for value in nasty:
            await c.get(door)
            for path, field in ((door + "/search", "q"), (door + "/check-in", "resident"),
                                (door + "/walk-in", "village"), (door + "/walk-in", "gender"),
                                ("/staff/sign-in", "phone"),
                                ("/staff/sign-in/code", "code")):  # fmt: skip
                await c.get(door)
                status = await c.post(path, {field: value, "phone": value})
                assert status < 500, (path, field, value)
        for path in ("/staff/hearings/999999999/door", "/staff/hearings/x/door", "/staff/nope",
                     "/staff/sign-out"):  # fmt: skip
            assert await c.get(path) in (404, 405), path
            assert c.says(KY["not_found"])
        assert await c.get("/staff") == 200 and c.says(KY["backlog"])
        await c.get(door)
        await c.post(door + "/search", {"q": "%"})  # no wildcard: nobody is called "%"
        assert c.says(KY["no_matches"])
        assert "<script>" not in c.page
        async with c.http.post(site.base_url + door + "/search", data=b"\xff\xfe",
                               headers={"Content-Type": "application/x-www-form-urlencoded"}
                               ) as resp:  # fmt: skip
            assert resp.status < 500
