"""Benchmark a staff broadcast to the demo municipality by SMS through a gateway beside Twilio.

No resident is linked to Telegram, so the broadcast goes by SMS; the real
:class:`~bot.outbox.worker.OutboxWorker` drains it through the gateway's channel:

- ``--gateway smpp``: :class:`~bot.channels.smpp.SmppChannel` bound to the SMSC simulator
  (``tests/fakes/smsc.py``, real SMPP over TCP on 127.0.0.1) that throttles above ``--tps``
  submits a second; channel and worker set to the same ``--tps``. A Cyrillic text over 70
  characters is 2 submits, so the limit is counted in submits.
- ``--gateway android``: :class:`~bot.channels.android.AndroidSender` over ``--phones`` fakes
  of the SMS Gateway for Android (real HTTP on 127.0.0.1), each answering 429 above
  ``--per-minute`` messages a minute; the worker's limit is their sum.

Real clock, one process. Printed: recipients, elapsed (worker start to the last message the
gateway accepted), achieved rate against the limit, throttling answers, lost recipients (no
message at the gateway) and duplicates.

Target (issue 17): at least 95 % of the configured limit, nothing lost, throttling answers at
most 1 % of the requests.

Run from the repository root, e.g. ``python bench/gateways.py --gateway smpp --recipients 500
--tps 50`` or ``python bench/gateways.py --gateway android --recipients 200 --phones 5
--per-minute 60``.
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

from bot.channels.android import AndroidPhone, AndroidSender
from bot.channels.events import Event
from bot.channels.smpp import SmppChannel, pdu
from bot.channels.smpp.text import ESM_UDHI, split_udh
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

BODY = "Бюджеттик угуу жума күнү саат 10:00до айыл өкмөтүндө болот. Келиңиздер!"


async def prepare(repos: Repos, recipients: int | None) -> tuple[Broadcast, set[str]]:
    """Demo data, every (or the first N) resident reached by SMS; the broadcast and phones."""
    clock = SystemClock()
    municipality, _ = await demo_data.ensure_demo(repos, now=clock.now())
    now = iso(clock.now())
    phones = set()
    async with repos.db.transaction():
        residents = await repos.residents.by_phones(municipality.id)
        for position, (phone, resident) in enumerate(sorted(residents.items())):
            if recipients is not None and position >= recipients:
                await repos.residents.set_opted_out(resident.id, True, now=now)
            else:
                phones.add(phone)
    queued = await broadcast.create_broadcast(repos, municipality, body=BODY, now=clock.now())
    return queued.broadcast, phones


async def drain(db_url: str, sender: Sender, rate: float, municipality_id: int) -> float:
    """Run the worker until the outbox is empty; return when it started (monotonic)."""
    stop = asyncio.Event()
    async with connect(db_url) as worker_db, connect(db_url) as watch_db:
        worker = OutboxWorker(
            Repos(worker_db),
            {"sms": sender},
            {"sms": ChannelLimit(rate)},
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
        stop.set()
        await task
    return start


async def ignore(event: Event) -> None:
    """Receipts are not part of this benchmark."""


def _first_part(submit: Submit) -> bool:
    concat, _ = split_udh(submit.short_message) if submit.esm_class & ESM_UDHI else (None, b"")
    return concat is None or concat.number == 1


async def run_smpp(args: argparse.Namespace, db_url: str, queued: Broadcast) -> dict[str, object]:
    async with FakeSMSC(tps_limit=args.tps) as smsc:
        channel = SmppChannel(smsc.config(tps=args.tps, window=10), on_event=ignore)
        channel.start()
        await channel.wait_bound(5)
        start = await drain(db_url, channel, args.tps, queued.municipality_id)
        await channel.close()
    accepted = smsc.accepted
    return {
        "unit": "submits",
        "limit": args.tps,
        "start": start,
        "last": max((s.at for s in accepted), default=start),
        "done": len(accepted),
        "requests": len(smsc.submits),
        "throttled": sum(s.status == pdu.ESME_RTHROTTLED for s in smsc.submits),
        # a message counts as reached by its first part
        "reached": Counter("+" + s.destination_addr for s in accepted if _first_part(s)),
    }


async def run_android(
    args: argparse.Namespace, db_url: str, queued: Broadcast
) -> dict[str, object]:
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
            start = await drain(db_url, sender, limit, queued.municipality_id)
    finally:
        for fake in fakes:
            await fake.stop()
    sent = [m for f in fakes for m in f.messages]
    requests = [status for f in fakes for _, status in f.requests]
    return {
        "unit": "messages",
        "limit": limit,
        "start": start,
        "last": max((m.at for m in sent), default=start),
        "done": len(sent),
        "requests": len(requests),
        "throttled": requests.count(429),
        "reached": Counter(m.phone_numbers[0] for m in sent),
    }


async def main(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        async with connect(db_url) as db:
            await migrate(db)
            repos = Repos(db)
            queued, phones = await prepare(repos, args.recipients)
            run = run_smpp if args.gateway == "smpp" else run_android
            figures = await run(args, db_url, queued)
            counts = (await broadcast.progress(repos, queued.id)).counts
    reached: Counter[str] = figures["reached"]  # type: ignore[assignment]
    elapsed = float(figures["last"]) - float(figures["start"])  # type: ignore[arg-type]
    limit = float(figures["limit"])  # type: ignore[arg-type]
    done, requests = int(figures["done"]), int(figures["requests"])  # type: ignore[call-overload]
    # the first send goes at once: n sends at the limit take (n - 1) / limit seconds
    rate = (done - 1) / elapsed if elapsed > 0 else 0.0
    throttled = int(figures["throttled"])  # type: ignore[call-overload]
    print(f"gateway         {args.gateway}")
    print(f"recipients      {len(phones)}")
    print(f"elapsed         {elapsed:.1f} s")
    print(f"achieved rate   {rate:.2f} {figures['unit']}/s")
    print(f"rate / limit    {rate / limit:.1%} of {limit:g} {figures['unit']}/s")
    print(f"requests        {requests}")
    print(f"throttled       {throttled} ({throttled / max(requests, 1):.2%} of requests)")
    print(f"lost            {len(phones - set(reached))}")
    print(f"duplicates      {sum(n - 1 for n in reached.values() if n > 1)}")
    print(f"outbox          {dict(sorted(counts.items()))}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gateway", choices=["smpp", "android"], required=True)
    parser.add_argument("--recipients", type=int, help="only the first N residents")
    parser.add_argument("--tps", type=int, default=10, help="SMPP submits a second")
    parser.add_argument("--phones", type=int, default=3, help="Android phones")
    parser.add_argument("--per-minute", type=int, default=20, help="SMS a minute per phone")
    asyncio.run(main(parser.parse_args()))
