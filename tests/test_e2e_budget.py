"""Budget transparency end to end, over the fake Telegram and Twilio servers.

A new budget year is imported with the CLI (figures chosen by hand: spending of
3,728,000 som over the demo's 3,728 residents is exactly 1,000 som per resident), then:
BUDGET by SMS (signed Twilio webhook, TwiML reply, segments counted) and by Telegram
(HTML summary + chart photo), PROJECT n, a monitoring act and ACTS n, and a rating round
opened and exported with the CLI. Household shares are checked against values computed
by hand from ``demo_data.generate()``, not from the service under test.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiogram import Bot
from aiohttp.test_utils import TestServer
from twilio.request_validator import RequestValidator

from bot.app import http_app
from bot.channels.telegram.dispatcher import build_dispatcher
from bot.channels.twilio.webhook import NAME as TWILIO
from bot.channels.twilio.webhook import TwilioChannel
from bot.core.clock import iso
from bot.core.rendering.charts import PNG_SIGNATURE, ChartCache
from bot.core.rendering.sms import sms_size
from bot.core.rendering.templates import Renderer
from bot.core.services import demo_data
from bot.runtime.web import WebContext
from storage.models import Municipality
from storage.repos import Repos
from tests.conftest import FakeClock, run_cli
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.webhooks import (
    DEFAULT_AUTH_TOKEN,
    new_sid,
    twilio_inbound_form,
    twilio_signed_headers,
)
from tests.test_telegram_budget import Person

PUBLIC = "https://bot.example.kg"
OUR_NUMBER = "+15005550006"
TELEGRAM_USER = 5_000_201
NBSP = "\xa0"  # Kyrgyz digit grouping (babel, ky): 3 000 сом

YEAR = 2026
BUDGET_CSV = f"""\
kind,year,code,name,village,amount,source_type,status
revenue,{YEAR},,Local taxes,,1728000,,
revenue,{YEAR},,Equalisation grant,,2000000,,
spending,{YEAR},,Administration,,2000000,,
spending,{YEAR},,Schools,,1000000,,
spending,{YEAR},,Roads,Kachybek,728000,,
project,{YEAR},WELL,Kachybek well,Kachybek,150000,,in_progress
funding,{YEAR},WELL,Local budget,,100000,local_budget,
funding,{YEAR},WELL,ARIS,,50000,investor,
"""
TOTAL_SPENDING = 2_000_000 + 1_000_000 + 728_000


def som(amount: int) -> str:
    """``12 000 сом``, as the Kyrgyz templates write it (grouped by a no-break space)."""
    return f"{amount:,}".replace(",", NBSP) + " сом"


def hand_share(phone: str) -> tuple[int, int]:
    """(members, share) of ``phone``'s household, from the demo generator alone."""
    _, people = demo_data.generate()
    household = next(p.household for p in people if p.phone == phone)
    members = Counter(p.household for p in people)[household]
    return members, round(TOTAL_SPENDING * members / len(people))


def kachybek_resident() -> str:
    """A Kyrgyz-speaking Kachybek resident without a role, in a household of several."""
    _, people = demo_data.generate()
    sizes = Counter(p.household for p in people)
    return next(
        p.phone
        for p in people
        if p.household.startswith("KB-")
        and p.language == "ky"
        and p.phone not in demo_data.ROLE_HOLDERS
        and sizes[p.household] >= 3
    )


class Sms:
    """Signed Twilio inbound webhooks to a real aiohttp server; returns the reply text."""

    def __init__(self, server: TestServer, http: aiohttp.ClientSession) -> None:
        self.server, self.http = server, http

    async def send(self, sender: str, body: str) -> str:
        path = "/sms/twilio"
        form = twilio_inbound_form(sender, OUR_NUMBER, body, new_sid("SM"))
        headers = twilio_signed_headers(DEFAULT_AUTH_TOKEN, PUBLIC + path, form)
        url = str(self.server.make_url(path))
        async with self.http.post(url, data=form, headers=headers) as resp:
            assert resp.status == 200, await resp.text()
            root = ET.fromstring(await resp.text())
        [message] = root.findall("Message")
        assert message.text
        return message.text


@pytest.fixture
async def sms(
    repos: Repos, demo: Municipality, clock: FakeClock, renderer: Renderer
) -> AsyncIterator[Sms]:
    ctx = WebContext(
        repos=repos,
        renderer=renderer,
        clock=clock,
        municipality=demo,
        channels={TWILIO: TwilioChannel(RequestValidator(DEFAULT_AUTH_TOKEN))},
        public_base_url=PUBLIC,
    )
    server = TestServer(http_app(ctx), host="127.0.0.1")
    await server.start_server()
    async with aiohttp.ClientSession() as http:
        yield Sms(server, http)
    await server.close()


def cli(*args: str, cwd: Path, db_url: str) -> str:
    result = run_cli(*args, cwd=cwd, env={"DATABASE_URL": db_url})
    assert result.returncode == 0, result.stderr
    return result.stdout


