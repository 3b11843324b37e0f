"""What a scheduled job is: the rules (polls, hearings) say which jobs their data calls
for; :mod:`bot.runtime.scheduling` runs them at their time. A job only enqueues outbox
rows with dedupe keys, so one that runs twice sends nothing twice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Job:
    key: str
    at: datetime
    #: after this moment the job is stale and is not run (e.g. the poll closed)
    until: datetime | None
    run: Callable[[datetime], Awaitable[int]]


class JobSource(Protocol):
    async def jobs(self, now: datetime) -> Iterable[Job]:
        """The jobs the data calls for (those long past may be left out)."""
        ...
