"""Load and memory: a national broadcast over a register of N residents in M municipalities.

1. Generate the register fast, straight through the storage layer (``create_municipality``,
   ``HouseholdRepo.insert_many`` and one ``Database.insert_many`` of residents per
   20,000), half of the residents linked to a Telegram chat so that both channels are used.
2. Enqueue a national broadcast: one ``bot.core.services.broadcast.create_broadcast`` per
   municipality, in a fresh process (its time and its peak RSS are printed).
3. Drain: ``python -m bot run`` (configured by the environment only, ``MUNICIPALITY`` set to
   the first municipality: several exist) sends that municipality's messages, as each
   municipality's own process would (its bot, its number), out of the whole national
   outbox, to ``FakeTelegramAPI`` and ``FakeTwilioAPI`` in this process on 127.0.0.1,
   neither limiting the rate, with ``TELEGRAM_RATE`` and ``TWILIO_RATE`` high; for a bounded
   window (default 30 s from the first message at the fakes, or until all of them
   arrived) the messages per second are counted, and the process's RSS is sampled every
   0.1 s and its peak read from ``/proc/PID/status`` (``VmHWM``). Then a resident of that
   municipality asks for the budget in Telegram (``BUDGET``: the summary and its chart,
   drawn with matplotlib in a short-lived child process), and the peak is read again
   before the process is stopped with SIGTERM.

Target (issue: load and memory): peak RSS of ``civic-bot run`` at most 150 MB and flat
from 3,728 to 1,000,000 residents (nothing loads the register into memory).

Run from the repository root::

    python bench/load.py --residents 3728 --municipalities 1
    python bench/load.py --residents 1000000 --municipalities 300

The database (SQLite, about 1 GB for 1,000,000 residents and their outbox) is made in a
temporary directory (``--workdir`` to choose where) and deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.core.clock import SystemClock, iso
from bot.core.services import broadcast
from bot.core.services.budget_import import import_budget
from bot.core.services.municipalities import create_municipality
from storage.db import connect
from storage.migrate import migrate
from storage.repos import Repos
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.twilio_api import FakeTwilioAPI
from tests.fakes.webhooks import telegram_message_update
from tests.processes import child_env, start_run, telegram_env, twilio_env

SCRIPT = Path(__file__).resolve()
FROM_NUMBER = "+15005550006"
FIRST_CHAT = 7_000_000_000  # chat id = FIRST_CHAT + resident number
#: one SMS segment, no HTML specials
BODY = "Бюджеттик угуу жума күнү саат 10:00до айыл өкмөтүндө болот."
#: residents per household, as in the demo municipality (3,728 in 648)
PER_HOUSEHOLD = 5.75
VILLAGES = 3
CHUNK = 20_000
#: far above what one process sends: the fakes and the worker do not hold it back
RATE = "10000"
START_TIMEOUT = 120.0
ENQUEUE_TIMEOUT = 3600.0
STOP_TIMEOUT = 15.0
#: the first municipality's budget: what its residents' BUDGET shows, as a chart too
BUDGET_CSV = b"""kind,year,name,village,amount
revenue,2026,Local taxes,,2100000
revenue,2026,Land tax,,1400000
revenue,2026,Republican budget grant,,8500000
spending,2026,Schools and kindergartens,,6200000
spending,2026,Roads and lighting,,3100000
spending,2026,Administration,,2700000
"""
CHART_TIMEOUT = 60.0

_MALE = ["Айбек", "Азамат", "Бакыт", "Болот", "Данияр", "Канат", "Нурлан", "Талант", "Улан"]
_FEMALE = ["Айгүл", "Айжан", "Асель", "Бермет", "Динара", "Жылдыз", "Мээрим", "Чолпон"]
_FAMILY = ["Абдыкадыр", "Асанбек", "Жумабек", "Мамбет", "Осмон", "Токтогул", "Турдубек"]

INSERT_RESIDENTS = (
    "residents (municipality_id, phone, name, gender, birth_year, village_id,"
    " household_id, language, telegram_user_id, created_at, updated_at)"
)


def proc_status(pid: int | str = "self") -> dict[str, int]:
    """The ``kB`` figures of ``/proc/PID/status`` (VmRSS, VmHWM, ...), in kB."""
    figures = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            name, _, value = line.partition(":")
            if value.strip().endswith("kB"):
                figures[name] = int(value.split()[0])
    return figures


def mb(kb: float) -> str:
    return f"{kb / 1024:.1f} MB"


# -- 1. the register


async def generate(db_url: str, residents: int, municipalities: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    now = SystemClock().now()
    stamp = iso(now)
    started = time.perf_counter()
    linked = 0
    async with connect(db_url) as db:
        await migrate(db)
        repos = Repos(db)
        rows: list[tuple[Any, ...]] = []
        number = 0
        for n in range(municipalities):
            size = residents // municipalities + (1 if n < residents % municipalities else 0)
            municipality = await create_municipality(
                repos,
                slug=f"load-{n + 1:03d}",
                name=f"Ayil aimak {n + 1}",
                villages=[f"Village {n + 1}-{v + 1}" for v in range(VILLAGES)],
                default_language="ky",
                now=now,
            )
            villages = [v.id for v in await repos.municipalities.villages(municipality.id)]
            households = max(1, round(size / PER_HOUSEHOLD))
            await repos.households.insert_many(
                municipality.id,
                [
                    (f"H-{h:05d}", villages[h % VILLAGES], f"Street {h % 40}, {h}")
                    for h in range(1, households + 1)
                ],
            )
            homes = list((await repos.households.by_code(municipality.id)).values())
            for _ in range(size):
                number += 1
                home = rng.choice(homes)
                gender = rng.choice("fm")
                first = rng.choice(_FEMALE if gender == "f" else _MALE)
                family = rng.choice(_FAMILY) + ("ова" if gender == "f" else "ов")
                chat = FIRST_CHAT + number if number % 2 else None
                linked += chat is not None
                rows.append(
                    (
                        municipality.id,
                        f"+99655{number:07d}",
                        f"{first} {family}",
                        gender,
                        rng.randint(1945, 2008),
                        home.village_id,
                        home.id,
                        "ru" if rng.random() < 0.1 else "ky",
                        chat,
                        stamp,
                        stamp,
                    )
                )
                if len(rows) >= CHUNK:
                    await db.insert_many(INSERT_RESIDENTS, rows)
                    rows.clear()
        if rows:
            await db.insert_many(INSERT_RESIDENTS, rows)
        first = await repos.municipalities.by_slug("load-001")
        assert first is not None
        await import_budget(repos, first, BUDGET_CSV, now=now)
    return {"seconds": time.perf_counter() - started, "linked": linked}


# -- 2. the national broadcast (run in a process of its own)


async def enqueue(db_url: str) -> dict[str, Any]:
    base = proc_status()["VmRSS"]
    async with connect(db_url) as db:
        repos = Repos(db)
        every = await repos.municipalities.all()
        started = time.perf_counter()
        slowest, messages, recipients, first = 0.0, 0, 0, 0
        for municipality in every:
            began = time.perf_counter()
            queued = await broadcast.create_broadcast(
                repos, municipality, body=BODY, now=SystemClock().now()
            )
            slowest = max(slowest, time.perf_counter() - began)
            messages += queued.messages
            recipients += queued.broadcast.recipients
            first = first or queued.messages
        seconds = time.perf_counter() - started
        claim_ms = await time_claim(repos, every[0].id)
    figures = proc_status()
    return {
        "broadcasts": len(every),
        "recipients": recipients,
        "messages": messages,
        "seconds": seconds,
        "slowest": slowest,
        "rss_start_kb": base,
        "hwm_kb": figures["VmHWM"],
        "first_slug": every[0].slug,
        "first_messages": first,
        "claim_ms": claim_ms,
    }


class _Undo(Exception):
    """Rolls a measuring transaction back."""


async def time_claim(repos: Repos, municipality_id: int, runs: int = 3) -> float:
    """Milliseconds the worker's claim of a batch (``OutboxRepo.claim_due``, 50 due SMS of
    one municipality) takes now, median of ``runs``; every claim is rolled back."""
    times = []
    for _ in range(runs):
        with contextlib.suppress(_Undo):
            async with repos.db.transaction():
                began = time.perf_counter()
                await repos.outbox.claim_due(
                    municipality_id=municipality_id,
                    channel="sms",
                    now=iso(SystemClock().now()),
                    limit=50,
                    worker_id=1,
                )
                times.append((time.perf_counter() - began) * 1000)
                raise _Undo
    return sorted(times)[len(times) // 2]


async def enqueue_in_child(db_url: str) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SCRIPT),
        "--phase",
        "enqueue",
        "--database-url",
        db_url,
        env=child_env({}),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), ENQUEUE_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise SystemExit(f"enqueue: not done within {ENQUEUE_TIMEOUT:.0f} s") from None
    if process.returncode != 0:
        raise SystemExit(f"enqueue failed:\n{err.decode(errors='replace')}")
    return dict(json.loads(out))


# -- 3. civic-bot run draining the outbox


async def drain(
    db_url: str, workdir: Path, *, municipality: str, expected: int, window: float
) -> dict[str, Any]:
    async with (
        FakeTelegramAPI(long_poll_cap=0.5) as telegram,
        FakeTwilioAPI(owned_numbers={FROM_NUMBER}) as twilio,
    ):
        settings = {
            "DATABASE_URL": db_url,
            "MUNICIPALITY": municipality,
            **telegram_env(telegram, "123456:LOAD"),
            **twilio_env(twilio, FROM_NUMBER),
            "TELEGRAM_RATE": RATE,
            "TWILIO_RATE": RATE,
        }
        log = workdir / "run.log"

        def arrived() -> tuple[int, int]:
            return len(telegram.delivered), len(twilio.created)

        process, _ = await start_run(settings, workdir, log, "--log-level", "WARNING")
        started = time.monotonic()
        peak_sampled = 0
        rss_first = 0
        first: tuple[float, tuple[int, int]] | None = None
        #: (seconds since the first message, messages so far, RSS kB) every 5 s
        timeline: list[tuple[float, int, int]] = []
        try:
            while True:
                if process.returncode is not None:
                    tail = log.read_text(errors="replace")[-4000:]
                    raise SystemExit(f"civic-bot run exited {process.returncode}:\n{tail}")
                now, counts = time.monotonic(), arrived()
                rss = proc_status(process.pid)["VmRSS"]
                peak_sampled = max(peak_sampled, rss)
                if first is None:
                    if sum(counts):
                        first, rss_first = (now, counts), rss
                        timeline.append((0.0, sum(counts), rss))
                    elif now - started > START_TIMEOUT:
                        raise SystemExit(f"no message within {START_TIMEOUT:.0f} s")
                elif now - first[0] >= window or sum(counts) >= expected:
                    break
                elif now - first[0] >= 5 * len(timeline):
                    timeline.append((now - first[0], sum(counts), rss))
                await asyncio.sleep(0.1)
            last = (now, counts)
            figures = proc_status(process.pid)
            # resident number 1 (of the first municipality, linked) asks for the budget
            telegram.queue_update(telegram_message_update("BUDGET", FIRST_CHAT + 1))
            chart_at = time.monotonic()
            while not any(c.status == 200 for c in telegram.calls("sendPhoto")):
                if time.monotonic() - chart_at > CHART_TIMEOUT or process.returncode is not None:
                    tail = log.read_text(errors="replace")[-4000:]
                    raise SystemExit(f"no budget chart within {CHART_TIMEOUT:.0f} s:\n{tail}")
                await asyncio.sleep(0.1)
            with_chart, with_chart_seconds = proc_status(process.pid), time.monotonic() - chart_at
            process.send_signal(signal.SIGTERM)
            try:
                code = await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
            except TimeoutError:
                process.kill()
                code = await process.wait()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    seconds = last[0] - first[0]
    telegram_sent = last[1][0] - first[1][0]
    sms_sent = last[1][1] - first[1][1]
    return {
        "startup": first[0] - started,
        "seconds": seconds,
        "telegram": telegram_sent,
        "sms": sms_sent,
        "rate": (telegram_sent + sms_sent) / seconds if seconds > 0 else 0.0,
        "hwm_kb": figures["VmHWM"],
        "rss_end_kb": figures["VmRSS"],
        "chart_hwm_kb": with_chart["VmHWM"],
        "chart_seconds": with_chart_seconds,
        "rss_first_kb": rss_first,
        "rss_sampled_kb": peak_sampled,
        "exit": code,
        "sent_total": sum(last[1]),
        "timeline": [*timeline, (last[0] - first[0], sum(last[1]), figures["VmRSS"])],
    }


def disk_use(workdir: Path) -> int:
    return sum(path.stat().st_size for path in workdir.iterdir() if path.is_file())


async def main(args: argparse.Namespace) -> None:
    place: contextlib.AbstractContextManager[str] = (
        contextlib.nullcontext(tempfile.mkdtemp(prefix="civic-load-", dir=args.workdir))
        if args.keep
        else tempfile.TemporaryDirectory(prefix="civic-load-", dir=args.workdir)
    )
    with place as tmp:
        workdir = Path(tmp)
        db_url = f"sqlite:///{workdir / 'load.db'}"
        made = await generate(db_url, args.residents, args.municipalities, args.seed)
        queued = await enqueue_in_child(db_url)
        size = disk_use(workdir)
        drained = await drain(
            db_url,
            workdir,
            municipality=queued["first_slug"],
            expected=queued["first_messages"],
            window=args.window,
        )

    print(
        f"register        {args.residents:,} residents in {args.municipalities:,}"
        f" municipalit{'y' if args.municipalities == 1 else 'ies'}"
        f" ({made['linked']:,} linked to Telegram), generated in"
        f" {made['seconds']:.1f} s; database {size / 1e6:,.0f} MB after the enqueue"
    )
    print(
        f"enqueue         {queued['broadcasts']:,} broadcast(s), {queued['messages']:,} messages"
        f" in {queued['seconds']:.1f} s ({queued['messages'] / queued['seconds']:,.0f} msg/s;"
        f" slowest municipality {queued['slowest']:.2f} s)"
    )
    print(f"claim           {queued['claim_ms']:.1f} ms to claim 50 due SMS (OutboxRepo.claim_due)")
    print(
        f"enqueue RSS     peak {mb(queued['hwm_kb'])} (the process, {mb(queued['rss_start_kb'])}"
        " before the first broadcast)"
    )
    print(
        f"drain           {drained['sent_total']:,} of the {queued['first_messages']:,} messages"
        f" of {queued['first_slug']} (the municipality of the process) reached the fakes;"
        f" {drained['telegram'] + drained['sms']:,} in {drained['seconds']:.1f} s after the first"
        f" (telegram {drained['telegram']:,}, sms {drained['sms']:,}): {drained['rate']:,.0f}"
        f" msg/s; first message {drained['startup']:.1f} s after the start"
    )
    print(
        f"run RSS         peak {mb(drained['hwm_kb'])} (VmHWM; sampled max"
        f" {mb(drained['rss_sampled_kb'])}, at the first message {mb(drained['rss_first_kb'])},"
        f" at the end {mb(drained['rss_end_kb'])})"
    )
    print(
        "run RSS over time "
        + ", ".join(f"{t:.0f} s {n:,} msgs {kb / 1024:.1f} MB" for t, n, kb in drained["timeline"])
    )
    print(
        f"run RSS, chart  peak {mb(drained['chart_hwm_kb'])} (VmHWM) once a resident's BUDGET"
        f" was answered with its chart, {drained['chart_seconds']:.1f} s after asking"
        " (the chart drawn by a child process, matplotlib loaded there only)"
    )
    print(f"run exit        {drained['exit']} (after SIGTERM)")
    if args.keep:
        print(f"kept            {db_url}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--residents", type=int, default=3728)
    parser.add_argument("--municipalities", type=int, default=1)
    parser.add_argument(
        "--window", type=float, default=30.0, help="seconds of draining to measure (default 30)"
    )
    parser.add_argument("--seed", type=int, default=2012)
    parser.add_argument("--workdir", type=Path, help="where the temporary database goes")
    parser.add_argument("--keep", action="store_true", help="keep the database (and print it)")
    parser.add_argument("--phase", choices=["enqueue"], help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.phase == "enqueue":
        print(json.dumps(asyncio.run(enqueue(arguments.database_url))))
    else:
        if not 1 <= arguments.municipalities <= arguments.residents:
            parser.error("need 1 <= --municipalities <= --residents")
        asyncio.run(main(arguments))
