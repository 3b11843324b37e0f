"""The monitoring acts' photos on the console's acts page: thumbnails made by the same
fetcher and thumbnail code as the public pages (bot/webui/photos.py), for a signed-in
staff member only; a photo Telegram does not give now is a polite 503, tried later."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import aiohttp
import pytest
from PIL import Image

from bot.core.rendering.templates import Renderer
from bot.core.services import demo_data, monitoring
from bot.core.services.budget_import import import_budget
from bot.webui.texts import texts
from tests.conftest import FakeClock
from tests.console_site import Site, console_site
from tests.test_console import client
from tests.test_console_imports import GOOD_BUDGET
from tests.test_public_pages import camera_photo

KY = texts("ky")


@pytest.fixture
async def site(db_url: str, clock: FakeClock, renderer: Renderer) -> AsyncIterator[Site]:
    async with console_site(db_url, clock, renderer) as running:
        await import_budget(running.repos, running.municipality, GOOD_BUDGET.encode(),
                            now=clock.now())  # fmt: skip
        yield running


async def test_an_acts_photos_show_as_thumbnails_to_staff_only(site: Site) -> None:
    project = await site.repos.budget.project_by_code(site.municipality.id, "W-1")
    monitor = await site.repos.residents.by_phone(site.municipality.id,
                                                  sorted(demo_data.MONITOR_PHONES)[0])  # fmt: skip
    assert project is not None and monitor is not None
    _, act_id = await monitoring.file_act(
        site.repos, site.municipality, monitor, project.id, "purchase", "Трубалар",
        now=site.clock.now(), photos=["ph-1", "ph-2"],
    )  # fmt: skip
    src = f"/staff/acts/{act_id}/1.jpg"
    async with aiohttp.ClientSession() as http, http.get(site.base_url + src) as resp:
        assert resp.status == 200 and "image" not in resp.content_type  # the sign-in page
    async with client(site) as c:
        await c.sign_in()
        assert await c.get(f"/staff/projects/{project.id}/acts") == 200
        alt = KY["act_photo_alt"].format(n=2)
        assert f'<img src="/staff/acts/{act_id}/2.jpg" width="160" alt="{alt}"' in c.page
        # Telegram does not give it (yet): a polite 503, tried again later, nothing cached
        assert await c.get(src) == 503 and c.says(KY["photo_unavailable"])
        original = camera_photo()
        site.telegram.add_file(original, file_id="ph-1", file_path="photos/file_1.jpg")
        async with c.http.get(site.base_url + src) as resp:
            assert resp.status == 200 and resp.content_type == "image/jpeg"
            assert resp.headers["Cache-Control"] == "private, max-age=86400"
            small = await resp.read()
        with Image.open(io.BytesIO(small)) as thumb:
            assert thumb.size == (320, 240) and not thumb.getexif()
        assert len(small) < len(original) / 10 and "Асанбекова".encode() not in small
        for wrong in (f"/staff/acts/{act_id}/3.jpg", f"/staff/acts/{act_id + 1}/1.jpg"):
            assert await c.get(wrong) == 404 and c.says(KY["not_found"])
