"""The staff console inside Telegram (a Mini App): the staff member's menu carries the
button that opens it, and the page signs in with the init data Telegram signed with the
bot's token, checked on the server; forged, stale or a non-staff member's init data is
refused politely and opens no session. On SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from urllib.parse import urlencode

import aiohttp
import pytest
from aiogram import Bot

from bot.channels.telegram.dispatcher import build_dispatcher
from bot.core.clock import iso
from bot.core.rendering.templates import Renderer
from bot.core.services import demo_data
from bot.webui.texts import texts
from storage.models import Municipality
from storage.repos import Repos
from tests.conftest import FakeClock
from tests.console_site import RESIDENT, TELEGRAM_USER, Site, console_site
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.telegram_helpers import TOKEN, TelegramApp, buttons
from tests.test_console import Client, client

KY = texts("ky")
CONSOLE_URL = "https://bot.example.kg/staff/"
#: a Telegram account linked to a resident who is not staff
RESIDENT_USER = 7_100_002


def init_data(user: int, signed_at: datetime, token: str = TOKEN) -> str:
    """Init data as Telegram hands it to a Mini App, signed as Telegram signs it
    (core.telegram.org/bots/webapps#validating-data-received-via-the-web-app)."""
    fields = {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps({"id": user, "first_name": "Айгүл", "language_code": "ky"}),
        "auth_date": str(int(signed_at.timestamp())),
    }
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


@pytest.fixture
async def site(db_url: str, clock: FakeClock, renderer: Renderer) -> AsyncIterator[Site]:
    async with console_site(db_url, clock, renderer, telegram_bot_token=TOKEN) as running:
        resident = await running.repos.residents.by_phone(running.municipality.id, RESIDENT)
        assert resident is not None
        now = iso(clock.now())
        await running.repos.residents.link_telegram(resident.id, RESIDENT_USER, now=now)
        yield running


async def open_mini_app(c: Client, data: str) -> int:
    """What the page's script does: the sign-in form with Telegram's init data."""
    await c.get("/staff/sign-in")
    return await c.post("/staff/sign-in/telegram", {"init_data": data})


async def sessions(site: Site) -> int:
    return await site.count("SELECT COUNT(*) FROM console_sessions")


async def test_a_staff_member_opening_the_mini_app_is_signed_in(site: Site) -> None:
    async with client(site) as c:
        assert await open_mini_app(c, init_data(TELEGRAM_USER, site.clock.now())) == 200
        assert 'id="h-backlog"' in c.page and c.says(KY["today"])  # redirected to Today
        assert await sessions(site) == 1
        assert await c.get("/staff/residents") == 200  # the session is a normal one


@pytest.mark.parametrize(
    ("case", "key"),
    [
        ("forged hash", "telegram_invalid"),
        ("another bot's token", "telegram_invalid"),
        ("not init data", "telegram_invalid"),
        ("stale auth_date", "telegram_stale"),
        ("auth_date in the future", "telegram_stale"),
        ("not staff", "telegram_not_staff"),
        ("not linked", "telegram_not_staff"),
    ],
)
async def test_init_data_that_proves_no_staff_member_is_refused(
    site: Site, case: str, key: str
) -> None:
    now = site.clock.now()
    data = {
        "forged hash": init_data(TELEGRAM_USER, now)[:-4] + "0000",
        "another bot's token": init_data(TELEGRAM_USER, now, token="654321:OTHER"),
        "not init data": "user=%7B%22id%22%3A7100001%7D",
        "stale auth_date": init_data(TELEGRAM_USER, now - timedelta(minutes=11)),
        "auth_date in the future": init_data(TELEGRAM_USER, now + timedelta(minutes=5)),
        "not staff": init_data(RESIDENT_USER, now),
        "not linked": init_data(7_999_999, now),
    }[case]
    async with client(site) as c:
        assert await open_mini_app(c, data) == 403
        assert c.says(KY[key]) and c.says(KY["sign_in_intro"])  # and the phone form
        assert await sessions(site) == 0
        assert await c.get("/staff/") == 200 and c.says(KY["sign_in_intro"])


async def test_without_the_bot_token_no_one_signs_in_from_telegram(
    db_url: str, clock: FakeClock, renderer: Renderer
) -> None:
    async with console_site(db_url, clock, renderer) as s, client(s) as c:
        assert await open_mini_app(c, init_data(TELEGRAM_USER, clock.now())) == 403
        assert c.says(KY["telegram_invalid"]) and await sessions(s) == 0


async def test_the_sign_in_page_carries_the_mini_app_script(site: Site) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(site.base_url + "/staff/static/mini-app.js") as resp:
            assert resp.status == 200 and "tgWebAppData" in await resp.text()
        async with http.get(site.base_url + "/staff/sign-in") as resp:
            page = await resp.text()
    assert '<script src="/staff/static/mini-app.js" defer>' in page
    assert 'action="/staff/sign-in/telegram"' in page


async def test_a_staff_members_menu_opens_the_console_in_telegram(
    repos: Repos, demo: Municipality, renderer: Renderer, clock: FakeClock, bot: Bot,
    api: FakeTelegramAPI,
) -> None:  # fmt: skip
    dp = build_dispatcher(repos=repos, renderer=renderer, clock=clock, console_url=CONSOLE_URL)
    for phone, user in ((demo_data.STAFF_PHONES[4], 7_200_001), (RESIDENT, 7_200_002)):
        resident = await repos.residents.by_phone(demo.id, phone)
        assert resident is not None
        await repos.residents.link_telegram(resident.id, user, now=iso(clock.now()))
    staff, resident = TelegramApp(dp, bot, api, 7_200_001), TelegramApp(dp, bot, api, 7_200_002)
    await staff.say("/menu")
    label = renderer.render_table("tg_buttons", "ky")["console"]
    [console] = [b for b in buttons(staff.screen()) if "web_app" in b]
    assert console == {"text": label, "web_app": {"url": CONSOLE_URL}}
    await resident.say("/menu")
    assert not [b for b in buttons(resident.screen()) if "web_app" in b]
    assert buttons(resident.screen())  # the resident's menu itself is there
