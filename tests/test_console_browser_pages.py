"""The hearings and polls pages in a real browser (Chromium driven by Playwright, on a
phone-sized viewport, as tests/test_console_browser.py): sign in with the code the fake
received, create and publish a hearing, see the invitation count; create, close and read
a poll."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from playwright.async_api import Browser, Page, expect

from bot.core.services import voting
from bot.core.services.ballot_text import parse_ballot_text
from tests import test_console_browser as shared
from tests.console_site import SMS_STAFF, Site
from tests.test_console_browser import KY, Shots, ask_code, fits_the_screen, phone_page
from tests.test_console_polls import approved_problems, voters

#: Chromium as tests/test_console_browser.py has it (skipped, saying why, without it)
pytestmark, browser, site = shared.pytestmark, shared.browser, shared.site


async def sign_in(page: Page, site: Site) -> None:
    await ask_code(page, site, SMS_STAFF)
    await site.deliver()
    await page.get_by_label(KY["code"]).fill(site.sms_code(SMS_STAFF))
    await page.get_by_label(KY["code"]).press("Enter")
    await expect(page.get_by_role("heading", name=KY["today"])).to_be_visible()


async def test_sign_in_create_and_publish_a_hearing_and_see_the_invitations(
    site: Site, browser: Browser, tmp_path: Path
) -> None:
    shot = Shots(tmp_path)
    page = await phone_page(browser)
    await sign_in(page, site)

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


async def test_create_close_and_read_a_poll(site: Site, browser: Browser, tmp_path: Path) -> None:
    shot = Shots(tmp_path)
    [school] = await approved_problems(site, "Мектептин чатыры")
    page = await phone_page(browser)
    await sign_in(page, site)
    await page.get_by_role("link", name=KY["poll_all"]).click()
    await page.get_by_role("link", name=KY["poll_new"]).click()
    await page.get_by_label(KY["poll_title"], exact=True).fill("Кайсы долбоор биринчи?")
    await page.get_by_label(KY["poll_type_choose1"], exact=True).check()
    await page.get_by_label(KY["poll_options"], exact=True).fill("Көчө жарыгы\nПарк")
    await page.get_by_label(f"№{school} · Мектептин чатыры").check()
    closes = (site.clock.now() + timedelta(days=7)).date().isoformat()
    await page.get_by_label(KY["poll_closes_date"]).fill(closes)
    await page.get_by_label(KY["poll_closes_time"]).fill("18:00")
    assert await fits_the_screen(page)
    await shot(page, "new-poll")
    await page.get_by_role("button", name=KY["poll_create"]).press("Enter")
    await expect(page.get_by_role("status")).to_have_text(KY["poll_created"])
    await expect(page.locator("#state")).to_have_text(KY["poll_state_open"])
    await expect(page.get_by_text(KY["poll_sealed"])).to_be_visible()

    poll_id = await site.count("SELECT MAX(id) FROM polls")
    for person, choice in zip(await voters(site, 5), "33312", strict=True):
        await voting.cast(site.repos, site.municipality, person,
                          parse_ballot_text(f"#{poll_id} {choice}"), channel="sms",
                          now=site.clock.now())  # fmt: skip
    await page.reload()
    await expect(page.locator("#ballots")).to_have_text("5")
    await expect(page.locator("#results")).to_have_count(0)  # a secret ballot while open
    await shot(page, "open")

    await page.get_by_label(KY["poll_close_confirm"]).check()
    await page.get_by_role("button", name=KY["poll_close_now"]).click()
    await expect(page.get_by_role("status")).to_have_text(KY["poll_closed"])
    first = page.locator("#results tbody tr").first
    await expect(first).to_contain_text("Мектептин чатыры")
    await expect(first).to_contain_text(KY["poll_selected_yes"])
    await expect(first.locator("td").first).to_have_text("3")
    await expect(page.get_by_role("link", name=KY["poll_export_csv"])).to_be_visible()
    assert await fits_the_screen(page)
    await shot(page, "results")
