"""The imports page in a real browser (Chromium driven by Playwright, on a phone-sized
viewport, as tests/test_console_browser.py): import a budget with a bad line and see it
explained, then a good one checked and confirmed."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, expect

from tests import test_console_browser as shared
from tests.console_site import Site
from tests.test_console_browser import KY, Shots, fits_the_screen, phone_page
from tests.test_console_browser_pages import sign_in
from tests.test_console_imports import BAD_BUDGET, GOOD_BUDGET

#: Chromium as tests/test_console_browser.py has it (skipped, saying why, without it)
pytestmark, browser, site = shared.pytestmark, shared.browser, shared.site


async def test_import_a_budget_with_a_bad_line_then_a_good_one(
    site: Site, browser: Browser, tmp_path: Path
) -> None:
    shot = Shots(tmp_path)
    page = await phone_page(browser)
    await sign_in(page, site)
    await page.get_by_role("link", name=KY["imports"]).click()
    await expect(page.get_by_role("heading", name=KY["imports"])).to_be_visible()

    await page.get_by_label(KY["import_kind_budget"]).check()
    await page.get_by_label(KY["import_file"]).set_input_files(
        {"name": "budget.csv", "mimeType": "text/csv", "buffer": BAD_BUDGET.encode()}
    )
    await page.get_by_role("button", name=KY["import_check"]).press("Enter")  # the keyboard
    await expect(page.get_by_role("alert")).to_have_text(KY["import_rejected"].format(count=2))
    await expect(page.locator("#import-errors")).to_contain_text(
        KY["import_unknown_village"].format(value="Ak-Suu")
    )
    assert await fits_the_screen(page)
    await shot(page, "bad-lines")
    budgets = await site.count("SELECT COUNT(*) FROM budgets")

    await page.get_by_label(KY["import_kind_budget"]).check()
    await page.get_by_label(KY["import_file"]).set_input_files(
        {"name": "budget.csv", "mimeType": "text/csv", "buffer": GOOD_BUDGET.encode()}
    )
    await page.get_by_role("button", name=KY["import_check"]).click()
    await expect(page.locator("#import-preview")).to_contain_text(
        KY["import_preview_budget"].format(year=2026, version=1, lines=2, projects=1)
    )
    assert await site.count("SELECT COUNT(*) FROM budgets") == budgets  # not yet
    await shot(page, "preview")
    await page.get_by_role("button", name=KY["import_confirm"]).click()
    await expect(page.get_by_role("status")).to_have_text(
        KY["import_done_budget"].format(year=2026, version=1)
    )
    assert await site.count("SELECT COUNT(*) FROM budgets") == budgets + 1
    assert await fits_the_screen(page)
    await shot(page, "imported")