async def test_budget_year_from_import_to_rating_export(
    repos: Repos,
    demo: Municipality,
    clock: FakeClock,
    renderer: Renderer,
    db_url: str,
    tmp_path: Path,
    sms: Sms,
    api: FakeTelegramAPI,
    bot: Bot,
) -> None:
    # --- import: staff load the new year with the CLI, on the test's own database
    assert len(demo_data.generate()[1]) == demo_data.RESIDENTS == 3728
    budget_file = tmp_path / f"budget{YEAR}.csv"
    budget_file.write_text(BUDGET_CSV, encoding="utf-8")
    assert cli("import", "budget", str(budget_file), cwd=tmp_path, db_url=db_url) == (
        f"budget {YEAR} version 1: 5 line(s), 1 project(s)\n"
    )
    well = await repos.budget.project_by_code(demo.id, "WELL")
    assert well is not None and well.id == 6  # after the demo's projects 1..5

    # --- BUDGET by SMS from the demo resident (Ak-Chiy): members × 1,000 som
    members, share = hand_share(demo_data.RESIDENT_PHONE)
    assert share == members * 1000
    reply = await sms.send(demo_data.RESIDENT_PHONE, "BUDGET")
    assert reply.startswith(
        f"Бюджет {YEAR}: киреше 3,7 млн, чыгаша 3,7 млн сом. Чыгашадан: Ак-Чий 0, "
        f"үйүңүзгө ({members} киши) {som(share)}."
    ), reply
    size = sms_size(reply)
    assert size.encoding == "UCS-2" and size.segments <= 2, size

    # --- BUDGET by Telegram from a linked Kachybek resident: HTML summary + chart
    phone = kachybek_resident()
    tg_members, tg_share = hand_share(phone)
    assert tg_members >= 3 and tg_share == tg_members * 1000
    linked = await repos.residents.by_phone(demo.id, phone)
    assert linked is not None
    await repos.residents.link_telegram(linked.id, TELEGRAM_USER, now=iso(clock.now()))
    dp = build_dispatcher(repos=repos, renderer=renderer, clock=clock)
    dp["charts"] = ChartCache()
    user = Person(dp, bot, api, TELEGRAM_USER)
    await user.say("/budget")
    [summary] = user.calls("sendMessage")
    assert summary.params["parse_mode"] == "HTML"
    text = summary.params["text"]
    assert f"<b>Бюджет {YEAR}</b>" in text
    assert f"<b>Качыбек айылына</b>: {som(728_000)}" in text
    assert f"<b>{YEAR}-жылдын чыгашасынан үй-бүлөңүздүн үлүшү: {som(tg_share)}</b>" in text
    assert f"(киши башына {som(1000)} × {tg_members} киши)" in text
    assert f"6. Kachybek well — {som(150_000)}, аткарылууда" in text
    [photo] = user.calls("sendPhoto")
    [upload] = photo.files.values()
    assert upload.data.startswith(PNG_SIGNATURE)

    # --- PROJECT 6 by SMS: the cost and the funding by source
    assert await sms.send(demo_data.RESIDENT_PHONE, "PROJECT 6") == (
        f"№6 Kachybek well: {som(150_000)}, аткарылууда. "
        f"Local budget 100{NBSP}000; ARIS 50{NBSP}000"
    )

    # --- a monitoring-group member files an act; any resident reads it
    monitor = demo_data.MONITOR_PHONES[3]
    filed = await sms.send(monitor, "ACT 6 PURCHASE Pump bought for 40000 som")
    assert filed.startswith("Акт №") and filed.endswith(
        "(сатып алуу) №6 долбоор боюнча катталды."
    ), filed
    refused = await sms.send(demo_data.RESIDENT_PHONE, "ACT 6 PURCHASE fake")
    assert "катталды" not in refused  # not a monitor: nothing filed
    assert await sms.send(demo_data.RESIDENT_PHONE, "ACTS 6") == (
        f"№6 акттар: {clock.now():%d.%m.%Y} сатып алуу: Pump bought for 40000 som"
    )

    # --- a rating round: staff open it, two residents rate (one changes their mind); round 1
    # is the demo's closed one
    assert cli(
        "rating", "open", "--name", "Spring", "--service", "Water", "--service", "Roads",
        cwd=tmp_path, db_url=db_url,
    ) == "rating round 2 open with 2 service(s)\n"  # fmt: skip
    assert (await sms.send(demo_data.RESIDENT_PHONE, "R 1 4")).endswith("«Water»: 4/5.")
    assert (await sms.send(phone, "R 1 2")).endswith("«Water»: 2/5.")
    assert (await sms.send(demo_data.RESIDENT_PHONE, "R 1 5")).endswith("«Water»: 5/5.")
    exported = cli("rating", "export", cwd=tmp_path, db_url=db_url)
    rows = list(csv.reader(io.StringIO(exported)))
    assert rows[0] == ["round", "service", "village", "ratings", "average"]
    assert [row for row in rows if row[0] == "2. Spring"] == [
        ["2. Spring", "Water", "all", "2", "3.50"],  # the last rating counts: (5 + 2) / 2
        ["2. Spring", "Water", "Ak-Chiy", "1", "5.00"],
        ["2. Spring", "Water", "Kachybek", "1", "2.00"],
    ]
