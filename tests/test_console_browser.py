"""The staff console in a real browser: Debian's Chromium driven by Playwright, against the
web app of ``civic-bot run`` (tests/console_site.py) with the fake Telegram and Twilio.

A phone-sized viewport (360x740); forms are found by their labels and submitted from the
keyboard. Screenshots of every step are kept in the test's tmp_path. Skipped, with the
reason, only where Chromium is not installed (CI installs it: .ci/run).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from bot.core.languages import in_language
from bot.core.phones import mask_phone
from bot.core.rendering.templates import Renderer
from bot.core.services import demo_data
from bot.webui.texts import texts
from tests.conftest import FakeClock, run_cli
from tests.console_site import FROM, RESIDENT, SMS_STAFF, Site, console_site
from tests.fakes.twilio_api import FakeTwilioAPI
from tests.processes import start_run, twilio_env
from tests.test_run import Civic, wait_until

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"
)
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE_SCREEN = {"width": 360, "height": 740}
KY = texts("ky")


@pytest.fixture
async def site(db_url: str, clock: FakeClock, renderer: Renderer) -> AsyncIterator[Site]:
    async with console_site(db_url, clock, renderer) as running:
        yield running


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        await chromium.close()


class Shots:
    """Numbered screenshots in the test's temp directory."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.count = folder, 0

    async def __call__(self, page: Page, name: str) -> None:
        self.count += 1
        await page.screenshot(path=self.folder / f"{self.count:02d}-{name}.png", full_page=True)


async def phone_page(browser: Browser) -> Page:
    context = await browser.new_context(viewport=PHONE_SCREEN, locale="ky-KG")
    return await context.new_page()


async def ask_code(page: Page, site: Site, phone: str) -> None:
    await page.goto(site.staff_url)
    await page.get_by_label(KY["phone"]).fill(phone)
    await page.get_by_label(KY["phone"]).press("Enter")


