"""Crash safety: SIGKILL ``civic-bot run`` again and again during a broadcast, count at the fakes.

A fresh database gets the demo municipality (``civic-bot init --demo``, 3,728 residents);
every other resident is linked to a Telegram chat, so that the broadcast goes out on both
channels; ``civic-bot broadcast --text-file`` queues it. ``python -m bot run`` (configured
by the environment only, as a deployment starts it) then drains the outbox through
``FakeTelegramAPI`` and the SMS gateway's fake running in this process on 127.0.0.1
(``--gateway``: ``twilio``, the default, ``FakeTwilioAPI``; ``android``, ten fakes of the SMS
Gateway for Android, which cannot tell what it sent, so a message caught mid-send goes again;
``smpp``, the SMSC simulator over TCP, where SMPP cannot tell either), and is
killed with SIGKILL at random moments (each time a random number of further messages has
reached the fakes, plus a random 0-20 ms), restarted at once, and finally left to finish.
Counted at the fakes, per recipient: lost (no message), duplicates (more than one), and the
duplicates each crash caused (a duplicate belongs to the crash that ended the process which
sent its first copy).

Target (issue: crash safety): 0 lost, at most 1 duplicate per crash.

Run from the repository root: ``python bench/crash.py [--gateway twilio|android|smpp]``
(about 25 s on SQLite);
``--database-url postgresql://USER@HOST:PORT/DB`` (or ``TEST_POSTGRES_URL``) runs the same on
PostgreSQL, in a fresh database created on that server and dropped afterwards (the user
must be allowed to create databases; about 25 s too). ``--seed`` repeats the kill points of
a run (when each kill comes still depends on timing).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import os
import random
import re
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.channels.smpp import pdu
from bot.channels.smpp.text import decode_payload
from bot.core.clock import SystemClock, iso
from bot.core.services import demo_data
from storage.db import connect, is_postgres_url, redact_url
from storage.repos import Repos
from tests import processes
from tests.fakes.android_gateway import FakeAndroidGateway
from tests.fakes.smsc import FakeSMSC
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.twilio_api import FakeTwilioAPI

FROM_NUMBER = "+15005550006"
FIRST_CHAT = 7_000_000  # chat id = FIRST_CHAT + resident id
#: one SMS segment (UCS-2: at most 70 characters), no HTML specials: the same text arrives
BODY = "Суу түтүгү 1-декабрдан баштап оңдолот. Айыл өкмөтү."
#: generous limits: the run is about crashes, not about pacing
RATE = "200"
CLI_TIMEOUT = 180.0
#: no new message at the fakes for this long: give up (a restart takes a few seconds; a
#: crashed worker's rate reservations are released when the next one recovers)
STALL_TIMEOUT = 60.0
TOTAL_TIMEOUT = 600.0


async def cli(*args: str, db_url: str, cwd: Path) -> str:
    """``python -m bot ARGS``; its standard output (exit on failure, with the reason)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env=processes.child_env({"DATABASE_URL": db_url}),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), CLI_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise SystemExit(
            f"civic-bot {' '.join(args)}: no exit within {CLI_TIMEOUT:.0f} s"
        ) from None
    if process.returncode != 0:
        raise SystemExit(f"civic-bot {' '.join(args)} failed: {err.decode(errors='replace')}")
    return out.decode()


# -- PostgreSQL: a fresh database on the given server


