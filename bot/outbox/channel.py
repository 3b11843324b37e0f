"""One small interface for every outbound channel, and the two ways a send can fail."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol


class TemporaryFailure(Exception):
    """Try again later: network errors, 5xx, rate limits (``retry_after`` seconds if known).

    ``unknown_outcome``: the request went out but its answer was lost (a timeout, a
    dropped connection), so the provider may have sent the message after all.
    """

    def __init__(
        self, reason: str, retry_after: float | None = None, *, unknown_outcome: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.unknown_outcome = unknown_outcome


class PermanentFailure(Exception):
    """Never retry. ``blocked``: the user blocked the bot; ``unsubscribed``: SMS opt-out."""

    def __init__(self, reason: str, *, blocked: bool = False, unsubscribed: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.blocked = blocked
        self.unsubscribed = unsubscribed


class Sender(Protocol):
    channel: str
    #: the provider account whose rate limit this sender spends (one bot, one number):
    #: processes sending through the same account share the limit
    rate_key: str

    async def send(
        self,
        address: str,
        body: str,
        reply_markup: str | None = None,
        media: str | None = None,
    ) -> str | None:
        """Send one message; return the provider's message id.

        ``reply_markup`` (Telegram buttons as JSON) and ``media`` (Telegram photos as JSON,
        the body their caption) are ignored by channels without them.
        """
        ...

    async def find_sent(self, address: str, body: str, since: datetime) -> list[str]:
        """The provider ids of messages of ``body`` sent to ``address`` since ``since``,
        oldest first: did a send whose outcome was lost go out? ``[]`` also where the
        provider cannot tell (Telegram keeps no list of a bot's messages)."""
        ...


class ConsoleSender:
    """The demo channel: prints what would be sent."""

    channel = "console"
    rate_key = "console"

    def __init__(self, write: Callable[[str], object] = print) -> None:
        self._write = write

    async def send(
        self,
        address: str,
        body: str,
        reply_markup: str | None = None,
        media: str | None = None,
    ) -> str | None:
        self._write(f"[to {address}] {body}")
        return None

    async def find_sent(self, address: str, body: str, since: datetime) -> list[str]:
        return []
