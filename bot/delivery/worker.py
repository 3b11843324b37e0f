"""The outbox worker: drains due messages channel by channel, within rate limits.

Each channel has its own loop that sends one message at a time, so that a crash
leaves at most one message per channel sent-but-not-recorded (sent again on restart:
at most one duplicate, never a loss). Temporary failures come back with exponential
backoff and jitter; Telegram's ``retry_after`` is honoured exactly and pauses the
channel; permanent failures are recorded with their reason and never retried.

Several workers (one per ``civic-bot run`` process) may share one PostgreSQL outbox: each
claims rows for itself (never a row another has claimed), keeps the rate limits together
with the others (:class:`SharedRateLimiter`), and puts back in the queue the rows of a
worker that died mid-send.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock, iso
from bot.delivery.rate_limit import RateLimiter, SharedRateLimiter, Slot
from bot.delivery.senders import PermanentFailure, Sender, TemporaryFailure
from bot.services import delivery_outcomes
from storage.models import OutboxMessage
from storage.repos import Repos

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
BACKOFF_BASE = 2.0
BACKOFF_CAP = 600.0
#: how often an idle worker looks for rows of workers that died (several processes only)
RECOVER_EVERY = 30.0


@dataclass(frozen=True)
class ChannelLimit:
    rate: float
    per_chat_rate: float | None = None


def backoff(attempt: int, rng: random.Random) -> float:
    """2 s, 4 s, 8 s ... capped at 10 minutes, with ±20 % jitter."""
    delay = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1))
    return delay * rng.uniform(0.8, 1.2)


class OutboxWorker:
    def __init__(
        self,
        repos: Repos,
        senders: dict[str, Sender],
        limits: dict[str, ChannelLimit],
        *,
        clock: Clock,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        batch: int = 50,
        rng: random.Random | None = None,
    ) -> None:
        self.repos = repos
        self.senders = senders
        self.clock = clock
        self.sleep = sleep
        self.batch = batch
        self.rng = rng or random.Random()
        self.limiters = {
            channel: RateLimiter(limit.rate, per_key_rate=limit.per_chat_rate, clock=self._seconds)
            for channel, limit in limits.items()
        }
        #: where several processes share the outbox: the limits they keep together
        self.shared_limiters = (
            {
                channel: SharedRateLimiter(
                    repos.rate_limits,
                    channel,
                    limit.rate,
                    per_key_rate=limit.per_chat_rate,
                    clock=self._seconds,
                )
                for channel, limit in limits.items()
            }
            if repos.db.dialect.concurrent_writers
            else {}
        )
        #: this worker's claims carry its id
        self.id = secrets.randbits(62) + 1
        self._registered = False
        self._recovered_at = 0.0
        self.wakeup = asyncio.Event()

    def _seconds(self) -> float:
        return self.clock.now().timestamp()

    async def recover(self) -> int:
        """Put rows a previous process (or a worker that died) left mid-send back in the
        queue."""
        await self._register()
        self._recovered_at = self._seconds()
        return await self.repos.outbox.requeue_in_flight(
            now=iso(self.clock.now()), worker_id=self.id
        )

    async def _register(self) -> None:
        if not self._registered:
            await self.repos.outbox.register_worker(self.id)
            self._registered = True

    async def _claim(self, channel: str) -> list[OutboxMessage]:
        await self._register()
        return await self.repos.outbox.claim_due(
            channels=[channel], now=iso(self.clock.now()), limit=self.batch, worker_id=self.id
        )

    async def drain_channel(self, channel: str) -> int:
        """Send every message of ``channel`` that is due now; return how many were tried."""
        tried = 0
        while True:
            batch = await self._claim(channel)
            if not batch:
                return tried
            for message in batch:
                await self._deliver(message)
                tried += 1

    async def run(self, stop: asyncio.Event, idle: float = 1.0) -> None:
        """Drain every channel until ``stop`` is set; the message in hand is finished."""
        await self.recover()
        await asyncio.gather(*(self._loop(channel, stop, idle) for channel in self.senders))

    async def _loop(self, channel: str, stop: asyncio.Event, idle: float) -> None:
        while not stop.is_set():
            batch = await self._claim(channel)
            for n, message in enumerate(batch):
                if stop.is_set():  # hand the rest back untouched
                    await self.repos.outbox.requeue(
                        [m.id for m in batch[n:]], now=iso(self.clock.now())
                    )
                    return
                await self._deliver(message)
            if not batch:
                if (
                    self.repos.db.dialect.concurrent_writers
                    and self._seconds() - self._recovered_at >= RECOVER_EVERY
                ):
                    await self.recover()
                self.wakeup.clear()
                waiter = asyncio.ensure_future(self.wakeup.wait())
                stopper = asyncio.ensure_future(stop.wait())
                await asyncio.wait(
                    {waiter, stopper}, timeout=idle, return_when=asyncio.FIRST_COMPLETED
                )
                waiter.cancel()
                stopper.cancel()

    async def _deliver(self, message: OutboxMessage) -> None:
        limiter = self.limiters[message.channel]
        shared = self.shared_limiters.get(message.channel)
        now = self.clock.now()
        chat_wait = limiter.key_delay(message.address)
        slot = Slot(None, 0.0)
        if chat_wait <= 0 and shared is not None:
            slot = await shared.reserve(message.address)
            if slot.send_id is None:
                chat_wait = slot.wait
        if chat_wait > 0:  # this chat must wait; others may go first
            await self.repos.outbox.mark_retry(
                message.id,
                at=iso(now + timedelta(seconds=chat_wait)),
                error=message.error or "",
                now=iso(now),
            )
            return
        delay = max(limiter.reserve(message.address), slot.wait)
        if delay > 0:
            await self.sleep(delay)
        sender = self.senders[message.channel]
        try:
            provider_id = await sender.send(message.address, message.body, message.reply_markup)
        except TemporaryFailure as exc:
            limiter.completed(message.address)
            if shared is not None:
                await shared.completed(slot)
            await self._retry(message, exc)
        except PermanentFailure as exc:
            limiter.completed(message.address)
            if shared is not None:
                await shared.completed(slot)
            log.warning("outbox %s failed for good: %s", message.id, exc.reason)
            async with self.repos.db.transaction():
                await self.repos.outbox.mark_failed(message.id, error=exc.reason, now=iso(now))
                await delivery_outcomes.after_permanent_failure(
                    self.repos, message, exc, now=self.clock.now()
                )
        else:
            limiter.completed(message.address)
            if shared is not None:
                await shared.completed(slot)
            await self.repos.outbox.mark_sent(message.id, provider_id, now=iso(self.clock.now()))

    async def _retry(self, message: OutboxMessage, exc: TemporaryFailure) -> None:
        now: datetime = self.clock.now()
        if exc.retry_after is not None:
            self.limiters[message.channel].pause(exc.retry_after)
            if message.channel in self.shared_limiters:
                await self.shared_limiters[message.channel].pause(exc.retry_after)
            wait = exc.retry_after
        elif message.attempts >= MAX_ATTEMPTS:
            error = f"gave up after {message.attempts} attempts: {exc.reason}"
            log.error("outbox %s: %s", message.id, error)
            await self.repos.outbox.mark_failed(message.id, error=error, now=iso(now))
            return
        else:
            wait = backoff(message.attempts, self.rng)
        log.info("outbox %s: retry in %.1fs (%s)", message.id, wait, exc.reason)
        await self.repos.outbox.mark_retry(
            message.id, at=iso(now + timedelta(seconds=wait)), error=exc.reason, now=iso(now)
        )
