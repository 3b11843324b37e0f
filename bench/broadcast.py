"""Benchmark a staff broadcast to the demo municipality at a channel's configured limit.

One broadcast is queued and the real :class:`~bot.outbox.worker.OutboxWorker` drains it
through the channel's sender against a fake enforcing the provider's limit (real clock, real
network on 127.0.0.1, one process):

- ``--gateway telegram`` (default): every resident (3,728) linked to a Telegram chat;
  ``TelegramSender`` over aiogram, ``ChannelLimit(30, 1)``, against ``FakeTelegramAPI``
  answering 429 above 30 messages a second overall and 1 a second per chat.
- ``--gateway smpp``: nobody linked, so the broadcast goes by SMS;
  :class:`~bot.channels.smpp.SmppChannel` bound to the SMSC simulator (``tests/fakes/smsc.py``,
  SMPP over TCP) that throttles above ``--tps`` submits a second; channel and worker set to the
  same ``--tps``. A Cyrillic text over 70 characters is 2 submits, so the limit is counted in
  submits.
- ``--gateway android``: by SMS through :class:`~bot.channels.android.AndroidSender` over
  ``--phones`` fakes of the SMS Gateway for Android, each answering 429 above
  ``--per-minute`` messages a minute; the worker's limit is their sum.

Printed: recipients, elapsed (worker start to the last message the fake accepted), achieved
rate against the limit, throttling answers, lost recipients (no message at the fake) and
duplicates.

Target (issues: broadcast, 17): at least 95 % of the limit, nothing lost, throttling answers
at most 1 % of the requests.

Run from the repository root: ``python bench/broadcast.py`` (about two minutes; ``--recipients
300`` for a quick run), ``python bench/broadcast.py --gateway smpp --tps 50``, ``python
bench/broadcast.py --gateway android --recipients 600 --phones 5 --per-minute 60``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.channels.android import AndroidPhone, AndroidSender
from bot.channels.events import Event
from bot.channels.smpp import SmppChannel, pdu
from bot.channels.smpp.text import ESM_UDHI, split_udh
from bot.channels.telegram.sender import TelegramSender
from bot.core.clock import SystemClock, iso
from bot.core.services import broadcast, demo_data
from bot.outbox.channel import Sender
from bot.outbox.worker import ChannelLimit, OutboxWorker
from storage.db import connect
from storage.migrate import migrate
from storage.models import Broadcast
from storage.repos import Repos
from tests.fakes.android_gateway import FakeAndroidGateway
from tests.fakes.smsc import FakeSMSC, Submit
from tests.fakes.telegram_api import FakeTelegramAPI

TELEGRAM_RATE = 30
CHAT_RATE = 1
FIRST_CHAT = 7_000_000  # chat id = FIRST_CHAT + resident id
BODY = "Бюджеттик угуу жума күнү саат 10:00до айыл өкмөтүндө болот. Келиңиздер!"


async def prepare(
    repos: Repos, recipients: int | None, *, telegram: bool
) -> tuple[Broadcast, set[str]]:
    """Demo data, every (or the first N) resident a recipient (the others opted out),
    linked to a Telegram chat if ``telegram``; the broadcast and its addresses (chats or
    phones)."""
    clock = SystemClock()
    municipality, _ = await demo_data.ensure_demo(repos, now=clock.now())
    now = iso(clock.now())
    addresses = set()
    async with repos.db.transaction():
        residents = await repos.residents.by_phones(municipality.id)
        for position, (phone, resident) in enumerate(sorted(residents.items())):
            if recipients is not None and position >= recipients:
                await repos.residents.set_opted_out(resident.id, True, now=now)
            elif telegram:
                chat = FIRST_CHAT + resident.id
                await repos.residents.link_telegram(resident.id, chat, now=now)
                addresses.add(str(chat))
            else:
                addresses.add(phone)
    queued = await broadcast.create_broadcast(repos, municipality, body=BODY, now=clock.now())
    return queued.broadcast, addresses


async def drain(
    db_url: str, channel: str, sender: Sender, limit: ChannelLimit, municipality_id: int
) -> tuple[float, float]:
    """Run the worker until the outbox is empty; return when it started (monotonic) and
    how long until the outbox was empty."""
    stop = asyncio.Event()
    async with connect(db_url) as worker_db, connect(db_url) as watch_db:
        worker = OutboxWorker(
            Repos(worker_db),
            {channel: sender},
            {channel: limit},
            municipality_id=municipality_id,
            clock=SystemClock(),
        )
        watch = Repos(watch_db)
        start = time.monotonic()
        task = asyncio.create_task(worker.run(stop, idle=0.05))
        while await watch.outbox.pending():
            await asyncio.sleep(0.2)
            if task.done():  # the worker died: show why
                task.result()
        wall = time.monotonic() - start
        stop.set()
        await task
    return start, wall


async def run_telegram(args: argparse.Namespace, db_url: str, queued: Broadcast) -> dict:
    async with FakeTelegramAPI(global_rate=TELEGRAM_RATE, per_chat_rate=CHAT_RATE) as api:
        session = AiohttpSession(api=TelegramAPIServer.from_base(api.base_url))
        sender = TelegramSender(Bot("123456:BENCH", session=session))
        limit = ChannelLimit(TELEGRAM_RATE, CHAT_RATE)
        start, wall = await drain(db_url, "telegram", sender, limit, queued.municipality_id)
        await session.close()
    sent = api.sent_messages()
    return {
        "unit": "msg",
        "limit": TELEGRAM_RATE,
        "start": start,
        "wall": wall,
        "last": max((m.received_at for m in sent), default=start),
        "done": len(sent),
        "requests": api.stats.by_method["sendMessage"],
        "throttled": api.stats.too_many_requests,
        "reached": Counter(str(m.chat_id) for m in sent),
    }


async def ignore(event: Event) -> None:
    """Receipts are not part of this benchmark."""


def _first_part(submit: Submit) -> bool:
    concat, _ = split_udh(submit.short_message) if submit.esm_class & ESM_UDHI else (None, b"")
    return concat is None or concat.number == 1


async def run_smpp(args: argparse.Namespace, db_url: str, queued: Broadcast) -> dict:
    async with FakeSMSC(tps_limit=args.tps) as smsc:
        channel = SmppChannel(smsc.config(tps=args.tps, window=10), on_event=ignore)
        channel.start()
        await channel.wait_bound(5)
        limit = ChannelLimit(args.tps)
        start, wall = await drain(db_url, "sms", channel, limit, queued.municipality_id)
        await channel.close()
    accepted = smsc.accepted
    return {
        "unit": "submits",
        "limit": args.tps,
        "start": start,
        "wall": wall,
        "last": max((s.at for s in accepted), default=start),
        "done": len(accepted),
        "requests": len(smsc.submits),
        "throttled": sum(s.status == pdu.ESME_RTHROTTLED for s in smsc.submits),
        # a message counts as reached by its first part
        "reached": Counter("+" + s.destination_addr for s in accepted if _first_part(s)),
    }


async def run_android(args: argparse.Namespace, db_url: str, queued: Broadcast) -> dict:
    fakes = [
        FakeAndroidGateway(clock=time.monotonic, per_minute=args.per_minute)
        for _ in range(args.phones)
    ]
    for fake in fakes:
        await fake.start()
    try:
        accounts = [AndroidPhone(f.base_url, f.login, f.password, args.per_minute) for f in fakes]
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            sender = AndroidSender(accounts, session)
            limit = args.phones * args.per_minute / 60
            start, wall = await drain(
                db_url, "sms", sender, ChannelLimit(limit), queued.municipality_id
            )
    finally:
        for fake in fakes:
            await fake.stop()
    sent = [m for f in fakes for m in f.messages]
    requests = [status for f in fakes for _, status in f.requests]
    return {
        "unit": "msg",
        "limit": limit,
        "start": start,
        "wall": wall,
        "last": max((m.at for m in sent), default=start),
        "done": len(sent),
        "requests": len(requests),
        "throttled": requests.count(429),
        "reached": Counter(m.phone_numbers[0] for m in sent),
    }


RUNS = {"telegram": run_telegram, "smpp": run_smpp, "android": run_android}


async def main(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        async with connect(db_url) as db:
            await migrate(db)
            repos = Repos(db)
            telegram = args.gateway == "telegram"
            queued, addresses = await prepare(repos, args.recipients, telegram=telegram)
            figures = await RUNS[args.gateway](args, db_url, queued)
            counts = (await broadcast.progress(repos, queued.id)).counts
    reached: Counter[str] = figures["reached"]
    elapsed = figures["last"] - figures["start"]
    limit, unit = figures["limit"], figures["unit"]
    done, requests, throttled = figures["done"], figures["requests"], figures["throttled"]
    # the first send goes at once: n sends at the limit take (n - 1) / limit seconds
    rate = (done - 1) / elapsed if elapsed > 0 else 0.0
    print(f"gateway         {args.gateway}")
    print(f"recipients      {len(addresses)}")
    print(f"elapsed         {elapsed:.1f} s (outbox empty after {figures['wall']:.1f} s)")
    print(f"achieved rate   {rate:.2f} {unit}/s")
    print(f"rate / limit    {rate / limit:.1%} of {limit:g} {unit}/s")
    print(f"requests        {requests}")
    print(f"throttled       {throttled} ({throttled / max(requests, 1):.2%} of requests)")
    print(f"lost            {len(addresses - set(reached))}")
    print(f"duplicates      {sum(n - 1 for n in reached.values() if n > 1)}")
    print(f"outbox          {dict(sorted(counts.items()))}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gateway", choices=sorted(RUNS), default="telegram")
    parser.add_argument("--recipients", type=int, help="only the first N residents")
    parser.add_argument("--tps", type=int, default=10, help="SMPP submits a second")
    parser.add_argument("--phones", type=int, default=3, help="Android phones")
    parser.add_argument("--per-minute", type=int, default=20, help="SMS a minute per phone")
    asyncio.run(main(parser.parse_args()))
