"""The broadcast composer in a real browser (Chromium driven by Playwright, on a
phone-sized viewport, as tests/test_console_browser.py): compose a broadcast to one
village, see the preview (recipients, SMS segments, cost), confirm it from the keyboard
and watch it finish against the fake Telegram and Twilio."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, expect

from tests import test_console_browser as shared
from tests.console_site import Site
from tests.test_console_broadcast import TEXT, _village
from tests.test_console_browser import KY, Shots, fits_the_screen, phone_page
from tests.test_console_browser_pages import sign_in

#: Chromium as tests/test_console_browser.py has it (skipped, saying why, without it)
pytestmark, browser, site = shared.pytestmark, shared.browser, shared.site


def _number(shown: str) -> int:
    return int("".join(ch for ch in shown if ch.isdigit()))


async def test_compose_and_confirm_a_broadcast_and_watch_it_finish(
    site: Site, browser: Browser, tmp_path: Path
) -> None:
    village, residents, _ = await _village(site)
    shot = Shots(tmp_path)
    page = await phone_page(browser)
    await sign_in(page, site)

    await page.get_by_role("link", name=KY["broadcast"]).click()
    await expect(page.get_by_role("heading", name=KY["broadcast"])).to_be_visible()
    await page.get_by_label(KY["broadcast_audience"]).select_option(value=f"village:{village}")
    await page.get_by_label(KY["broadcast_text"]).fill(TEXT)
    await page.get_by_role("button", name=KY["broadcast_preview"]).press("Enter")
    await expect(page.locator("#segments-ky")).to_have_text(
        KY["broadcast_segments"].format(segments=2, encoding="UCS-2", units=74)
    )
    assert str(residents) in (await page.locator("#recipients").inner_text()).replace("\u00a0", "")
    assert await fits_the_screen(page)
    await shot(page, "preview")

    await page.get_by_role("checkbox").check()  # the confirmation
    await page.get_by_role("button", name=KY["broadcast_send"]).press("Enter")
    await expect(page.get_by_role("status")).to_have_text(
        KY["broadcast_queued"].format(recipients=residents)
    )
    assert _number(await page.locator("#b-queued").inner_text()) == residents
    await shot(page, "queued")

    await site.deliver()
    await page.get_by_role("link", name=KY["hearing_refresh"]).click()  # the live progress
    await expect(page.locator("#b-state")).to_have_text(KY["broadcast_done"])
    assert _number(await page.locator("#b-queued").inner_text()) == 0
    sent = _number(await page.locator("#b-sent").inner_text())
    delivered = _number(await page.locator("#b-delivered").inner_text())
    assert sent + delivered == residents
    assert await fits_the_screen(page)
    await shot(page, "finished")
    assert sum(m["body"] == TEXT for m in site.twilio.messages.values()) > 0
