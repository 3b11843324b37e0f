"""One small interface for every outbound channel, and the two ways a send can fail."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class TemporaryFailure(Exception):
    """Try again later: network errors, 5xx, rate limits (``retry_after`` seconds if known)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class PermanentFailure(Exception):
    """Never retry. ``blocked``: the user blocked the bot; ``unsubscribed``: SMS opt-out."""

    def __init__(self, reason: str, *, blocked: bool = False, unsubscribed: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.blocked = blocked
        self.unsubscribed = unsubscribed


class Sender(Protocol):
    channel: str

    async def send(self, address: str, body: str, reply_markup: str | None = None) -> str | None:
        """Send one message; return the provider's message id.

        ``reply_markup`` (Telegram buttons as JSON) is ignored by channels without buttons.
        """
        ...


class ConsoleSender:
    """The demo channel: prints what would be sent."""

    channel = "console"

    def __init__(self, write: Callable[[str], object] = print) -> None:
        self._write = write

    async def send(self, address: str, body: str, reply_markup: str | None = None) -> str | None:
        self._write(f"[to {address}] {body}")
        return None
