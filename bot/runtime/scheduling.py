"""The scheduler holds no truth: jobs are derived from the database.

A *job source* (polls, later hearings) lists the jobs the current data calls for,
each with a key, a time, and a relevance window. :meth:`Scheduler.sync` (at start-up
and whenever the data changes) runs what is due and still relevant — catching up
after downtime — and arms an APScheduler timer for the rest. Jobs only enqueue
outbox rows with dedupe keys, so a job that runs twice sends nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from bot.core.clock import Clock
from bot.core.jobs import Job, JobSource

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(
        self, sources: list[JobSource], clock: Clock, timer: AsyncIOScheduler | None = None
    ) -> None:
        self.sources = sources
        self.clock = clock
        self.timer = timer
        self.done: set[str] = set()
        # timers may fire together; jobs share one connection, so they run one at a time
        self._lock = asyncio.Lock()

    async def _all(self, now: datetime) -> list[Job]:
        found: list[Job] = []
        for source in self.sources:
            found.extend(await source.jobs(now))
        return found

    async def run_due(self) -> dict[str, int]:
        """Run every due, still relevant job not yet run by this process; return what each sent."""
        async with self._lock:
            return await self._run_due()

    async def _run_due(self) -> dict[str, int]:
        now = self.clock.now()
        ran: dict[str, int] = {}
        for job in await self._all(now):
            if job.key in self.done or job.at > now:
                continue
            if job.until is not None and now >= job.until:
                continue  # stale: its moment has passed for good
            ran[job.key] = await job.run(now)
            self.done.add(job.key)
            log.info("job %s ran: %s message(s) queued", job.key, ran[job.key])
        return ran

    async def sync(self) -> dict[str, int]:
        """Catch up on what is due, then (re)arm timers for future jobs."""
        ran = await self.run_due()
        if self.timer is not None:
            now = self.clock.now()
            wanted = {job.key: job for job in await self._all(now) if job.at > now}
            for existing in self.timer.get_jobs():
                if existing.id.startswith("job:") and existing.id[4:] not in wanted:
                    existing.remove()
            for key, job in wanted.items():
                self.timer.add_job(
                    self.run_due,
                    DateTrigger(run_date=job.at),
                    id=f"job:{key}",
                    replace_existing=True,
                    misfire_grace_time=None,
                )
        return ran