async def _pg_admin(server_url: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def fresh_database(server_url: str | None, workdir: Path) -> AsyncIterator[str]:
    """A SQLite file in ``workdir``, or a new database on ``server_url`` dropped after."""
    if server_url is None:
        yield f"sqlite:///{workdir / 'civic-bot.db'}"
        return
    name = f"civic_crash_{uuid.uuid4().hex[:12]}"
    await _pg_admin(server_url, f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    finally:
        await _pg_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- setting up the broadcast


async def link_half(db_url: str) -> int:
    """Every other demo resident (by id) gets a Telegram chat; return how many."""
    now = iso(SystemClock().now())
    async with connect(db_url) as db:
        repos = Repos(db)
        municipality = await repos.municipalities.by_slug(demo_data.SLUG)
        assert municipality is not None
        residents = await repos.residents.by_phones(municipality.id)
        linked = 0
        async with db.transaction():
            for position, resident_id in enumerate(sorted(r.id for r in residents.values())):
                if position % 2 == 0:
                    await repos.residents.link_telegram(
                        resident_id, FIRST_CHAT + resident_id, now=now
                    )
                    linked += 1
    return linked


async def outbox_of(db_url: str, broadcast_id: int) -> list[tuple[str, str, str]]:
    """``(channel, address, status)`` of every outbox row of the broadcast."""
    async with connect(db_url) as db:
        rows = await db.fetchall(
            "SELECT channel, address, status FROM outbox WHERE broadcast_id = ?", (broadcast_id,)
        )
    return [(row[0], row[1], row[2]) for row in rows]


async def drained_outbox(db_url: str, broadcast_id: int) -> bool:
    """Is nothing of the broadcast left to send (queued or claimed)?"""
    async with connect(db_url) as db:
        left = await db.fetchval(
            "SELECT COUNT(*) FROM outbox WHERE broadcast_id = ?"
            " AND status IN ('queued', 'sending')",
            (broadcast_id,),
        )
    return int(left) == 0


async def in_flight(db_url: str) -> Counter[str]:
    """Rows left 'sending' (claimed by a process that is gone), by channel."""
    async with connect(db_url) as db:
        rows = await db.fetchall(
            "SELECT channel, COUNT(*) FROM outbox WHERE status = 'sending' GROUP BY channel"
        )
    return Counter({row[0]: int(row[1]) for row in rows})


# -- the process under test


@dataclass
class Run:
    """One ``python -m bot run`` process."""

    process: asyncio.subprocess.Process
    log: Path
    started: float

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-4000:]


async def start_run(env: dict[str, str], workdir: Path, number: int) -> Run:
    log = workdir / f"run-{number}.log"
    process, _ = await processes.start_run(env, workdir, log, "--log-level", "WARNING")
    return Run(process, log, time.monotonic())


@dataclass
class Crash:
    uptime: float
    #: messages at the fakes when it was killed: (telegram, sms)
    at: tuple[int, int]
    #: rows it left claimed ('sending'), by channel
    claimed: Counter[str]


#: fakes of Android phones: each allows 600 SMS a minute (the most a phone may be set to)
ANDROID_PHONES = 10


class SmsFake:
    """The fake of one SMS gateway: what ``civic-bot run`` is configured with, and what
    reached it, in order ((position, number) of each message of the broadcast)."""

    async def __aenter__(self) -> SmsFake:
        raise NotImplementedError

    async def __aexit__(self, *exc: object) -> None:
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        raise NotImplementedError

    def size(self) -> int:
        raise NotImplementedError

    def arrivals(self) -> list[tuple[int, str]]:
        raise NotImplementedError


class TwilioFake(SmsFake):
    async def __aenter__(self) -> SmsFake:
        self.fake = await FakeTwilioAPI(owned_numbers={FROM_NUMBER}).__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.fake.__aexit__(*exc)

    def env(self) -> dict[str, str]:
        return {**processes.twilio_env(self.fake, FROM_NUMBER), "TWILIO_RATE": RATE}

    def size(self) -> int:
        return len(self.fake.created)

    def arrivals(self) -> list[tuple[int, str]]:
        return [(n, m["to"]) for n, m in enumerate(self.fake.created) if m["body"] == BODY]


class AndroidFake(SmsFake):
    async def __aenter__(self) -> SmsFake:
        # the fakes do not throttle: a restarted process's pacing starts afresh
        self.phones = [
            await FakeAndroidGateway(clock=time.monotonic, per_minute=100_000).start()
            for _ in range(ANDROID_PHONES)
        ]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for phone in self.phones:
            await phone.stop()

    def env(self) -> dict[str, str]:
        return {
            "SMS_GATEWAY": "android",
            "ANDROID_GATEWAY_PHONES": ",".join(
                f"http://{p.login}:{p.password}@127.0.0.1:{p.port}" for p in self.phones
            ),
            "ANDROID_GATEWAY_PER_MINUTE": "600",
            "ANDROID_GATEWAY_SIGNING_KEYS": self.phones[0].signing_key,
        }

    def size(self) -> int:
        return sum(len(phone.messages) for phone in self.phones)

    def arrivals(self) -> list[tuple[int, str]]:
        sent = sorted((m.at, m.phone_numbers[0]) for p in self.phones for m in p.messages
                      if m.text == BODY)  # fmt: skip
        return [(n, number) for n, (_, number) in enumerate(sent)]


class SmppFake(SmsFake):
    async def __aenter__(self) -> SmsFake:
        self.smsc = await FakeSMSC().__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.smsc.__aexit__(*exc)

    def env(self) -> dict[str, str]:
        return {
            "SMS_GATEWAY": "smpp",
            "SMPP_HOST": "127.0.0.1",
            "SMPP_PORT": str(self.smsc.port),
            "SMPP_SYSTEM_ID": self.smsc.system_id,
            "SMPP_PASSWORD": self.smsc.password,
            "SMPP_SOURCE_ADDR": "AyilBudget",
            "SMPP_TPS": RATE,
        }

    def size(self) -> int:
        return len(self.smsc.submits)

    def arrivals(self) -> list[tuple[int, str]]:
        return [
            (n, "+" + s.destination_addr)
            for n, s in enumerate(self.smsc.submits)
            if s.status == pdu.ESME_ROK and decode_payload(s.short_message, s.data_coding) == BODY
        ]


GATEWAYS: dict[str, type[SmsFake]] = {
    "twilio": TwilioFake,
    "android": AndroidFake,
    "smpp": SmppFake,
}


class Fakes:
    def __init__(self, telegram: FakeTelegramAPI, sms: SmsFake) -> None:
        self.telegram = telegram
        self.sms = sms

    def sizes(self) -> tuple[int, int]:
        return len(self.telegram.delivered), self.sms.size()

    def arrived(self) -> int:
        return sum(self.sizes())

    def arrivals(self) -> dict[str, list[tuple[int, str]]]:
        """The broadcast's messages by channel: (position in the fake's list, address)."""
        return {
            "telegram": [
                (n, str(m.chat_id))
                for n, m in enumerate(self.telegram.delivered)
                if m.method.lower() == "sendmessage" and m.text == BODY
            ],
            "sms": self.sms.arrivals(),
        }


async def wait_for(
    condition, run: Run, fakes: Fakes, what: str, *, deadline: float, poll: float = 0.005
) -> None:
    """Poll ``condition`` until true; exit if the process dies, stalls or time is up."""
    seen, moved = fakes.arrived(), time.monotonic()
    while True:
        reached = condition()
        if inspect.isawaitable(reached):
            reached = await reached
        if reached:
            return
        now = time.monotonic()
        if run.process.returncode is not None:
            raise SystemExit(f"civic-bot run exited {run.process.returncode}:\n{run.output()}")
        if (arrived := fakes.arrived()) != seen:
            seen, moved = arrived, now
        if now - moved > STALL_TIMEOUT or now > deadline:
            run.process.kill()
            await run.process.wait()
            raise SystemExit(
                f"{what}: not reached ({seen} messages at the fakes, no new one for"
                f" {now - moved:.0f} s); the process's log:\n{run.output()}"
            )
        await asyncio.sleep(poll)


def kill_points(total: int, kills: int, rng: random.Random) -> list[int]:
    """One random point in each of ``kills`` equal slices of 5 %..90 % of the messages."""
    low, high = int(total * 0.05), int(total * 0.90)
    step = (high - low) / kills
    return [rng.randint(int(low + i * step), int(low + (i + 1) * step) - 1) for i in range(kills)]


def crash_of(position: int, boundaries: list[int]) -> int:
    """The crash (0-based) that ended the process which sent the message at ``position``
    of a fake's list; ``len(boundaries)`` for the last process (no crash)."""
    for crash, boundary in enumerate(boundaries):
        if position < boundary:
            return crash
    return len(boundaries)


def duplicates_by_crash(
    arrivals: list[tuple[int, str]], expected: Counter[str], boundaries: list[int]
) -> list[int]:
    """Copies beyond the expected ones, per crash (the last entry: without a crash)."""
    seen: Counter[str] = Counter()
    first: dict[str, int] = {}
    per = [0] * (len(boundaries) + 1)
    for position, address in arrivals:
        seen[address] += 1
        first.setdefault(address, position)
        if seen[address] > expected[address]:
            per[crash_of(first[address], boundaries)] += 1
    return per


CHANNELS = ("telegram", "sms")


async def crash_run(args: argparse.Namespace) -> dict[str, object]:
    """Set up, kill and restart, let it finish; return what was observed."""
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="civic-crash-") as tmp:
        workdir = Path(tmp)
        async with fresh_database(args.database_url, workdir) as db_url:
            await cli("init", "--demo", db_url=db_url, cwd=workdir)
            linked = await link_half(db_url)
            text_file = workdir / "message.txt"
            text_file.write_text(BODY, encoding="utf-8")
            queued = await cli(
                "broadcast", "--text-file", str(text_file), db_url=db_url, cwd=workdir
            )
            match = re.match(r"broadcast (\d+): (\d+) recipients", queued)
            assert match, queued
            broadcast_id, recipients = int(match[1]), int(match[2])
            rows = await outbox_of(db_url, broadcast_id)
            expected = {
                channel: Counter(address for ch, address, _ in rows if ch == channel)
                for channel in CHANNELS
            }
            points = kill_points(len(rows), args.kills, rng)

            async with (
                FakeTelegramAPI(long_poll_cap=0.5) as telegram,
                GATEWAYS[args.gateway]() as sms,
            ):
                fakes = Fakes(telegram, sms)
                env = {
                    "DATABASE_URL": db_url,
                    **processes.telegram_env(telegram, "123456:CRASH"),
                    **sms.env(),
                    "TELEGRAM_RATE": RATE,
                }

                def done() -> bool:
                    got = fakes.arrivals()
                    return all(
                        {address for _, address in got[channel]} >= set(expected[channel])
                        for channel in CHANNELS
                    )

                began = time.monotonic()
                deadline = began + TOTAL_TIMEOUT
                crashes: list[Crash] = []
                boundaries: list[tuple[int, int]] = []
                run = await start_run(env, workdir, 0)
                try:
                    for number, point in enumerate(points, start=1):
                        await wait_for(
                            lambda point=point: fakes.arrived() >= point,
                            run,
                            fakes,
                            f"kill point {point}",
                            deadline=deadline,
                        )
                        await asyncio.sleep(rng.uniform(0, 0.02))
                        at = fakes.sizes()
                        run.process.send_signal(signal.SIGKILL)
                        await run.process.wait()
                        uptime = time.monotonic() - run.started
                        # a request written just before the kill may still sit in a socket
                        # buffer: let the fakes read it before the next process starts
                        await asyncio.sleep(0.2)
                        boundaries.append(fakes.sizes())
                        crashes.append(Crash(uptime, at, await in_flight(db_url)))
                        run = await start_run(env, workdir, number)
                    await wait_for(done, run, fakes, "every recipient", deadline=deadline, poll=0.1)
                    reached = time.monotonic() - began
                    # rows a dead worker left claimed may still come back (on PostgreSQL the
                    # survivor looks for them every 30 s): wait until none is left to send
                    await wait_for(
                        lambda: drained_outbox(db_url, broadcast_id),
                        run,
                        fakes,
                        "an empty outbox",
                        deadline=deadline,
                        poll=0.5,
                    )
                    drained = time.monotonic() - began
                    await asyncio.sleep(1.0)  # nothing more should arrive
                    run.process.send_signal(signal.SIGTERM)
                    try:
                        code = await asyncio.wait_for(run.process.wait(), 15)
                    except TimeoutError:
                        run.process.kill()
                        code = await run.process.wait()
                finally:
                    if run.process.returncode is None:
                        run.process.kill()
                        await run.process.wait()
                arrivals = fakes.arrivals()
            statuses = Counter(status for _, _, status in await outbox_of(db_url, broadcast_id))
    return {
        "recipients": recipients,
        "linked": linked,
        "expected": expected,
        "arrivals": arrivals,
        "crashes": crashes,
        "boundaries": boundaries,
        "reached": reached,
        "drained": drained,
        "code": code,
        "statuses": statuses,
    }


