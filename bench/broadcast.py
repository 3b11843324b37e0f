"""Benchmark a staff broadcast to every resident of the demo municipality over Telegram.

Every resident of the demo municipality (3,728) is linked to a Telegram chat; one broadcast
is queued and the real :class:`~bot.outbox.worker.OutboxWorker` (``TelegramSender`` over
aiogram, ``ChannelLimit(30, 1)``) drains it through ``FakeTelegramAPI`` enforcing Telegram's
limits, 30 messages a second overall and 1 a second per chat (sliding one-second windows,
real clock, real HTTP on 127.0.0.1, in this process). Printed: recipients, elapsed (from the
worker's start to the last message the fake accepted), achieved rate and its ratio to the
limit, the 429s the fake answered, lost recipients (no message at the fake) and duplicates.

Target (issue: broadcast): at least 95 % of the limit (3,728 in at most 131 s), nothing
lost, 429s at most 1 % of the requests.

Run from the repository root: ``python bench/broadcast.py`` (about two minutes), or
``python bench/broadcast.py --recipients 300`` for a quick run.
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

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.channels.telegram.sender import TelegramSender
from bot.core.clock import SystemClock, iso
from bot.core.services import broadcast, demo_data
from bot.outbox.worker import ChannelLimit, OutboxWorker
from storage.db import connect
from storage.migrate import migrate
from storage.models import Broadcast
from storage.repos import Repos
from tests.fakes.telegram_api import FakeTelegramAPI

RATE = 30
CHAT_RATE = 1
FIRST_CHAT = 7_000_000  # chat id = FIRST_CHAT + resident id
BODY = "Бюджеттик угуу жума күнү саат 10:00до айыл өкмөтүндө болот. Келиңиздер!"


async def prepare(repos: Repos, recipients: int | None) -> tuple[Broadcast, set[str]]:
    """Demo data, every (or the first N) resident linked; return the broadcast and chats."""
    clock = SystemClock()
    municipality, _ = await demo_data.ensure_demo(repos, now=clock.now())
    now = iso(clock.now())
    chats = set()
    async with repos.db.transaction():
        residents = await repos.residents.by_phones(municipality.id)
        for position, resident_id in enumerate(sorted(r.id for r in residents.values())):
            if recipients is not None and position >= recipients:
                await repos.residents.set_opted_out(resident_id, True, now=now)
                continue
            await repos.residents.link_telegram(resident_id, FIRST_CHAT + resident_id, now=now)
            chats.add(str(FIRST_CHAT + resident_id))
    queued = await broadcast.create_broadcast(repos, municipality, body=BODY, now=clock.now())
    return queued.broadcast, chats


async def drain(db_url: str, api: FakeTelegramAPI, municipality_id: int) -> tuple[float, float]:
    """Run the worker until the outbox is empty; return (elapsed to last accepted, wall)."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(api.base_url))
    bot = Bot("123456:BENCH", session=session)
    stop = asyncio.Event()
    async with connect(db_url) as worker_db, connect(db_url) as watch_db:
        worker = OutboxWorker(
            Repos(worker_db),
            {"telegram": TelegramSender(bot)},
            {"telegram": ChannelLimit(RATE, CHAT_RATE)},
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
    await session.close()
    last = max((m.received_at for m in api.sent_messages()), default=start)
    return last - start, wall


async def main(recipients: int | None) -> None:
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        async with connect(db_url) as db:
            await migrate(db)
            repos = Repos(db)
            queued, chats = await prepare(repos, recipients)
            async with FakeTelegramAPI(global_rate=RATE, per_chat_rate=CHAT_RATE) as api:
                elapsed, wall = await drain(db_url, api, queued.municipality_id)
            counts = (await broadcast.progress(repos, queued.id)).counts
    requests = api.stats.by_method["sendMessage"]
    too_many = api.stats.too_many_requests
    reached = {str(m.chat_id) for m in api.sent_messages()}
    per_chat = Counter(str(m.chat_id) for m in api.sent_messages())
    duplicates = sum(n - 1 for n in per_chat.values() if n > 1)
    rate = len(chats) / elapsed if elapsed > 0 else 0.0
    print(f"recipients      {len(chats)}")
    print(f"elapsed         {elapsed:.1f} s (outbox empty after {wall:.1f} s)")
    print(f"achieved rate   {rate:.2f} msg/s")
    print(f"rate / limit    {rate / RATE:.1%} of {RATE} msg/s")
    print(f"requests        {requests}")
    print(f"429s received   {too_many} ({too_many / max(requests, 1):.2%} of requests)")
    print(f"lost            {len(chats - reached)}")
    print(f"duplicates      {duplicates}")
    print(f"outbox          {dict(sorted(counts.items()))}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--recipients", type=int, help="link and broadcast to only the first N residents"
    )
    args = parser.parse_args()
    asyncio.run(main(args.recipients))
