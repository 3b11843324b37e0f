"""Rate limits per channel: evenly spaced sends overall and per chat, plus pauses.

Spacing sends ``1/rate`` apart (rather than bursting) keeps a sender under a
sliding-window limit such as Telegram's 30 messages a second without provoking 429s.
"""

from __future__ import annotations

from collections.abc import Callable


class RateLimiter:
    def __init__(
        self, rate: float, *, per_key_rate: float | None = None, clock: Callable[[], float]
    ) -> None:
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._key_interval = 1.0 / per_key_rate if per_key_rate else 0.0
        self._clock = clock
        self._next = 0.0
        self._next_by_key: dict[str, float] = {}

    def key_delay(self, key: str) -> float:
        """Seconds until ``key`` (a chat) may receive again; nothing is reserved."""
        return max(0.0, self._next_by_key.get(key, 0.0) - self._clock())

    def reserve(self, key: str) -> float:
        """Reserve the next slot for ``key``; return how long to wait before sending."""
        now = self._clock()
        start = max(now, self._next, self._next_by_key.get(key, 0.0))
        self._next = start + self._interval
        if self._key_interval:
            self._next_by_key[key] = start + self._key_interval
            if len(self._next_by_key) > 10_000:
                self._forget_before(now)
        return start - now

    def pause(self, seconds: float) -> None:
        """Nothing is sent for ``seconds`` (the provider said: retry after)."""
        self._next = max(self._next, self._clock() + seconds)

    def _forget_before(self, now: float) -> None:
        self._next_by_key = {k: t for k, t in self._next_by_key.items() if t > now}
