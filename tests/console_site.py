"""The staff console served as ``civic-bot run`` serves it (bot.app.web_app) on 127.0.0.1,
over the demo municipality, with an outbox worker that delivers to the fake Telegram and
Twilio servers: for tests/test_console.py and the browser tests."""

from __future__ import annotations

import random
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from aiohttp.test_utils import TestServer

from bot.app import web_app
from bot.channels.telegram.files import file_fetcher
from bot.channels.telegram.sender import TelegramSender
from bot.channels.twilio.sender import TwilioSender, twilio_client
from bot.config import Settings
from bot.core.clock import iso
from bot.core.rendering.templates import Renderer
from bot.core.services import demo_data, hearings
from bot.core.services.municipalities import choose_municipality
from bot.outbox.worker import ChannelLimit, OutboxWorker
from bot.runtime.web import WebContext
from storage.db import connect
from storage.migrate import migrate
from storage.models import Hearing, Municipality
from storage.repos import Repos
from tests.conftest import FakeClock
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.twilio_api import FakeTwilioAPI
from tests.processes import TEST_BALLOT_KEY
from tests.telegram_helpers import fake_bot

FROM = "+996312000000"
#: a staff member who signs in by SMS, and one who has linked Telegram
SMS_STAFF = demo_data.STAFF_PHONES[3]
TELEGRAM_STAFF = demo_data.STAFF_PHONES[4]
TELEGRAM_USER = 7_100_001
#: in the register, not staff
RESIDENT = "+996700000100"


@dataclass
class Site:
    repos: Repos
    municipality: Municipality
    worker: OutboxWorker
    telegram: FakeTelegramAPI
    twilio: FakeTwilioAPI
    base_url: str
    clock: FakeClock

    @property
    def staff_url(self) -> str:
        return self.base_url + "/staff/"

    async def deliver(self) -> None:
        """Hand every queued message to the fake providers."""
        await self.worker.drain_channel("telegram")
        await self.worker.drain_channel("sms")

    def sms_code(self, phone: str) -> str:
        """The last sign-in code the fake Twilio delivered to ``phone``."""
        return _code(self.twilio.messages_to(phone)[-1])

    def telegram_code(self, chat_id: int) -> str:
        return _code(self.telegram.messages_to(chat_id)[-1] or "")

    async def hearing_today(self) -> Hearing:
        """A hearing starting in an hour, open for answers (no invitations sent)."""
        hearing = await hearings.create_hearing(
            self.repos,
            self.municipality,
            kind="formation",
            starts_at=self.clock.now() + timedelta(hours=1),
            place="Айыл өкмөтүнүн залы",
            now=self.clock.now(),
        )
        await self.repos.hearings.set_status(hearing.id, "published")
        return await hearings.get_hearing(self.repos, self.municipality, hearing.id)

    async def rsvp_code(self, hearing: Hearing, phone: str) -> str:
        """``phone``'s resident answers yes; their check-in code."""
        resident = await self.repos.residents.by_phone(self.municipality.id, phone)
        assert resident is not None
        _, code = await hearings.answer(
            self.repos, self.municipality, resident, hearing.id, "yes", now=self.clock.now()
        )
        return code

    async def count(self, sql: str, *args: object) -> int:
        return int(await self.repos.db.fetchval(sql, args))


def _code(text: str) -> str:
    found = re.search(r"\b(\d{6})\b", re.sub(r"<[^>]+>", "", text))
    assert found, text
    return found[1]


@asynccontextmanager
async def console_site(
    db_url: str,
    clock: FakeClock,
    renderer: Renderer,
    *,
    public_base_url: str = "http://127.0.0.1",
    **settings: object,
) -> AsyncIterator[Site]:
    """The demo municipality (with TELEGRAM_STAFF linked to Telegram) and its web app."""
    config = Settings(public_base_url=public_base_url, **settings)  # type: ignore[arg-type]
    async with (
        FakeTelegramAPI() as telegram,
        FakeTwilioAPI(owned_numbers={FROM}) as twilio,
        connect(db_url) as db,
    ):
        await migrate(db)
        repos = Repos(db, TEST_BALLOT_KEY)
        await demo_data.ensure_demo(repos, now=clock.now())
        municipality = await choose_municipality(repos, None)
        linked = await repos.residents.by_phone(municipality.id, TELEGRAM_STAFF)
        assert linked is not None
        await repos.residents.link_telegram(linked.id, TELEGRAM_USER, now=iso(clock.now()))
        bot = fake_bot(telegram)
        sms = TwilioSender(
            twilio_client(twilio.account_sid, twilio.auth_token, twilio.base_url),
            from_number=FROM,
            messaging_service_sid=None,
            status_callback=None,
        )

        async def sleep(seconds: float) -> None:
            clock.advance(seconds=seconds)

        worker = OutboxWorker(
            repos,
            {"telegram": TelegramSender(bot), "sms": sms},
            {"telegram": ChannelLimit(30, 1), "sms": ChannelLimit(100)},
            municipality_id=municipality.id,
            clock=clock,
            sleep=sleep,
            rng=random.Random(1),
        )
        ctx = WebContext(repos=repos, renderer=renderer, clock=clock, municipality=municipality)
        server = TestServer(web_app(ctx, config, photos=file_fetcher(bot)), host="127.0.0.1")
        await server.start_server()
        try:
            yield Site(
                repos, municipality, worker, telegram, twilio, str(server.make_url("")).rstrip("/"),
                clock,
            )  # fmt: skip
        finally:
            await server.close()
            await bot.session.close()
            await sms.close()
