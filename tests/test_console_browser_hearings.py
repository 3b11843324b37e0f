"""The hearings pages in a real browser (Chromium driven by Playwright, on a phone-sized
viewport, as tests/test_console_browser.py): sign in with the code the fake received,
create and publish a hearing, see the invitation count."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from playwright.async_api import Browser, expect

from tests import test_console_browser as shared
from tests.console_site import SMS_STAFF, Site
from tests.test_console_browser import KY, Shots, ask_code, fits_the_screen, phone_page

#: Chromium as tests/test_console_browser.py has it (skipped, saying why, without it)
pytestmark, browser, site = shared.pytestmark, shared.browser, shared.site


async def test_sign_in_create_and_publish_a_hearing_and_see_the_invitations(
    site: Site, browser: Browser, tmp_path: Path
) -> None:
    shot = Shots(tmp_path)
    page = await phone_page(browser)
    await ask_code(page, site, SMS_STAFF)
    await site.deliver()
    await page.get_by_label(KY["code"]).fill(site.sms_code(SMS_STAFF))
    await page.get_by_label(KY["code"]).press("Enter")
    await expect(page.get_by_role("heading", name=KY["today"])).to_be_visible()

    await page.get_by_role("link", name=KY["hearing_all"]).click()
    await page.get_by_role("link", name=KY["hearing_new"]).click()
    await expect(page.get_by_role("heading", name=KY["hearing_new"])).to_be_visible()
    day = (site.clock.now() + timedelta(days=3)).date()
    await page.get_by_label(KY["kind_formation"]).check()
    await page.get_by_label(KY["hearing_date"]).fill(day.isoformat())
    await page.get_by_label(KY["hearing_time"]).fill("10:00")
    await page.get_by_label(KY["hearing_place"]).fill("Айыл өкмөтүнүн залы")
    await page.get_by_label(KY["hearing_agenda"]).fill("2027-жылдын бюджети")
    assert await fits_the_screen(page)
    await shot(page, "new-hearing")
    await page.get_by_role("button", name=KY["hearing_create"]).press("Enter")  # the keyboard
    await expect(page.get_by_role("status")).to_have_text(KY["hearing_created"])
    await expect(page.locator("#status")).to_have_text(KY["status_draft"])
    await shot(page, "draft")

    await page.get_by_role("button", name=KY["hearing_publish"]).click()
    hearing_id = await site.count("SELECT MAX(id) FROM hearings")
    queued = await site.count("SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE ?",
                              f"hearing:{hearing_id}:invite:%")  # fmt: skip
    assert queued > 100
    await expect(page.get_by_role("status")).to_have_text(
        KY["hearing_published_now"].format(count=queued)
    )
    await expect(page.locator("#status")).to_have_text(KY["status_published"])
    invited = await site.count("SELECT COUNT(*) FROM invitations WHERE hearing_id = ?", hearing_id)
    shown = await page.locator("#invited").inner_text()
    assert int("".join(ch for ch in shown if ch.isdigit())) == invited
    await expect(page.locator("#invited-by-village")).to_be_visible()
    assert await fits_the_screen(page)
    await shot(page, "published")
