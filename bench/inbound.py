"""Benchmark the inbound webhooks: signed Twilio SMS and Telegram updates, handled and committed.

Requests carry the text commands (ME, HELP, LANG, STOP/START) from many demo residents.
Each SMS is a signed Twilio form with its own MessageSid, answered in TwiML after its
transaction commits; each Telegram update (its own update_id, the secret header) goes
where ``civic-bot run`` sends it (a text command: ``bot.channels.telegram.lane``, else the aiogram
dispatcher) and is answered once handled and recorded; a text command's reply is in that
answer (a ``sendMessage`` Telegram runs), what a handler sends itself goes to
``FakeTelegramAPI``. Both are measured against a
no-op aiohttp handler in the same run: the same client, the same concurrency, the very same
request bodies and headers.

Processes: the client (this one), the server under test (``bot.runtime.web.build_app`` over a demo
SQLite database, plus the no-op app) and the fake Telegram Bot API each run in their own
process, as a provider, the bot and Telegram would. After each case the database and the
fake are checked: every request recorded once, every Telegram update replied to once.

Printed per case: requests, elapsed, rate/s, p50/p95/p99 latency, ratio to the no-op.
Targets (issue: inbound): >= 1,000 requests/s, >= 25 % of the no-op rate, p99 <= 100 ms.

Run from the repository root: ``python bench/inbound.py`` (about half a minute), or
``python bench/inbound.py --requests 1000`` for a quick run; ``--profile`` writes a cProfile
of the server process for the civic-bot cases (``--profile-out``; ``--case`` picks one).

``--case floor`` measures, in this process and without HTTP, how long aiogram alone takes
per update (a dispatcher with one handler that returns a ``sendMessage``, no database), how
long civic-bot's dispatcher takes (``build_dispatcher`` + ``webhook_feed`` on the demo
database) and how long the text lane takes (``TextLane``, its inbound record included).

``--commands ballots`` sends ballots instead (``V 1 3``, ``V 2``, ... to an open approval
poll; a resident's later ballot replaces the earlier): issue 6 asks >= 1,000 ballots/s
(and p99 <= 100 ms, as the commands; no share of the no-op).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PUBLIC = "https://bot.example.kg"
SECRET = "bench-webhook-secret"
OUR_NUMBER = "+15005550006"
FIRST_USER = 8_000_000  # Telegram user id = FIRST_USER + resident id
#: the command mix, cycled over the residents (every sixth message is STOP, then START)
COMMANDS = ("ME", "HELP", "LANG RU", "STOP", "LANG KY", "START")
#: ``--commands ballots``: approval ballots (at most 3 of 5) to the one open poll
BALLOTS = ("V 1 3", "V 2", "V 1 2 3", "V 4 5", "V 5", "V 3 4")
TARGET_RATE = 1000.0
TARGET_RATIO = 0.25
TARGET_P99_MS = 100.0


# ------------------------------------------------------------------------------ requests


@dataclass(frozen=True)
class Request:
    path: str
    body: bytes
    headers: dict[str, str]


def sms_requests(
    phones: list[str], count: int, start: int, commands: tuple[str, ...]
) -> list[Request]:
    """Signed Twilio inbound forms, as Twilio posts them (urlencoded, X-Twilio-Signature)."""
    from urllib.parse import urlencode

    from tests.fakes.webhooks import DEFAULT_AUTH_TOKEN, twilio_inbound_form, twilio_signed_headers

    requests = []
    for n in range(start, start + count):
        phone = phones[n % len(phones)]
        command = commands[n % len(commands)]
        form = twilio_inbound_form(phone, OUR_NUMBER, command, message_sid=f"SM{n:032x}")
        headers = twilio_signed_headers(DEFAULT_AUTH_TOKEN, PUBLIC + "/sms/twilio", form)
        requests.append(Request("/sms/twilio", urlencode(form).encode(), headers))
    return requests


def telegram_requests(
    users: list[int], count: int, start: int, commands: tuple[str, ...]
) -> list[Request]:
    """Telegram webhook POSTs: an Update with a text message and the secret header."""
    from tests.fakes.webhooks import telegram_message_update, telegram_webhook_headers

    requests = []
    for n in range(start, start + count):
        user = users[n % len(users)]
        command = commands[n % len(commands)]
        update = telegram_message_update(command, user, update_id=1_000_000 + n)
        body = json.dumps(update, ensure_ascii=False).encode()
        requests.append(Request("/telegram/webhook", body, telegram_webhook_headers(SECRET)))
    return requests


# ------------------------------------------------------------------------------ processes


def fake_telegram_main(pipe: Connection) -> None:
    """Child: the fake Bot API until told to stop; then report what it received."""

    async def main() -> None:
        from tests.fakes.telegram_api import FakeTelegramAPI

        async with FakeTelegramAPI() as api:
            pipe.send(api.base_url)
            await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
            sent = api.calls("sendMessage")
            pipe.send({"sendMessage": len(sent), "ok": sum(1 for r in sent if r.status == 200)})

    asyncio.run(main())


def server_main(
    pipe: Connection, db_url: str, telegram_url: str, profile: str | None, cpu_pin: str
) -> None:
    """Child: the no-op app and the civic-bot web app on ephemeral ports, kept on a CPU
    as ``civic-bot run`` with ``CPU_PIN=cpu_pin`` keeps itself (bot/runtime/cpu.py)."""
    import cProfile

    from bot.runtime.cpu import pin

    pin(cpu_pin)

    async def main() -> None:
        from aiogram import Bot
        from aiogram.client.session.aiohttp import AiohttpSession
        from aiogram.client.telegram import TelegramAPIServer
        from aiohttp import web

        from bot.app import http_app, settle
        from bot.channels.telegram import webhook as telegram_webhook
        from bot.channels.telegram.dispatcher import build_dispatcher
        from bot.channels.twilio import webhook as twilio_webhook
        from bot.core.clock import SystemClock
        from bot.core.rendering.templates import Renderer
        from bot.core.services.municipalities import choose_municipality
        from bot.runtime.web import WebContext
        from storage.db import open_database
        from storage.repos import Repos
        from tests.fakes.webhooks import DEFAULT_AUTH_TOKEN
        from tests.processes import TEST_BALLOT_KEY

        empty_twiml = '<?xml version="1.0" encoding="UTF-8"?><Response />'

        async def noop(request: web.Request) -> web.Response:
            await request.read()
            if request.path == "/sms/twilio":
                return web.Response(text=empty_twiml, content_type="application/xml")
            return web.Response(status=200)

        noop_app = web.Application(client_max_size=64 * 1024)
        noop_app.router.add_post("/sms/twilio", noop)
        noop_app.router.add_post("/telegram/webhook", noop)

        db = await open_database(db_url)
        repos = Repos(db, TEST_BALLOT_KEY)
        clock = SystemClock()
        renderer = Renderer("Asia/Bishkek")
        municipality = await choose_municipality(repos, None)
        bot = Bot(
            "123456:TEST", session=AiohttpSession(api=TelegramAPIServer.from_base(telegram_url))
        )
        ctx = WebContext(
            repos=repos,
            renderer=renderer,
            clock=clock,
            municipality=municipality,
            public_base_url=PUBLIC,
        )
        dp = build_dispatcher(
            repos=repos,
            renderer=renderer,
            clock=clock,
            municipality=municipality,
            batches=ctx.batches,
        )
        telegram_webhook.attach(ctx, dp, bot, secret=SECRET)
        twilio_webhook.attach(ctx, DEFAULT_AUTH_TOKEN, None)

        runners = []
        ports = []
        for app in (noop_app, http_app(ctx)):
            runner = web.AppRunner(app, handle_signals=False)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            runners.append(runner)
            ports.append(runner.addresses[0][1])
        settle()  # as civic-bot run does once it has started
        pipe.send(ports)
        profiler = cProfile.Profile() if profile else None
        while True:
            command = await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
            if command == "profile-on" and profiler is not None:
                profiler.enable()
            elif command == "profile-off" and profiler is not None:
                profiler.disable()
            elif command == "stop":
                break
            pipe.send("ok")
        for runner in runners:
            await runner.cleanup()
        await bot.session.close()
        await db.close()
        if profiler is not None and profile:
            profiler.dump_stats(profile)
        pipe.send("stopped")

    asyncio.run(main())


# ------------------------------------------------------------------------------ the client


@dataclass
class Result:
    name: str
    requests: int
    elapsed: float
    latencies: list[float]
    errors: int
    #: Telegram: answers that carried the reply (a Bot API method Telegram then runs)
    answers: int = 0

    @property
    def rate(self) -> float:
        return self.requests / self.elapsed

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


async def hammer(name: str, port: int, requests: list[Request], concurrency: int) -> Result:
    """Send ``requests`` with ``concurrency`` connections; time each one."""
    import aiohttp

    latencies: list[float] = []
    errors = answers = 0
    feed: Iterator[Request] = iter(requests)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker() -> None:
            nonlocal errors, answers
            for request in feed:
                started = time.perf_counter()
                async with http.post(
                    f"http://127.0.0.1:{port}{request.path}",
                    data=request.body,
                    headers=request.headers,
                ) as resp:
                    body = await resp.read()
                    if resp.status != 200:
                        errors += 1
                    elif body.startswith(b'{"method":'):
                        answers += 1
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return Result(name, len(requests), elapsed, latencies, errors, answers)


# ------------------------------------------------------------------------------ set-up


async def prepare(db_url: str, residents: int, poll: bool) -> tuple[list[str], list[int]]:
    """The demo database; ``residents`` of them linked to Telegram (and, with ``poll``, an
    open approval poll). Their phones and users."""
    from datetime import timedelta

    from bot.core.clock import SystemClock, iso
    from bot.core.services import demo_data
    from bot.core.services.polls import OptionSpec, create_poll
    from storage.db import connect
    from storage.migrate import migrate
    from storage.repos import Repos
    from tests.processes import TEST_BALLOT_KEY

    async with connect(db_url) as db:
        await migrate(db)
        repos = Repos(db, TEST_BALLOT_KEY)
        municipality, _ = await demo_data.ensure_demo(repos, now=SystemClock().now())
        everyone = (await repos.residents.by_phones(municipality.id)).values()
        people = sorted(everyone, key=lambda r: r.id)[:residents]
        now = iso(SystemClock().now())
        async with db.transaction():
            for person in people:
                await repos.residents.link_telegram(person.id, FIRST_USER + person.id, now=now)
        if poll:
            moment = SystemClock().now()
            await create_poll(
                repos, municipality, title="Priorities", ballot_type="approval", max_choices=3,
                options=[OptionSpec(f"Option {n}") for n in range(1, 6)], min_age=0,
                opens_at=moment - timedelta(hours=1), closes_at=moment + timedelta(days=1),
                now=moment,
            )  # fmt: skip
    return [p.phone for p in people], [FIRST_USER + p.id for p in people]


def check_database(path: Path, channel: str, expected: int) -> str:
    with contextlib.closing(sqlite3.connect(path)) as db:
        rows, handled = db.execute(
            "SELECT COUNT(*), COUNT(reply) FROM inbound WHERE channel = ?", (channel,)
        ).fetchone()
    ok = rows == handled == expected
    return f"{channel}: {rows} recorded, {handled} handled, expected {expected}" + (
        "" if ok else "  <-- MISMATCH"
    )


def print_table(results: list[tuple[Result, Result]], ratio_target: float | None) -> list[str]:
    """The table; what misses the targets (``ratio_target``: of the no-op, if any)."""
    header = (
        f"{'case':<18} {'requests':>8} {'elapsed s':>9} {'rate/s':>8} {'p50 ms':>7}"
        f" {'p95 ms':>7} {'p99 ms':>7} {'vs no-op':>8} {'errors':>6}"
    )
    lines = [header, "-" * len(header)]
    misses = []
    for noop, real in results:
        for result in (noop, real):
            ratio = result.rate / noop.rate
            lines.append(
                f"{result.name:<18} {result.requests:>8} {result.elapsed:>9.2f}"
                f" {result.rate:>8.0f} {result.percentile(50):>7.1f}"
                f" {result.percentile(95):>7.1f} {result.percentile(99):>7.1f}"
                f" {ratio:>7.0%} {result.errors:>6}"
            )
        ratio = real.rate / noop.rate
        if real.rate < TARGET_RATE:
            misses.append(f"{real.name}: {real.rate:.0f}/s < {TARGET_RATE:.0f}/s")
        if ratio_target is not None and ratio < ratio_target:
            misses.append(f"{real.name}: {ratio:.0%} of the no-op < {ratio_target:.0%}")
        if real.percentile(99) > TARGET_P99_MS:
            misses.append(f"{real.name}: p99 {real.percentile(99):.0f} ms > {TARGET_P99_MS:.0f}")
        if real.errors:
            misses.append(f"{real.name}: {real.errors} requests not answered 200")
    print("\n".join(lines))
    return misses


async def floor(
    db_url: str, users: list[int], commands: tuple[str, ...], count: int, cpu_pin: str
) -> None:
    """Microseconds per update: aiogram alone, then civic-bot's dispatcher (no HTTP)."""
    from aiogram import Bot, Dispatcher, Router
    from aiogram.methods import SendMessage
    from aiogram.types import Message

    from bot.channels.telegram.dispatcher import build_dispatcher, webhook_feed
    from bot.channels.telegram.lane import TextLane
    from bot.core.clock import SystemClock
    from bot.core.rendering.templates import Renderer
    from bot.core.services.municipalities import choose_municipality
    from bot.runtime.cpu import pin
    from bot.runtime.web import WebContext
    from storage.db import connect
    from storage.repos import Repos
    from tests.fakes.webhooks import telegram_message_update
    from tests.processes import TEST_BALLOT_KEY

    pin(cpu_pin)
    updates = [
        telegram_message_update(commands[n % len(commands)], users[n % len(users)], update_id=n)
        for n in range(count + 200)
    ]

    async def per_update(feed: Any) -> float:
        for update in updates[:200]:  # warm-up: models built, caches filled
            await feed(update)
        left = iter(updates[200:])

        async def one_connection() -> None:
            for update in left:
                await feed(update)

        started = time.perf_counter()
        await asyncio.gather(*(one_connection() for _ in range(32)))
        return (time.perf_counter() - started) / count * 1e6

    bot = Bot("123456:FLOOR")
    bare = Dispatcher()
    router = Router()

    async def reply(message: Message) -> SendMessage:
        return SendMessage(chat_id=message.chat.id, text="ok")

    router.message.register(reply)
    bare.include_router(router)
    alone = await per_update(lambda update: bare.feed_raw_update(bot, update))
    async with connect(db_url) as db:
        repos = Repos(db, TEST_BALLOT_KEY)
        municipality = await choose_municipality(repos, None)
        ctx = WebContext(
            repos=repos, renderer=Renderer("Asia/Bishkek"), clock=SystemClock(),
            municipality=municipality,
        )  # fmt: skip
        dp = build_dispatcher(
            repos=repos, renderer=ctx.renderer, clock=ctx.clock, municipality=municipality,
            batches=ctx.batches,
        )  # fmt: skip
        ours = await per_update(webhook_feed(dp, bot))
        lane = TextLane(dp, bot, ctx)
        ids = iter(range(10**9))
        in_lane = await per_update(lambda update: lane(update, f"floor-{next(ids)}"))
    await bot.session.close()
    print(f"floor: {count} updates ({', '.join(commands)}), 32 at a time, in one process")
    print(f"aiogram alone (one handler, no database)  {alone:6.0f} us/update")
    print(f"civic-bot's dispatcher (webhook_feed)      {ours:6.0f} us/update")
    print(f"civic-bot's text lane (recorded too)       {in_lane:6.0f} us/update")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=5000, help="per case (default 5000)")
    parser.add_argument("--concurrency", type=int, default=32, help="connections (default 32)")
    parser.add_argument("--residents", type=int, default=2000, help="senders (default 2000)")
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured requests per case")
    parser.add_argument(
        "--case",
        choices=["sms", "telegram", "both", "floor"],
        default="both",
        help="what to measure",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the server process")
    parser.add_argument("--profile-out", default="inbound.prof", help="where the profile goes")
    parser.add_argument(
        "--commands", choices=["mix", "ballots"], default="mix", help="what the messages say"
    )
    parser.add_argument(
        "--cpu-pin",
        default="auto",
        help="CPU_PIN of the server process (default auto, as civic-bot run's default)",
    )
    args = parser.parse_args()

    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="civic-bench-") as tmp:
        db_path = Path(tmp) / "civic-bot.db"
        db_url = f"sqlite:///{db_path}"
        phones, users = asyncio.run(prepare(db_url, args.residents, args.commands == "ballots"))
        commands = BALLOTS if args.commands == "ballots" else COMMANDS
        if args.case == "floor":
            asyncio.run(floor(db_url, users, commands, args.requests, args.cpu_pin))
            return 0

        tg_pipe, tg_child = ctx.Pipe()
        fake = ctx.Process(target=fake_telegram_main, args=(tg_child,), daemon=True)
        fake.start()
        telegram_url = tg_pipe.recv()
        srv_pipe, srv_child = ctx.Pipe()
        profile = str(Path(args.profile_out).resolve()) if args.profile else None
        server = ctx.Process(
            target=server_main,
            args=(srv_child, db_url, telegram_url, profile, args.cpu_pin),
            daemon=True,
        )
        server.start()
        noop_port, civic_port = srv_pipe.recv()

        def control(command: str) -> None:
            srv_pipe.send(command)
            srv_pipe.recv()

        answers = 0  # replies in the webhooks' answers, warm-up included

        async def run_case(channel: str, requests: list[Request]) -> tuple[Result, Result]:
            nonlocal answers
            warmup, measured = requests[: args.warmup], requests[args.warmup :]
            await hammer("warm-up", noop_port, warmup, args.concurrency)
            noop = await hammer(f"no-op {channel}", noop_port, measured, args.concurrency)
            warm = await hammer("warm-up", civic_port, warmup, args.concurrency)
            control("profile-on")
            real = await hammer(f"civic-bot {channel}", civic_port, measured, args.concurrency)
            control("profile-off")
            answers += warm.answers + real.answers
            return noop, real

        n, warm = args.requests, args.warmup
        results = []
        if args.case in ("sms", "both"):
            results.append(
                asyncio.run(run_case("sms", sms_requests(phones, warm + n, 0, commands)))
            )
        if args.case in ("telegram", "both"):
            results.append(
                asyncio.run(run_case("telegram", telegram_requests(users, warm + n, 0, commands)))
            )
        tg_pipe.send("report")
        fake_report: dict[str, Any] = tg_pipe.recv()
        srv_pipe.send("stop")
        srv_pipe.recv()
        server.join(10)
        fake.join(10)

        print(
            f"civic-bot inbound webhooks: {n} requests per case after {warm} warm-up,"
            f" {args.concurrency} connections, {len(phones)} residents, commands"
            f" {', '.join(commands)}"
        )
        # issue 4 asks the commands for a share of the no-op; issue 6 asks ballots for a rate
        ratio_target = TARGET_RATIO if args.commands == "mix" else None
        misses = print_table(results, ratio_target)
        sms = args.case in ("sms", "both")
        telegram = args.case in ("telegram", "both")
        print(check_database(db_path, "sms", (warm + n) * sms))
        print(check_database(db_path, "telegram", (warm + n) * telegram))
        replies = answers + fake_report["ok"]
        print(
            f"telegram: {replies} replies ({answers} in the webhook's answer,"
            f" {fake_report['ok']} sendMessage answered ok by the fake),"
            f" expected {(warm + n) * telegram}"
            + ("" if replies == (warm + n) * telegram else "  <-- MISMATCH")
        )
        if profile:
            print(f"profile of the civic-bot cases: {profile}")
        if misses:
            print("targets missed: " + "; ".join(misses))
            return 1
        share = f", >= {ratio_target:.0%} of the no-op" if ratio_target is not None else ""
        print(f"targets met: >= {TARGET_RATE:.0f}/s{share}, p99 <= {TARGET_P99_MS:.0f} ms")
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
