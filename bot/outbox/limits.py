"""Rate limits per channel: evenly spaced sends overall and per chat, plus pauses.

Spacing sends ``1/rate`` apart (rather than bursting) keeps a sender under a
sliding-window limit such as Telegram's 30 messages a second without provoking 429s.
Slots are planned by start times, so the time a send takes does not slow the channel
down; but a send that started late (a sleep that overslept, a slow database write)
leaves the next ones closer together than ``1/rate``, and the provider counts arrival
times, which jitter with latency. So a second rule makes the limit hold whatever the
latency: a send starts only once ``rate`` sends have *completed* more than a second
ago (the provider saw each of them between its start and its completion), and a chat
gets its next message a full ``1/per_key_rate`` after the previous one completed.

Several processes on one PostgreSQL database (each with its own worker) keep the same limits
together with :class:`SharedRateLimiter`, whose state is in the database.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from storage.rate_limits import RateLimitRepo

#: the providers' limits are "so many per second"
WINDOW = 1.0
#: a send still not completed after this long was cut short by a process that died (the
#: workers' recovery completes those of a dead worker sooner: ``complete_abandoned``)
IN_FLIGHT_MAX = 120.0


class RateLimiter:
    def __init__(
        self, rate: float, *, per_key_rate: float | None = None, clock: Callable[[], float]
    ) -> None:
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._key_interval = 1.0 / per_key_rate if per_key_rate else 0.0
        self._clock = clock
        self._next = 0.0
        self._next_by_key: dict[str, float] = {}
        #: completion times of the last ``rate`` sends (none kept when unlimited)
        self._completed: deque[float] = deque(maxlen=max(1, math.floor(rate)) if rate > 0 else 0)

    def key_delay(self, key: str) -> float:
        """Seconds until ``key`` (a chat) may receive again; nothing is reserved."""
        return max(0.0, self._next_by_key.get(key, 0.0) - self._clock())

    def reserve(self, key: str) -> float:
        """Reserve the next slot for ``key``; return how long to wait before sending."""
        now = self._clock()
        start = max(now, self._next, self._next_by_key.get(key, 0.0), self._window_opens())
        self._next = start + self._interval
        if self._key_interval:
            self._next_by_key[key] = start + self._key_interval
            if len(self._next_by_key) > 10_000:
                self._forget_before(now)
        return start - now

    def completed(self, key: str) -> None:
        """The send reserved for ``key`` is over (answered or failed): count it from now."""
        now = self._clock()
        if self._completed.maxlen:
            self._completed.append(now)
        if self._key_interval:
            self._next_by_key[key] = max(self._next_by_key.get(key, 0.0), now + self._key_interval)

    def pause(self, seconds: float) -> None:
        """Nothing is sent for ``seconds`` (the provider said: retry after)."""
        self._next = max(self._next, self._clock() + seconds)

    def _window_opens(self) -> float:
        """When the oldest of the last ``rate`` completed sends leaves the window."""
        if self._completed.maxlen and len(self._completed) == self._completed.maxlen:
            return self._completed[0] + WINDOW
        return 0.0

    def _forget_before(self, now: float) -> None:
        self._next_by_key = {k: t for k, t in self._next_by_key.items() if t > now}


@dataclass(frozen=True)
class Slot:
    """A shared reservation: start in ``wait`` seconds, then report it completed. Without
    ``send_id``: not now, this chat (or the whole channel) may try again in ``wait``."""

    send_id: int | None
    wait: float


class SharedRateLimiter:
    """The rules of :class:`RateLimiter` for all processes sharing one database.

    Every send is a row: reserved with a start time, in flight until completed. A
    reservation locks the channel's row, so reservations are made one at a time across
    processes; a send may reach the provider at any time between its start and its
    completion, so the rules count in-flight sends of every process:

    - starts are spaced ``1/rate`` apart, and none is before the channel's pause ends;
    - a send starts only once at most ``rate - 1`` sends are in flight or completed
      within the second before its start (so no second sees more than ``rate``);
    - a chat gets its next message ``1/per_key_rate`` after the previous one started and
      completed, and never while one is in flight.

    Times come from the workers' clocks: processes on several hosts need synchronised
    clocks (NTP), as a skew of a few milliseconds is a few milliseconds of slack.
    """

    def __init__(
        self,
        repo: RateLimitRepo,
        channel: str,
        rate: float,
        *,
        worker_id: int,
        per_key_rate: float | None = None,
        clock: Callable[[], float],
    ) -> None:
        """``channel`` names the provider account whose limit this is (one bot, one
        sending number): processes that send through the same one share it."""
        self._repo = repo
        self._channel = channel
        self._worker_id = worker_id
        self._interval = 1.0 / rate
        self._limit = max(1, math.floor(rate))
        self._key_interval = 1.0 / per_key_rate if per_key_rate else 0.0
        self._horizon = max(WINDOW, self._interval, self._key_interval)
        self._clock = clock
        self._ready = False

    async def _ensure_channel(self) -> None:
        if not self._ready:
            await self._repo.add_channel(self._channel)
            self._ready = True

    async def reserve(self, key: str) -> Slot:
        """Reserve the next slot for ``key`` (a chat), or say when to try it again."""
        await self._ensure_channel()
        repo = self._repo
        async with repo.db.transaction():
            paused_until = await repo.lock_channel(self._channel)
            now = self._clock()
            sends = await repo.recent(
                self._channel,
                completed_after=now - self._horizon,
                started_after=now - IN_FLIGHT_MAX,
            )
            if self._key_interval:
                chat = [s for s in sends if s.chat == key]
                if any(s.completed_at is None for s in chat):
                    return Slot(None, self._key_interval)
                ready = max(
                    (max(s.starts_at, s.completed_at or 0.0) + self._key_interval for s in chat),
                    default=0.0,
                )
                if ready > now:
                    return Slot(None, ready - now)
            room = self._limit - sum(1 for s in sends if s.completed_at is None)
            if room <= 0:  # as many in flight as the provider takes in a second
                return Slot(None, self._interval)
            start = max(now, paused_until)
            if sends:
                start = max(start, max(s.starts_at for s in sends) + self._interval)
            done = sorted(
                (s.completed_at for s in sends if s.completed_at is not None), reverse=True
            )
            if len(done) >= room:
                start = max(start, done[room - 1] + WINDOW)
            send_id = await repo.add(self._channel, key, start, worker_id=self._worker_id)
        return Slot(send_id, start - now)

    async def completed(self, slot: Slot) -> None:
        """The send of ``slot`` is over (answered or failed)."""
        if slot.send_id is not None:
            await self._repo.complete(slot.send_id, self._clock())

    async def pause(self, seconds: float) -> None:
        """Nothing is sent by any process for ``seconds`` (the provider said: retry after)."""
        await self._ensure_channel()
        await self._repo.pause(self._channel, self._clock() + seconds)