def report(args: argparse.Namespace, seen: dict[str, Any]) -> None:
    expected: dict[str, Counter[str]] = seen["expected"]
    arrivals: dict[str, list[tuple[int, str]]] = seen["arrivals"]
    crashes: list[Crash] = seen["crashes"]
    per_channel = {
        channel: duplicates_by_crash(
            arrivals[channel],
            expected[channel],
            [b[CHANNELS.index(channel)] for b in seen["boundaries"]],
        )
        for channel in CHANNELS
    }
    got = {channel: Counter(address for _, address in arrivals[channel]) for channel in CHANNELS}
    lost = {
        channel: sum(1 for address in expected[channel] if got[channel][address] == 0)
        for channel in CHANNELS
    }
    extra = {channel: sum(per_channel[channel]) for channel in CHANNELS}
    twice = sum(
        1
        for channel in CHANNELS
        for address, n in got[channel].items()
        if n > expected[channel][address]
    )
    per_crash = [sum(per_channel[c][n] for c in CHANNELS) for n in range(len(crashes))]
    total = sum(sum(e.values()) for e in expected.values())

    database = redact_url(args.database_url) if args.database_url else "sqlite (a fresh file)"
    print(f"database        {database}")
    print(f"SMS gateway     {args.gateway}")
    print(
        f"broadcast       {seen['recipients']:,} recipients, {total:,} messages: telegram"
        f" {sum(expected['telegram'].values()):,} ({seen['linked']:,} linked), sms"
        f" {sum(expected['sms'].values()):,}"
    )
    print(f"kills           {len(crashes)} x SIGKILL (seed {args.seed}), rates {RATE} msg/s")
    print()
    header = (
        f"{'crash':<7}{'uptime s':>9}{'at fakes':>10}{'claimed tg':>12}{'claimed sms':>13}"
        f"{'dup tg':>8}{'dup sms':>9}{'dup':>5}"
    )
    print(header)
    print("-" * len(header))
    for n, crash in enumerate(crashes):
        tg, sms = per_channel["telegram"][n], per_channel["sms"][n]
        print(
            f"{n + 1:<7}{crash.uptime:>9.1f}{sum(crash.at):>10,}{crash.claimed['telegram']:>12}"
            f"{crash.claimed['sms']:>13}{tg:>8}{sms:>9}{tg + sms:>5}"
        )
    tg, sms = per_channel["telegram"][-1], per_channel["sms"][-1]
    print(f"{'none':<7}{'':>9}{'':>10}{'':>12}{'':>13}{tg:>8}{sms:>9}{tg + sms:>5}")
    print()
    print(f"lost            {sum(lost.values())} (telegram {lost['telegram']}, sms {lost['sms']})")
    print(
        f"duplicates      {sum(extra.values())} to {twice} recipients"
        f" (telegram {extra['telegram']}, sms {extra['sms']})"
    )
    print(
        f"per crash       max {max(per_crash, default=0)}, mean"
        f" {sum(per_crash) / max(len(per_crash), 1):.1f}; max per channel"
        f" {max((max(per_channel[c][:-1], default=0) for c in CHANNELS), default=0)};"
        f" without a crash {tg + sms}"
    )
    print(
        f"elapsed         {seen['reached']:.1f} s from the first start to the last recipient"
        f" reached, {seen['drained']:.1f} s to an empty outbox"
    )
    print(f"last exit       {seen['code']} (after SIGTERM)")
    print(f"outbox          {dict(sorted(seen['statuses'].items()))}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=5, help="how many SIGKILLs (default 5)")
    parser.add_argument(
        "--gateway", choices=sorted(GATEWAYS), default="twilio", help="the SMS gateway's fake"
    )
    parser.add_argument("--seed", type=int, help="random seed of the kill moments")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("TEST_POSTGRES_URL") or None,
        help="run on this PostgreSQL server (postgresql://USER@HOST:PORT/DB), in a fresh"
        " database; default: TEST_POSTGRES_URL if set, else a SQLite file",
    )
    arguments = parser.parse_args()
    if arguments.seed is None:
        arguments.seed = random.randrange(1_000_000)
    if arguments.database_url and not is_postgres_url(arguments.database_url):
        parser.error("--database-url must be postgresql://... (SQLite is the default)")
    report(arguments, asyncio.run(crash_run(arguments)))
