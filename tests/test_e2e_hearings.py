"""A hearing's whole cycle end to end over the fake Telegram and Twilio servers.

create → publish → RSVP by button and by SMS → reminders → check-in → export. Every
step runs in a fresh "process" (new database connection, worker, scheduler, dispatcher
and web app), so a restart between steps must lose nothing and send nothing twice.
Time passes only on the test's clock.
"""

from __future__ import annotations

import random
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
from aiogram import Bot, Dispatcher
from aiohttp.test_utils import TestServer
from twilio.request_validator import RequestValidator

from bot.app import http_app
from bot.channels.telegram.dispatcher import build_dispatcher
from bot.channels.telegram.sender import TelegramSender
from bot.channels.twilio.sender import TwilioSender, twilio_client
from bot.channels.twilio.webhook import NAME as TWILIO
from bot.channels.twilio.webhook import TwilioChannel
from bot.core.clock import iso
from bot.core.rendering.templates import Renderer
from bot.core.services import attendance, demo_data, hearings
from bot.core.services.hearing_jobs import HearingJobs
from bot.core.services.municipalities import choose_municipality
from bot.outbox.worker import ChannelLimit, OutboxWorker
from bot.runtime.scheduling import Scheduler
from bot.runtime.web import WebContext
from storage.db import connect
from storage.migrate import migrate
from storage.models import Municipality
from storage.repos import Repos
from tests.conftest import WINDOW, FakeClock, run_cli
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.twilio_api import FakeTwilioAPI
from tests.fakes.webhooks import (
    DEFAULT_AUTH_TOKEN,
    telegram_callback_update,
    twilio_inbound_form,
    twilio_signed_headers,
)
from tests.telegram_helpers import fake_bot, feed_update

FROM = "+996312000000"
PUBLIC = "https://bot.example.kg"
TZ = ZoneInfo("Asia/Bishkek")
VILLAGE = "Kachybek"
TG_BASE = 7_000_000  # Telegram user id = TG_BASE + resident id


@dataclass
class Process:
    """One run of the bot: its own connection, worker, scheduler, dispatcher, web app."""

    repos: Repos
    municipality: Municipality
    worker: OutboxWorker
    scheduler: Scheduler
    dp: Dispatcher
    bot: Bot
    server: TestServer
    http: aiohttp.ClientSession

    async def drain(self) -> int:
        return await self.worker.drain_channel("telegram") + await self.worker.drain_channel("sms")

    async def press(self, data: str, user: int, message_id: int) -> None:
        update = telegram_callback_update(data, user, message_id=message_id)
        await feed_update(self.dp, self.bot, update)

    async def sms(self, phone: str, body: str) -> str:
        form = twilio_inbound_form(phone, FROM, body)
        headers = twilio_signed_headers(DEFAULT_AUTH_TOKEN, PUBLIC + "/sms/twilio", form)
        url = str(self.server.make_url("/sms/twilio"))
        async with self.http.post(url, data=form, headers=headers) as resp:
            assert resp.status == 200
            return await resp.text()


@asynccontextmanager
async def process(
    db_url: str,
    clock: FakeClock,
    renderer: Renderer,
    telegram: FakeTelegramAPI,
    twilio: FakeTwilioAPI,
) -> AsyncIterator[Process]:
    async with connect(db_url) as db:
        repos = Repos(db)
        await migrate(db)
        municipality = await choose_municipality(repos, None)
        bot = fake_bot(telegram)
        sms = TwilioSender(
            twilio_client(twilio.account_sid, twilio.auth_token, twilio.base_url),
            from_number=FROM,
            messaging_service_sid=None,
            status_callback=f"{PUBLIC}/sms/twilio/status",
        )

        async def sleep(seconds: float) -> None:  # time passes only on the test's clock
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
        ctx = WebContext(
            repos=repos,
            renderer=renderer,
            clock=clock,
            municipality=municipality,
            channels={TWILIO: TwilioChannel(RequestValidator(DEFAULT_AUTH_TOKEN))},
            public_base_url=PUBLIC,
        )
        server = TestServer(http_app(ctx), host="127.0.0.1")
        await server.start_server()
        try:
            async with aiohttp.ClientSession() as http:
                yield Process(
                    repos=repos,
                    municipality=municipality,
                    worker=worker,
                    scheduler=Scheduler([HearingJobs(repos, renderer, TZ)], clock),
                    dp=build_dispatcher(repos=repos, renderer=renderer, clock=clock),
                    bot=bot,
                    server=server,
                    http=http,
                )
        finally:
            await server.close()
            await bot.session.close()
            await sms.close()


def sent_counts(telegram: FakeTelegramAPI, twilio: FakeTwilioAPI) -> tuple[int, int]:
    return len(telegram.sent_messages()), len(twilio.created)


