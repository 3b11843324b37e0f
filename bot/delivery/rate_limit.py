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
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable

#: the providers' limits are "so many per second"
WINDOW = 1.0


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
