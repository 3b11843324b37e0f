"""The public pages in a real browser: Debian's Chromium driven by Playwright, on a phone
screen (360x740) with JavaScript switched off, as a reader on a slow line would have
them; and as printed. Screenshots of every page are kept in the test's tmp_path.
Skipped, with the reason, only where Chromium is not installed (CI installs it)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from bot.core.rendering.templates import Renderer
from bot.webui.texts import texts
from tests.conftest import FakeClock
from tests.console_site import Site, console_site
from tests.public_data import PublicData, populate
from tests.test_console_browser import ARGS, CHROMIUM, PHONE_SCREEN, Shots, fits_the_screen

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"
)
KY = texts("ky", "public")
RU = texts("ru", "public")
#: page -> a heading it shows (Kyrgyz, the municipality's language)
PAGES = {
    "": "Ak-Chiy ayil aimak",
    "budget": KY["budget_of"].format(year=2015),
    "projects": KY["nav_projects"],
    "hearings": KY["nav_hearings"],
    "polls": KY["nav_polls"],
    "ratings": KY["nav_ratings"],
    "data": KY["nav_data"],
}


@pytest.fixture
async def site(db_url: str, clock: FakeClock, renderer: Renderer) -> AsyncIterator[Site]:
    async with console_site(db_url, clock, renderer) as running:
        yield running


@pytest.fixture
async def data(site: Site) -> PublicData:
    return await populate(site.repos, site.municipality, now=site.clock.now())


@pytest.fixture
async def phone() -> AsyncIterator[Page]:
    async with async_playwright() as playwright:
        browser: Browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=ARGS
        )
        context = await browser.new_context(
            viewport=PHONE_SCREEN, locale="ky-KG", java_script_enabled=False
        )
        yield await context.new_page()
        await browser.close()


async def test_every_public_page_reads_on_a_phone_without_script_and_prints(
    site: Site, data: PublicData, phone: Page, tmp_path: Path
) -> None:
    shot = Shots(tmp_path)
    site.clock.advance(days=8)  # the poll closed: its results and breakdowns too
    await phone.goto(site.base_url + "/m/")
    await phone.get_by_role("link", name="Ak-Chiy ayil aimak").click()
    for page, heading in PAGES.items():
        if page:
            await (
                phone.get_by_role("navigation", name=KY["sections"])
                .get_by_role("link", name=KY[f"nav_{page}"])
                .click()
            )
        await expect(phone.get_by_role("heading", level=1)).to_have_text(heading)
        await shot(phone, page or "home")
        assert await fits_the_screen(phone), page
    # the budget: charts drawn in the page, beside their tables
    await phone.goto(site.base_url + "/m/ak-chiy/budget")
    charts = phone.get_by_role("img", name=KY["revenue_by_source"])
    await expect(charts).to_be_visible()
    assert (await charts.bounding_box() or {"width": 0})["width"] > 300
    await expect(phone.get_by_role("cell", name="Тоо-кен компаниясынын төлөмдөрү")).to_be_visible()
    # another language by a link, kept from page to page
    await phone.get_by_role("link", name="Русский").click()
    await expect(phone.get_by_role("heading", level=1)).to_have_text(
        RU["budget_of"].format(year=2015)
    )
    await phone.get_by_role("link", name=RU["nav_hearings"]).click()
    await expect(phone.get_by_role("heading", name=RU["past_hearings"])).to_be_visible()
    await shot(phone, "hearings-ru")
    # printed: the household sheet, without the navigation
    await phone.emulate_media(media="print")
    await phone.goto(site.base_url + "/m/ak-chiy/budget")
    await expect(phone.get_by_role("navigation", name=KY["sections"])).to_be_hidden()
    mining = phone.get_by_role("cell", name="Тоо-кен компаниясынын төлөмдөрү")
    await expect(mining).to_be_visible()
    # the sheet's tables take the page's width (they were squeezed to half of it)
    table = phone.locator("table").filter(has=mining)
    assert (await table.bounding_box() or {"width": 0})["width"] > 300
    await shot(phone, "budget-print")
    assert shot.count == len(PAGES) + 2