def no_duplicates(telegram: FakeTelegramAPI, twilio: FakeTwilioAPI) -> None:
    assert telegram.duplicates() == {}
    assert twilio.duplicates() == {}


async def outbox_bodies(repos: Repos, pattern: str) -> dict[str, list[str]]:
    """Address -> bodies (in part order) of the outbox rows whose key matches ``pattern``."""
    rows = await repos.db.fetchall(
        "SELECT address, body FROM outbox WHERE dedupe_key LIKE ? ORDER BY id", (pattern,)
    )
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(str(row["address"]), []).append(row["body"])
    return found


def received(telegram: FakeTelegramAPI, twilio: FakeTwilioAPI, since: tuple[int, int]):
    """Address -> texts delivered by the fakes after ``since`` (a ``sent_counts``)."""
    got: dict[str, list[str]] = {}
    for message in telegram.sent_messages()[since[0] :]:
        got.setdefault(str(message.chat_id), []).append(message.text or "")
    for message in twilio.created[since[1] :]:
        got.setdefault(message["to"], []).append(message["body"])
    return got


def plain(text: str) -> str:
    return re.sub(r"<[^>]+>", "", text).replace("&lt;", "<").replace("&gt;", ">")


def same_texts(got: dict[str, list[str]], queued: dict[str, list[str]]) -> None:
    """Each address got exactly what was queued for it, once (Telegram HTML as plain text)."""
    assert got.keys() == queued.keys()
    for address, bodies in queued.items():
        assert [plain(t) for t in got[address]] == [plain(b) for b in bodies], address


