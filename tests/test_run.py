"""``civic-bot run`` end to end: a real subprocess against the fake Telegram and Twilio.

The process is started as a user starts it (``python -m bot run``, configured by the
environment only); the fakes run in the test's event loop on 127.0.0.1. Every wait is
bounded, and a failure shows the process's log.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.core.services import demo_data
from tests import processes
from tests.conftest import run_cli
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.twilio_api import FakeTwilioAPI
from tests.fakes.webhooks import telegram_contact_update, telegram_message_update
from tests.processes import free_port, start_run, telegram_env

FROM_NUMBER = "+15005550006"
VILLAGE = "Kachybek"
BROADCAST_TEXT = "Кечээки жыйындын жыйынтыгы: суу түтүгү 1-декабрдан баштап оңдолот."
START_TIMEOUT = 20.0
STOP_TIMEOUT = 8.0
DELIVERY_TIMEOUT = 60.0
#: no new SMS at the fake for this long: the sending has stopped
STALL_TIMEOUT = 10.0


@dataclass
class Civic:
    """One ``python -m bot run`` process."""

    process: asyncio.subprocess.Process
    port: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-6000:]

    async def wait_healthy(self, http: aiohttp.ClientSession) -> dict[str, object]:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.returncode is not None:
                pytest.fail(f"civic-bot run exited {self.process.returncode}:\n{self.output()}")
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with http.get(
                    f"{self.base_url}/healthz", timeout=aiohttp.ClientTimeout(total=2)
                ) as resp:
                    if resp.status == 200:
                        return dict(await resp.json())
            await asyncio.sleep(0.1)
        pytest.fail(f"/healthz not up within {START_TIMEOUT:.0f} s:\n{self.output()}")

    async def stop(self, sig: signal.Signals = signal.SIGTERM) -> tuple[int, float]:
        """Send ``sig``; return the exit status and how long the exit took."""
        started = time.monotonic()
        self.process.send_signal(sig)
        try:
            code = await asyncio.wait_for(self.process.wait(), timeout=STOP_TIMEOUT)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            pytest.fail(f"no exit within {STOP_TIMEOUT:.0f} s of {sig.name}:\n{self.output()}")
        return code, time.monotonic() - started


Launch = Callable[..., Awaitable[Civic]]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A directory with a demo database, made by ``civic-bot init --demo``."""
    done = run_cli("init", "--demo", cwd=tmp_path, env={"DATABASE_URL": db_url(tmp_path)})
    assert done.returncode == 0, done.stderr
    return tmp_path


def db_url(workdir: Path) -> str:
    return f"sqlite:///{workdir / 'civic-bot.db'}"


@pytest.fixture
async def launch(workdir: Path) -> AsyncIterator[Launch]:
    """``await launch(env)`` starts ``python -m bot run`` (on ``port``, else a free one);
    leftovers are killed at the end."""
    started: list[Civic] = []

    async def start(extra: dict[str, str], port: int | None = None) -> Civic:
        log = workdir / f"run-{len(started)}.log"
        settings = {"DATABASE_URL": db_url(workdir), **extra}
        if port:
            settings["HTTP_PORT"] = str(port)
        process, port = await start_run(settings, workdir, log)
        civic = Civic(process, port, log)
        started.append(civic)
        return civic

    yield start
    for civic in started:
        if civic.process.returncode is None:
            civic.process.kill()
            await civic.process.wait()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI(long_poll_cap=0.5) as fake:
        yield fake


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilioAPI]:
    async with FakeTwilioAPI(owned_numbers={FROM_NUMBER}) as fake:
        yield fake


def twilio_env(twilio: FakeTwilioAPI) -> dict[str, str]:
    return {**processes.twilio_env(twilio, FROM_NUMBER), "TWILIO_RATE": "200"}


