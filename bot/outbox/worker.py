"""The outbox worker: drains due messages channel by channel, within rate limits.

Each channel has its own loop that sends one message at a time, so that a crash
leaves at most one message per channel sent-but-not-recorded. Such a message, and one
whose answer was lost, is *verified* before it is sent again: the provider is asked
whether it went out (Twilio lists its messages; Telegram cannot tell, so a Telegram
message caught mid-send is sent again: at most one duplicate a crash, never a loss).
Temporary failures come back with exponential backoff and jitter; Telegram's
``retry_after`` is honoured exactly and pauses the channel; permanent failures are
recorded with their reason and never retried.

A worker sends through provider *accounts* (:class:`Account`: one bot, one number or
gateway), each in its own lane at its own limits: one municipality's (its channels) or
those of every municipality (``civic-bot municipality secret``), so that one
municipality's big broadcast, sent through its own bot at that bot's limit, holds up no
other municipality's messages. An account several municipalities share takes their due
messages in turns of at most :data:`QUANTUM` each (round robin), so a broadcast of one
does not hold up a reply of another; within a municipality a reply to a person is due
first (``storage.outbox.AHEAD``). Several workers (one per process) may share one
PostgreSQL outbox: each claims rows for itself (never a row another has claimed), keeps
the rate limits of each provider account together with the others
(:class:`SharedRateLimiter`), and puts back in the queue the rows of a worker that died
mid-send, and completes its rate reservations.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.clock import Clock, iso
from bot.outbox import outcomes as delivery_outcomes
from bot.outbox.channel import PermanentFailure, Sender, TemporaryFailure
from bot.outbox.limits import RateLimiter, SharedRateLimiter, Slot
from storage.models import OutboxMessage
from storage.repos import Repos

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
BACKOFF_BASE = 2.0
BACKOFF_CAP = 600.0
#: how often a worker looks for rows of workers that died (several processes only)
RECOVER_EVERY = 30.0
#: the most due messages of one municipality an account shared with others takes in turn
QUANTUM = 10


@dataclass(frozen=True)
class ChannelLimit:
    rate: float
    per_chat_rate: float | None = None


@dataclass(frozen=True)
class Account:
    """A provider account (a bot, a number, a gateway) and the municipalities whose
    ``channel`` messages it sends; ``name`` names its lane (unique in a worker)."""

    name: str
    channel: str
    sender: Sender
    limit: ChannelLimit
    municipality_ids: tuple[int, ...]


def backoff(attempt: int, rng: random.Random) -> float:
    """2 s, 4 s, 8 s ... capped at 10 minutes, with ±20 % jitter."""
    delay = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1))
    return delay * rng.uniform(0.8, 1.2)


class OutboxWorker:
    def __init__(
        self,
        repos: Repos,
        senders: dict[str, Sender] | None = None,
        limits: dict[str, ChannelLimit] | None = None,
        *,
        municipality_id: int | None = None,
        accounts: Sequence[Account] = (),
        clock: Clock,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        batch: int = 50,
        rng: random.Random | None = None,
    ) -> None:
        """One municipality's ``senders`` and ``limits`` by channel (a lane each, named
        by its channel), or the ``accounts`` of many."""
        if not accounts:
            assert senders is not None and limits is not None and municipality_id is not None
            accounts = [
                Account(channel, channel, sender, limits[channel], (municipality_id,))
                for channel, sender in senders.items()
            ]
        self.repos = repos
        self.accounts = {account.name: account for account in accounts}
        self.senders = {account.name: account.sender for account in accounts}
        self._lanes = {
            (municipality, account.channel): account.name
            for account in accounts
            for municipality in account.municipality_ids
        }
        self._turns = dict.fromkeys(self.accounts, 0)
        self.clock = clock
        self.sleep = sleep
        self.batch = batch
        self.rng = rng or random.Random()
        self.limiters = {
            account.name: RateLimiter(
                account.limit.rate, per_key_rate=account.limit.per_chat_rate, clock=self._seconds
            )
            for account in accounts
        }
        #: this worker's claims and rate reservations carry its id
        self.id = secrets.randbits(62) + 1
        #: where several processes share the outbox: the limits they keep together
        self.shared_limiters = (
            {
                account.name: SharedRateLimiter(
                    repos.rate_limits,
                    account.sender.rate_key,
                    account.limit.rate,
                    worker_id=self.id,
                    per_key_rate=account.limit.per_chat_rate,
                    clock=self._seconds,
                )
                for account in accounts
            }
            if repos.db.dialect.concurrent_writers
            else {}
        )
        self._registered = False
        self._recovered_at = 0.0
        self.wakeup = asyncio.Event()

    def _seconds(self) -> float:
        return self.clock.now().timestamp()

    async def recover(self) -> int:
        """Put rows a previous process (or a worker that died) left mid-send back in the
        queue, to be verified before they are sent again; complete the dead workers' rate
        reservations. Return how many rows went back."""
        await self._register()
        self._recovered_at = self._seconds()
        alive = await self.repos.outbox.live_workers()
        requeued = await self.repos.outbox.requeue_in_flight(
            now=iso(self.clock.now()), worker_id=self.id, alive=alive
        )
        if alive is not None and self.shared_limiters:
            await self.repos.rate_limits.complete_abandoned(alive=alive, at=self._seconds())
        return requeued

    async def _register(self) -> None:
        if not self._registered:
            await self.repos.outbox.register_worker(self.id)
            self._registered = True

    async def _claim(self, lane: str) -> list[OutboxMessage]:
        """Due messages for ``lane``'s account: of its municipalities, the next in turn
        that has any (at most :data:`QUANTUM` where the account is shared)."""
        await self._register()
        account = self.accounts[lane]
        municipalities = account.municipality_ids
        limit = self.batch if len(municipalities) == 1 else min(self.batch, QUANTUM)
        for _ in municipalities:
            turn = self._turns[lane]
            self._turns[lane] = (turn + 1) % len(municipalities)
            batch = await self.repos.outbox.claim_due(
                municipality_id=municipalities[turn],
                channel=account.channel,
                now=iso(self.clock.now()),
                limit=limit,
                worker_id=self.id,
            )
            if batch:
                return batch
        return []

    async def drain_channel(self, lane: str) -> int:
        """Send every message of ``lane`` (for one municipality's worker: a channel) that
        is due now; return how many were tried."""
        tried = 0
        while True:
            batch = await self._claim(lane)
            if not batch:
                return tried
            for message in batch:
                await self._deliver(message)
                tried += 1

    async def run(self, stop: asyncio.Event, idle: float = 1.0) -> None:
        """Drain every lane until ``stop`` is set; the message in hand is finished."""
        await self.recover()
        await asyncio.gather(*(self._loop(lane, stop, idle) for lane in self.accounts))

    async def _loop(self, lane: str, stop: asyncio.Event, idle: float) -> None:
        while not stop.is_set():
            if (
                self.repos.db.dialect.concurrent_writers
                and self._seconds() - self._recovered_at >= RECOVER_EVERY
            ):
                await self.recover()
            batch = await self._claim(lane)
            for n, message in enumerate(batch):
                if stop.is_set():  # hand the rest back untouched
                    await self.repos.outbox.requeue(
                        [m.id for m in batch[n:]], now=iso(self.clock.now())
                    )
                    return
                await self._deliver(message)
            if not batch:
                self.wakeup.clear()
                waiter = asyncio.ensure_future(self.wakeup.wait())
                stopper = asyncio.ensure_future(stop.wait())
                await asyncio.wait(
                    {waiter, stopper}, timeout=idle, return_when=asyncio.FIRST_COMPLETED
                )
                waiter.cancel()
                stopper.cancel()

    async def _deliver(self, message: OutboxMessage) -> None:
        lane = self._lanes[message.municipality_id, message.channel]
        limiter = self.limiters[lane]
        shared = self.shared_limiters.get(lane)
        now = self.clock.now()
        sender = self.senders[lane]
        if message.verify_since is not None:
            try:
                sent_as = await self._sent_before(sender, message)
            except TemporaryFailure as exc:
                await self._retry(message, exc, started=now)
                return
            if sent_as is not None:
                log.info("outbox %s went out before it was recorded: not sent again", message.id)
                await self.repos.outbox.mark_sent(message.id, sent_as, now=iso(now))
                return
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
        started = self.clock.now()
        try:
            provider_id = await sender.send(
                message.address, message.body, message.reply_markup, message.media
            )
        except TemporaryFailure as exc:
            limiter.completed(message.address)
            if shared is not None:
                await shared.completed(slot)
            await self._retry(message, exc, started=started)
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

    async def _sent_before(self, sender: Sender, message: OutboxMessage) -> str | None:
        """The provider id of a message the provider sent for this row, not yet recorded
        (a send whose outcome was lost); None if it did not go out or nobody can tell."""
        assert message.verify_since is not None
        since = datetime.fromisoformat(message.verify_since)
        for provider_id in await sender.find_sent(message.address, message.body, since):
            if await self.repos.outbox.by_provider_id(message.channel, provider_id) is None:
                return provider_id
        return None

    async def _retry(
        self, message: OutboxMessage, exc: TemporaryFailure, *, started: datetime
    ) -> None:
        """Back to the queue after a temporary failure of the attempt begun at ``started``
        (or give up after ``MAX_ATTEMPTS``)."""
        now: datetime = self.clock.now()
        if exc.retry_after is not None:
            lane = self._lanes[message.municipality_id, message.channel]
            self.limiters[lane].pause(exc.retry_after)
            if lane in self.shared_limiters:
                await self.shared_limiters[lane].pause(exc.retry_after)
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
            message.id,
            at=iso(now + timedelta(seconds=wait)),
            error=exc.reason,
            now=iso(now),
            verify_since=iso(started) if exc.unknown_outcome else None,
        )