async def fits_the_screen(page: Page) -> bool:
    return bool(await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


async def test_sign_in_see_today_check_in_three_people_and_a_walk_in_on_a_phone(
    site: Site, browser: Browser, tmp_path: Path
) -> None:
    shot = Shots(tmp_path)
    hearing = await site.hearing_today()
    people = [
        r
        for r in (await site.repos.residents.by_phones(site.municipality.id)).values()
        if r.phone not in demo_data.ROLE_HOLDERS
    ][:3]
    code = await site.rsvp_code(hearing, people[2].phone)
    page = await phone_page(browser)

    await ask_code(page, site, SMS_STAFF)
    await expect(page.get_by_label(KY["code"])).to_be_visible()
    await shot(page, "code-asked")
    await site.deliver()
    await page.get_by_label(KY["code"]).fill(site.sms_code(SMS_STAFF))
    await page.get_by_label(KY["code"]).press("Enter")
    await expect(page.get_by_role("heading", name=KY["today"])).to_be_visible()
    await expect(page.get_by_text(KY["hearing"].format(id=hearing.id))).to_be_visible()
    assert await fits_the_screen(page)
    await shot(page, "today")

    await page.get_by_role("link", name=KY["door"]).click()
    await expect(page.get_by_role("heading", name=KY["door"])).to_be_visible()
    for n, query in enumerate(
        (people[0].name.split()[0], "0" + people[1].phone.removeprefix("+996"), code)
    ):
        search = page.get_by_label(KY["search"])
        await search.fill(query)
        await search.press("Enter")  # tap 1 (the typing aside)
        person = page.get_by_role("listitem").filter(has_text=mask_phone(people[n].phone))
        await expect(person).to_contain_text(people[n].name)
        if n == 0:  # a first name alone: many namesakes, the first 20 and a hint
            await expect(page.get_by_text(KY["more_matches"].format(count=20))).to_be_visible()
        await shot(page, f"found-{n + 1}")
        await person.get_by_role("button", name=KY["check_in"]).click()  # tap 2
        await expect(page.get_by_role("status")).to_have_text(
            KY["checked_in_now"].format(name=people[n].name)
        )
        await expect(page.locator("#participants")).to_have_text(str(n + 1))
        await shot(page, f"checked-in-{n + 1}")
    women = sum(p.gender == "f" for p in people)
    await expect(page.locator("#women")).to_have_text(str(women))

    # the village as the staff member reads it (Kyrgyz)
    village = in_language(
        (await site.repos.municipalities.villages(site.municipality.id))[0].name, "ky"
    )
    await page.get_by_label(KY["name"], exact=True).fill("Жаңы Келген")
    await page.get_by_label(KY["female"], exact=True).check()
    await page.get_by_label(KY["village"], exact=True).select_option(village)
    await page.get_by_label(KY["deputy"], exact=True).check()
    await page.get_by_role("button", name=KY["add_walk_in"]).press("Enter")  # the keyboard
    await expect(page.get_by_role("status")).to_have_text(
        KY["walk_in_done"].format(name="Жаңы Келген")
    )
    await expect(page.locator("#participants")).to_have_text("4")
    await expect(page.locator("#women")).to_have_text(str(women + 1))
    await expect(page.locator("#deputies")).to_have_text("1")
    await expect(page.locator("#by-village")).to_contain_text(village)
    assert await fits_the_screen(page)
    await shot(page, "walk-in")
    await page.set_viewport_size({"width": 1366, "height": 768})  # the office PC
    await shot(page, "walk-in-office-pc")
    await page.set_viewport_size(PHONE_SCREEN)

    await page.get_by_role("button", name=KY["sign_out"]).click()
    await expect(page.get_by_role("status")).to_have_text(KY["signed_out"])
    await page.goto(site.staff_url)
    await expect(page.get_by_label(KY["phone"])).to_be_visible()
    await shot(page, "signed-out")
    assert await site.count("SELECT COUNT(*) FROM attendance WHERE hearing_id = ?", hearing.id) == 4


async def test_wrong_expired_and_reused_codes_are_refused_in_the_browser(
    site: Site, browser: Browser, clock: FakeClock, tmp_path: Path
) -> None:
    shot = Shots(tmp_path)
    page = await phone_page(browser)
    await ask_code(page, site, SMS_STAFF)
    await site.deliver()
    code = site.sms_code(SMS_STAFF)
    await page.get_by_label(KY["code"]).fill(f"{(int(code) + 1) % 10**6:06d}")
    await page.get_by_label(KY["code"]).press("Enter")
    await expect(page.get_by_role("alert")).to_have_text(KY["wrong_code"])
    await shot(page, "wrong-code")
    clock.advance(minutes=11)
    await page.get_by_label(KY["code"]).fill(code)
    await page.get_by_label(KY["code"]).press("Enter")
    await expect(page.get_by_role("alert")).to_have_text(KY["expired"])
    await shot(page, "expired-code")

    await ask_code(page, site, SMS_STAFF)
    await site.deliver()
    code = site.sms_code(SMS_STAFF)
    await page.get_by_label(KY["code"]).fill(code)
    await page.get_by_label(KY["code"]).press("Enter")
    await expect(page.get_by_role("heading", name=KY["today"])).to_be_visible()
    other = await phone_page(browser)  # someone else who saw the message
    await ask_code(other, site, RESIDENT)  # any number: to reach the code form
    await other.locator("input[name=phone]").evaluate(f"e => e.value = '{SMS_STAFF}'")
    await other.get_by_label(KY["code"]).fill(code)
    await other.get_by_label(KY["code"]).press("Enter")
    await expect(other.get_by_role("alert")).to_have_text(KY["used"])
    await shot(other, "reused-code")


async def test_rate_limit_csrf_and_a_non_staff_phone_in_the_browser(
    site: Site, browser: Browser, tmp_path: Path
) -> None:
    shot = Shots(tmp_path)
    page = await phone_page(browser)
    await ask_code(page, site, RESIDENT)  # not staff: the same answer ...
    await expect(page.get_by_label(KY["code"])).to_be_visible()
    await site.deliver()
    assert site.twilio.created == []  # ... and no message
    await shot(page, "not-staff")

    for _ in range(3):
        await ask_code(page, site, SMS_STAFF)
        await expect(page.get_by_label(KY["code"])).to_be_visible()
    await ask_code(page, site, SMS_STAFF)
    await expect(page.get_by_role("alert")).to_have_text(KY["too_many_requests"])
    await shot(page, "rate-limited")
    await site.deliver()
    assert len(site.twilio.messages_to(SMS_STAFF)) == 3

    # signed in, a form whose CSRF token is gone is refused and counts nobody
    code = site.sms_code(SMS_STAFF)
    await page.goto(site.staff_url + "sign-in")
    await page.evaluate("1")  # the code form is still the last one asked for this phone
    await ask_code(page, site, demo_data.STAFF_PHONES[5])
    await page.locator("input[name=phone]").evaluate(f"e => e.value = '{SMS_STAFF}'")
    await page.get_by_label(KY["code"]).fill(code)
    await page.get_by_label(KY["code"]).press("Enter")
    await expect(page.get_by_role("heading", name=KY["today"])).to_be_visible()
    hearing = await site.hearing_today()
    await page.goto(f"{site.staff_url}hearings/{hearing.id}/door")
    # the village as the staff member reads it (Kyrgyz)
    village = in_language(
        (await site.repos.municipalities.villages(site.municipality.id))[0].name, "ky"
    )
    await page.get_by_label(KY["male"], exact=True).check()
    await page.get_by_label(KY["village"], exact=True).select_option(village)
    await page.locator("form[action$=walk-in] input[name=csrf]").evaluate("e => e.remove()")
    await page.get_by_role("button", name=KY["add_walk_in"]).click()
    await expect(page.get_by_role("alert")).to_have_text(KY["csrf"])
    await shot(page, "csrf-refused")
    assert await site.count("SELECT COUNT(*) FROM attendance WHERE hearing_id = ?", hearing.id) == 0


@pytest.mark.sqlite_only
async def test_civic_bot_run_serves_the_console_and_its_worker_sends_the_code(
    browser: Browser, tmp_path: Path
) -> None:
    """The real process: ``civic-bot run`` mounts /staff/ and its own outbox worker hands
    the code to (fake) Twilio."""
    database = {"DATABASE_URL": f"sqlite:///{tmp_path / 'civic-bot.db'}"}
    done = await asyncio.to_thread(run_cli, "init", "--demo", cwd=tmp_path, env=database)
    assert done.returncode == 0, done.stderr
    async with (
        FakeTwilioAPI(owned_numbers={FROM}) as twilio,
        aiohttp.ClientSession() as http,
    ):
        env = {**database, **twilio_env(twilio, FROM)}
        process, port = await start_run(env, tmp_path, tmp_path / "run.log")
        civic = Civic(process, port, tmp_path / "run.log")
        try:
            await civic.wait_healthy(http)
            page = await phone_page(browser)
            await page.goto(f"{civic.base_url}/staff/")
            await page.get_by_label(KY["phone"]).fill(SMS_STAFF)
            await page.get_by_role("button", name=KY["send_code"]).click()
            await expect(page.get_by_label(KY["code"])).to_be_visible()
            await wait_until(lambda: bool(twilio.messages_to(SMS_STAFF)), 30, "the code", civic)
            code = re.findall(r"\d{6}", twilio.messages_to(SMS_STAFF)[-1])[0]
            await page.get_by_label(KY["code"]).fill(code)
            await page.get_by_label(KY["code"]).press("Enter")
            await expect(page.get_by_role("heading", name=KY["today"])).to_be_visible()
            await page.screenshot(path=tmp_path / "run-today.png", full_page=True)
            async with http.get(f"{civic.base_url}/staff/static/console.css") as resp:
                assert resp.status == 200 and "text/css" in resp.headers["Content-Type"]
        finally:
            process.terminate()
            await process.wait()
