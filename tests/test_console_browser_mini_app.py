"""The console opened inside Telegram, in a real browser (Chromium driven by Playwright, as
tests/test_console_browser.py): Telegram opens the console's address with its signed init
data in the fragment (``#tgWebAppData=...``); the page's script hands it to the server
and the staff member lands on Today, signed in, with the init data gone from the address."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.async_api import Browser, expect

from bot.core.rendering.templates import Renderer
from tests import test_console_browser as shared
from tests.conftest import FakeClock
from tests.console_site import TELEGRAM_USER, Site, console_site
from tests.telegram_helpers import TOKEN
from tests.test_console_browser import KY, Shots, phone_page
from tests.test_console_mini_app import init_data

#: Chromium as tests/test_console_browser.py has it (skipped, saying why, without it)
pytestmark, browser = shared.pytestmark, shared.browser


@pytest.fixture
async def site(db_url: str, clock: FakeClock, renderer: Renderer) -> AsyncIterator[Site]:
    async with console_site(db_url, clock, renderer, telegram_bot_token=TOKEN) as running:
        yield running


async def test_the_console_opened_from_telegram_signs_the_staff_member_in(
    site: Site, browser: Browser, tmp_path: Path
) -> None:
    shot = Shots(tmp_path)
    page = await phone_page(browser)
    fragment = "tgWebAppData=" + quote(init_data(TELEGRAM_USER, site.clock.now()), safe="")
    await page.goto(f"{site.staff_url}#{fragment}&tgWebAppVersion=7.0&tgWebAppPlatform=android")
    await expect(page.get_by_role("heading", name=KY["today"])).to_be_visible()
    assert "tgWebAppData" not in page.url
    await shot(page, "today-in-telegram")
    assert await site.count("SELECT COUNT(*) FROM console_sessions") == 1


async def test_outside_telegram_the_sign_in_page_stays_as_it_is(
    site: Site, browser: Browser
) -> None:
    page = await phone_page(browser)
    await page.goto(site.staff_url)
    await expect(page.get_by_label(KY["phone"])).to_be_visible()
    assert await site.count("SELECT COUNT(*) FROM console_sessions") == 0
