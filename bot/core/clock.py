"""Where "now" comes from, so that tests and the scheduler can control time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """How timestamps are stored: ISO 8601 in UTC."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")
