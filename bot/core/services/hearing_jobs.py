"""What the scheduler does for hearings: a reminder three days before (to those who
said yes or maybe and to those who have not answered) and one on the morning of the
day (to those who said yes or maybe). A moved hearing gets new jobs (the keys carry
the revision); a cancelled one has none."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.clock import iso
from bot.core.jobs import Job
from bot.core.rendering.templates import Renderer
from bot.core.services.hearings import notify_invited
from storage.models import Hearing
from storage.repos import Repos

EARLY = timedelta(days=3)
MORNING = time(8, 0)


class HearingJobs:
    def __init__(self, repos: Repos, renderer: Renderer, tz: ZoneInfo) -> None:
        self.repos = repos
        self.renderer = renderer
        self.tz = tz

    async def jobs(self, now: datetime) -> list[Job]:
        found = []
        for hearing in await self.repos.hearings.published_after(None, iso(now)):
            starts = datetime.fromisoformat(hearing.starts_at)
            local = starts.astimezone(self.tz)
            morning = datetime.combine(local.date(), MORNING, tzinfo=self.tz)
            key = f"hearing:{hearing.id}:r{hearing.revision}"
            found.append(
                Job(f"{key}:remind-early", starts - EARLY, starts, self._reminder(hearing, False))
            )
            if morning < starts:
                found.append(
                    Job(f"{key}:remind-today", morning, starts, self._reminder(hearing, True))
                )
        return found

    def _reminder(self, hearing: Hearing, today: bool):
        """Three days before: to yes, maybe and who has not answered (with the answer
        buttons); on the morning of the day: to yes and maybe."""
        which = "today" if today else "early"

        async def run(now: datetime) -> int:
            return await notify_invited(
                self.repos,
                self.renderer,
                hearing,
                "hearing_reminder",
                f"hearing:{hearing.id}:r{hearing.revision}:remind-{which}",
                now=now,
                answers=("yes", "maybe"),
                unanswered=not today,
                rsvp=not today,
                today=today,
            )

        return run