async def broadcast(workdir: Path, municipality: str | None = None) -> set[str]:
    """``civic-bot broadcast --village Kachybek``; returns the numbers it queued SMS for."""
    env = {"DATABASE_URL": db_url(workdir)}
    if municipality is not None:
        env["MUNICIPALITY"] = municipality
    text_file = workdir / "message.txt"
    text_file.write_text(BROADCAST_TEXT, encoding="utf-8")
    done = await asyncio.to_thread(
        run_cli,
        "broadcast",
        "--village",
        VILLAGE,
        "--text-file",
        str(text_file),
        cwd=workdir,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    with contextlib.closing(sqlite3.connect(workdir / "civic-bot.db")) as db:
        queued = {
            row[0]
            for row in db.execute(
                "SELECT address FROM outbox WHERE channel = 'sms' AND broadcast_id IS NOT NULL"
            )
        }
        in_village = db.execute(
            "SELECT COUNT(*) FROM residents r JOIN villages v ON v.id = r.village_id"
            " WHERE v.name = ? AND NOT r.opted_out",
            (VILLAGE,),
        ).fetchone()[0]
    assert len(queued) == in_village > 1000
    return queued


async def wait_until(
    condition: Callable[[], bool],
    within: float,
    what: str,
    civic: Civic,
    *,
    progress: Callable[[], int] | None = None,
    stall: float = STALL_TIMEOUT,
) -> float:
    """Poll ``condition`` for at most ``within`` seconds; with ``progress``, give up as
    soon as it stops moving for ``stall`` seconds. Return the seconds it took."""
    started = last_move = time.monotonic()
    seen = progress() if progress else 0
    while not condition():
        now = time.monotonic()
        if civic.process.returncode is not None:
            pytest.fail(f"civic-bot run exited {civic.process.returncode}:\n{civic.output()}")
        if progress is not None and (moved := progress()) != seen:
            seen, last_move = moved, now
        if now - started > within or now - last_move > stall:
            # stop it first: an exception in a background task shows in the log on exit
            with contextlib.suppress(BaseException):
                civic.process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(civic.process.wait(), timeout=STOP_TIMEOUT)
            pytest.fail(
                f"{what}: not within {now - started:.0f} s (progress {seen}, stalled"
                f" {now - last_move:.0f} s); the process's log:\n{civic.output()}"
            )
        await asyncio.sleep(0.05)
    return time.monotonic() - started


def sms_counts(twilio: FakeTwilioAPI) -> Counter[str]:
    return Counter(m["to"] for m in twilio.created if m["body"] == BROADCAST_TEXT)


async def all_reached(recipients: set[str], twilio: FakeTwilioAPI, civic: Civic) -> None:
    """Wait until every one of ``recipients`` got the broadcast by SMS."""
    await wait_until(
        lambda: set(sms_counts(twilio)) == recipients,
        DELIVERY_TIMEOUT,
        f"SMS to all {len(recipients)} recipients",
        civic,
        progress=lambda: len(twilio.created),
    )


async def test_run_serves_sms_sends_a_broadcast_and_polls_telegram(
    launch: Launch,
    workdir: Path,
    http: aiohttp.ClientSession,
    telegram: FakeTelegramAPI,
    twilio: FakeTwilioAPI,
) -> None:
    civic = await launch({**telegram_env(telegram), **twilio_env(twilio)})
    health = await civic.wait_healthy(http)
    # Telegram is served, by long polling
    assert health == {"status": "ok", "sms": True, "telegram": True, "outbox_pending": 0}

    # an inbound SMS, signed for PUBLIC_BASE_URL as Twilio signs it, answered in TwiML
    answer = await twilio.send_inbound(
        f"{civic.base_url}/sms/twilio", demo_data.RESIDENT_PHONE, FROM_NUMBER, "ME", session=http
    )
    assert answer.status == 200, civic.output()
    assert answer.body.startswith("<?xml") and "<Message>" in answer.body
    with contextlib.closing(sqlite3.connect(workdir / "civic-bot.db")) as db:
        (name,) = db.execute(
            "SELECT name FROM residents WHERE phone = ?", (demo_data.RESIDENT_PHONE,)
        ).fetchone()
    assert name in answer.body

    # a broadcast queued by another process is delivered by this one, once each
    recipients = await broadcast(workdir)
    await all_reached(recipients, twilio, civic)
    await asyncio.sleep(0.3)  # nothing more should arrive
    counts = sms_counts(twilio)
    assert set(counts) == recipients and max(counts.values()) == 1
    assert all(m["from"] == FROM_NUMBER for m in twilio.created)
    callback = f"{civic.base_url}/sms/twilio/status"
    assert {m["_status_callback"] for m in twilio.created} == {callback}
    # and a delivery report for one of them is accepted (signed for the public URL)
    report = await twilio.send_status_callback(twilio.created[-1]["sid"], "delivered", session=http)
    assert report.status == 204, civic.output()

    # the Telegram bot runs in polling mode against the fake
    await wait_until(lambda: len(telegram.calls("getUpdates")) > 0, 10, "getUpdates polling", civic)
    languages = {call.params.get("language_code") for call in telegram.calls("setMyCommands")}
    assert languages == {"ky", "ru", "en", None}
    assert telegram.calls("deleteWebhook")
    telegram.queue_update(telegram_message_update("ME", 7_000_001, language_code="ru"))
    await wait_until(
        lambda: bool(telegram.sent_messages(7_000_001)), 10, "answer to a polled update", civic
    )

    code, took = await civic.stop(signal.SIGTERM)
    assert code == 0, civic.output()
    assert took < 5, f"SIGTERM took {took:.1f} s"
    with contextlib.closing(sqlite3.connect(workdir / "civic-bot.db")) as db:
        statuses = Counter(
            row[0] for row in db.execute("SELECT status FROM outbox WHERE channel = 'sms'")
        )
    assert statuses == {"sent": len(recipients) - 1, "delivered": 1}


async def test_run_without_any_channel_serves_healthz(
    launch: Launch, http: aiohttp.ClientSession
) -> None:
    civic = await launch({})
    health = await civic.wait_healthy(http)
    assert health == {"status": "ok", "sms": False, "telegram": False, "outbox_pending": 0}
    async with http.post(f"{civic.base_url}/sms/twilio", data={"Body": "ME"}) as resp:
        assert resp.status == 403
    async with http.post(f"{civic.base_url}/telegram/webhook", json={"update_id": 1}) as resp:
        assert resp.status == 404
    code, took = await civic.stop(signal.SIGTERM)
    assert code == 0, civic.output()
    assert took < 5
    assert "serving /healthz only" in civic.output()


async def test_killed_mid_broadcast_resumes_after_restart(
    launch: Launch, workdir: Path, http: aiohttp.ClientSession, twilio: FakeTwilioAPI
) -> None:
    first = await launch(twilio_env(twilio))
    await first.wait_healthy(http)
    recipients = await broadcast(workdir)
    await wait_until(
        lambda: len(twilio.created) >= 100,
        DELIVERY_TIMEOUT,
        "first 100 SMS",
        first,
        progress=lambda: len(twilio.created),
    )

    code, _ = await first.stop(signal.SIGKILL)
    assert code == -signal.SIGKILL
    before = len(twilio.created)
    assert before < len(recipients), "the broadcast finished before the kill: nothing to test"

    second = await launch(twilio_env(twilio))
    await second.wait_healthy(http)
    await all_reached(recipients, twilio, second)
    await asyncio.sleep(0.3)
    counts = sms_counts(twilio)
    duplicates = {to: n for to, n in counts.items() if n > 1}
    assert set(counts) == recipients
    # the SMS caught mid-send was found at Twilio by the new process, not sent again
    assert not duplicates
    code, _ = await second.stop(signal.SIGTERM)
    assert code == 0, second.output()
    with contextlib.closing(sqlite3.connect(workdir / "civic-bot.db")) as db:
        left = db.execute(
            "SELECT COUNT(*) FROM outbox WHERE status IN ('queued', 'sending')"
        ).fetchone()[0]
    assert left == 0


async def test_run_serves_one_municipality_of_several(
    launch: Launch, workdir: Path, http: aiohttp.ClientSession, twilio: FakeTwilioAPI
) -> None:
    env = {"DATABASE_URL": db_url(workdir)}
    made = run_cli(
        "municipality", "create", "kara-suu", "--name", "Kara-Suu", "--village", "Kara-Suu",
        cwd=workdir, env=env,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    refused = await asyncio.to_thread(run_cli, "run", cwd=workdir, env=env)
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        "civic-bot: several municipalities: pass --municipality or set MUNICIPALITY"
        " (one of: ak-chiy, kara-suu)"
    ]
    # a message of the other municipality (its own number) waits for its own process
    with contextlib.closing(sqlite3.connect(workdir / "civic-bot.db")) as db, db:
        db.execute(
            "INSERT INTO outbox (municipality_id, dedupe_key, channel, address, body,"
            " next_attempt_at, created_at, updated_at) SELECT id, 'theirs', 'sms',"
            " '+996555000001', 'theirs', '2026-01-01', '2026-01-01', '2026-01-01'"
            " FROM municipalities WHERE slug = 'kara-suu'"
        )
    civic = await launch({**twilio_env(twilio), "MUNICIPALITY": "ak-chiy"})
    await civic.wait_healthy(http)
    recipients = await broadcast(workdir, "ak-chiy")
    await all_reached(recipients, twilio, civic)
    code, _ = await civic.stop(signal.SIGTERM)
    assert code == 0, civic.output()
    assert "theirs" not in {m["body"] for m in twilio.created}
    with contextlib.closing(sqlite3.connect(workdir / "civic-bot.db")) as db:
        (status,) = db.execute("SELECT status FROM outbox WHERE dedupe_key = 'theirs'").fetchone()
    assert status == "queued"


async def test_run_in_webhook_mode_answers_in_the_webhooks_answer(
    launch: Launch, workdir: Path, http: aiohttp.ClientSession, telegram: FakeTelegramAPI
) -> None:
    port = free_port()
    hook = f"http://127.0.0.1:{port}/telegram/webhook"
    civic = await launch(
        {
            **telegram_env(telegram),
            "TELEGRAM_WEBHOOK_URL": hook,
            "TELEGRAM_WEBHOOK_SECRET": "s3cret-token",
        },
        port=port,
    )
    health = await civic.wait_healthy(http)
    assert health["telegram"] is True
    assert telegram.webhook is not None and telegram.webhook["url"] == hook
    assert telegram.webhook["secret_token"] == "s3cret-token"

    user = 7_000_009
    forged = await telegram.deliver_webhook(
        telegram_message_update("ME", user), secret="guess", session=http
    )
    assert forged.status == 403 and forged.answer is None
    # unlinked: asked for the phone; then the contact; then ME is the resident's card
    asked = await telegram.deliver_webhook(telegram_message_update("ME", user), session=http)
    assert asked.status == 200, civic.output()
    assert asked.answer is not None and asked.answer.status == 200
    assert asked.answer.params["reply_markup"]["keyboard"][0][0]["request_contact"] is True
    shared = await telegram.deliver_webhook(
        telegram_contact_update(user, demo_data.RESIDENT_PHONE), session=http
    )
    assert shared.status == 200, civic.output()
    card = await telegram.deliver_webhook(telegram_message_update("ME", user), session=http)
    assert card.status == 200 and card.answer is not None, civic.output()
    with contextlib.closing(sqlite3.connect(workdir / "civic-bot.db")) as db:
        (name,) = db.execute(
            "SELECT name FROM residents WHERE phone = ?", (demo_data.RESIDENT_PHONE,)
        ).fetchone()
    assert name in card.answer.params["text"]
    code, _ = await civic.stop(signal.SIGTERM)
    assert code == 0, civic.output()