async def test_a_hearing_from_creation_to_export_survives_restarts(
    db_url: str, clock: FakeClock, renderer: Renderer, tmp_path: Path
) -> None:
    async with FakeTelegramAPI() as telegram, FakeTwilioAPI(owned_numbers={FROM}) as twilio:

        def run():
            return process(db_url, clock, renderer, telegram, twilio)

        # --- set up: the demo town; five residents of the village link Telegram ----------
        async with connect(db_url) as db:
            await migrate(db)
            await demo_data.ensure_demo(Repos(db), now=clock.now())
        async with run() as p:
            rows = await p.repos.db.fetchall(
                "SELECT r.id, r.phone, r.gender FROM residents r"
                " JOIN villages v ON v.id = r.village_id"
                " WHERE v.name = ? AND r.opted_out = FALSE ORDER BY r.id",
                (VILLAGE,),
            )
            village = {row["id"]: (row["phone"], row["gender"]) for row in rows}
            tg_yes, tg_no, tg_maybe, tg_silent, sms_yes, sms_no = list(village)[:6]
            linked = {tg_yes, tg_no, tg_maybe, tg_silent}
            for rid in linked:
                await p.repos.residents.link_telegram(rid, TG_BASE + rid, now=iso(clock.now()))

            # --- create and publish -------------------------------------------------------
            starts = datetime(2026, 12, 5, 10, 0, tzinfo=TZ)
            hearing = await hearings.create_hearing(
                p.repos,
                p.municipality,
                kind="formation",
                starts_at=starts,
                place="Kachybek village club",
                village=VILLAGE,
                now=clock.now(),
            )
            queued = await hearings.publish(p.repos, renderer, hearing, now=clock.now())
            assert queued >= len(village)
            before = sent_counts(telegram, twilio)
            await p.drain()
            invites = await outbox_bodies(p.repos, f"hearing:{hearing.id}:invite:%")

        def address(rid: int) -> str:
            return str(TG_BASE + rid) if rid in linked else village[rid][0]

        # every invited resident got exactly one invitation, on their channel
        got = received(telegram, twilio, before)
        assert set(got) == {address(rid) for rid in village}
        same_texts(got, invites)
        invitations = {int(c.params["chat_id"]): c for c in telegram.calls("sendMessage")}
        for rid in linked:
            markup = invitations[TG_BASE + rid].params["reply_markup"]
            data = [b["callback_data"] for row in markup["inline_keyboard"] for b in row]
            assert data == [f"rsvp:{hearing.id}:{a}" for a in ("yes", "no", "maybe")]
        message_ids = {
            m.chat_id: m.message_id for m in telegram.sent_messages() if m.method == "sendMessage"
        }
        no_duplicates(telegram, twilio)

        # --- restart: publishing again and draining again sends nothing ---------------------
        async with run() as p:
            assert await hearings.publish(p.repos, renderer, hearing, now=clock.now()) == 0
            assert await p.scheduler.run_due() == {}
            sent = sent_counts(telegram, twilio)
            assert await p.drain() == 0
            assert sent_counts(telegram, twilio) == sent

        # --- RSVP: buttons in Telegram, YES / NO by SMS --------------------------------------
        clock.advance(hours=5)
        async with run() as p:
            for rid, answer in ((tg_yes, "yes"), (tg_no, "no"), (tg_maybe, "maybe")):
                user = TG_BASE + rid
                await p.press(f"rsvp:{hearing.id}:{answer}", user, message_ids[user])
            yes_reply = await p.sms(village[sms_yes][0], "YES")
            await p.sms(village[sms_no][0], "NO")
            answers = {
                rid: await p.repos.hearings.rsvp(hearing.id, rid)
                for rid in (tg_yes, tg_no, tg_maybe, tg_silent, sms_yes, sms_no)
            }
        assert {rid: a and a.answer for rid, a in answers.items()} == {
            tg_yes: "yes",
            tg_no: "no",
            tg_maybe: "maybe",
            tg_silent: None,
            sms_yes: "yes",
            sms_no: "no",
        }
        sms_code = answers[sms_yes].code  # type: ignore[union-attr]
        assert sms_code in yes_reply and "<Response><Message>" in yes_reply
        edits = {
            int(c.params["chat_id"]): c.params["text"] for c in telegram.calls("editMessageText")
        }
        assert edits.keys() == {TG_BASE + tg_yes, TG_BASE + tg_no, TG_BASE + tg_maybe}
        assert answers[tg_yes].code in edits[TG_BASE + tg_yes]  # type: ignore[union-attr]

        # --- three days before: a reminder to yes, maybe and those who did not answer ------
        async def remind(at: datetime, job: str, wanted: set[int]) -> None:
            clock.current = at.astimezone(UTC)
            before = sent_counts(telegram, twilio)
            async with run() as p:
                ran = await p.scheduler.run_due()
                key = f"hearing:{hearing.id}:r{hearing.revision}:{job}"
                assert ran[key] > 0
                await p.drain()
                queued = await outbox_bodies(p.repos, f"{key}:%")
            got = received(telegram, twilio, before)
            assert set(got) == {address(rid) for rid in wanted}
            same_texts(got, queued)
            no_duplicates(telegram, twilio)
            # restart: the scheduler forgot what it ran, the outbox did not
            sent = sent_counts(telegram, twilio)
            async with run() as p:
                again = await p.scheduler.run_due()
                assert again[key] == 0 and not any(again.values())
                assert await p.drain() == 0
            assert sent_counts(telegram, twilio) == sent

        answered_no = {tg_no, sms_no}
        await remind(starts - timedelta(days=3), "remind-early", set(village) - answered_no)
        # --- the morning of the day: only yes and maybe ---------------------------------------
        await remind(
            datetime(2026, 12, 5, 8, 0, tzinfo=TZ), "remind-today", {tg_yes, tg_maybe, sms_yes}
        )

        # --- check-in at the door: by code, by phone, a deputy, a walk-in -------------------
        clock.current = (starts + timedelta(minutes=5)).astimezone(UTC)
        deputy_phone = demo_data.DEPUTY_PHONES[0]
        async with run() as p:
            hearing = await hearings.get_hearing(p.repos, p.municipality, hearing.id)
            by_code = await attendance.check_in(
                p.repos, p.municipality, hearing, now=clock.now(), window=WINDOW, code=sms_code
            )
            by_phone = await attendance.check_in(
                p.repos,
                p.municipality,
                hearing,
                now=clock.now(),
                window=WINDOW,
                phone=village[tg_yes][0],
            )
            deputy = await attendance.check_in(
                p.repos, p.municipality, hearing, now=clock.now(), window=WINDOW, phone=deputy_phone
            )
            walk_in = await attendance.check_in(
                p.repos, p.municipality, hearing, now=clock.now(), window=WINDOW, walk_in_gender="f"
            )
            assert all(c.first_time for c in (by_code, by_phone, deputy, walk_in))
            deputy_resident = await p.repos.residents.by_phone(p.municipality.id, deputy_phone)
            assert deputy_resident is not None
        async with run() as p:  # counted once, even after a restart
            again = await attendance.check_in(
                p.repos, p.municipality, hearing, now=clock.now(), window=WINDOW, code=sms_code
            )
            assert not again.first_time
            report = await hearings.report(p.repos, hearing)
        women = sum(village[rid][1] == "f" for rid in (sms_yes, tg_yes))
        women += (deputy_resident.gender == "f") + 1
        assert (report.participants, report.women, report.deputies) == (4, women, 1)

        # --- export: the CLI, as staff run it -----------------------------------------------
        result = run_cli("hearing", "export", cwd=tmp_path, env={"DATABASE_URL": db_url})
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[0] == "date,kind,participants,women,deputies"
        assert f"2026-12-05,formation,4,{women},1" in lines[1:]
        assert len(lines) == 1 + 5 + 1  # the five seed hearings and ours
        no_duplicates(telegram, twilio)
