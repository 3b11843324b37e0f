"""What the scheduler does for polls: announce at opening, remind the day before
closing (those who have not voted), publish results at closing."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.clock import iso
from bot.core.jobs import Job
from bot.core.rendering.templates import Renderer
from bot.core.services import audit, poll_results
from bot.core.services.audit import Actor
from bot.core.services.polls import notify_electorate
from storage.models import Poll
from storage.repos import Repos

REMIND_BEFORE = timedelta(days=1)


class PollJobs:
    def __init__(self, repos: Repos, renderer: Renderer) -> None:
        self.repos = repos
        self.renderer = renderer

    async def jobs(self, now: datetime) -> list[Job]:
        found = []
        for poll in await self.repos.polls.needing_jobs(iso(now)):
            opens = datetime.fromisoformat(poll.opens_at)
            closes = datetime.fromisoformat(poll.closes_at)
            found.append(Job(f"poll:{poll.id}:announce", opens, closes, self._announce(poll)))
            found.append(
                Job(f"poll:{poll.id}:reminder", closes - REMIND_BEFORE, closes, self._remind(poll))
            )
            if not poll.results_published:
                found.append(Job(f"poll:{poll.id}:results", closes, None, self._results(poll)))
        return found

    def _announce(self, poll: Poll):
        async def run(now: datetime) -> int:
            return await notify_electorate(
                self.repos,
                self.renderer,
                poll,
                "announce",
                now=now,
                data={"closes": datetime.fromisoformat(poll.closes_at)},
            )

        return run

    def _remind(self, poll: Poll):
        async def run(now: datetime) -> int:
            return await notify_electorate(
                self.repos,
                self.renderer,
                poll,
                "reminder",
                now=now,
                only_not_voted=True,
                data={"closes": datetime.fromisoformat(poll.closes_at)},
            )

        return run

    def _results(self, poll: Poll):
        async def run(now: datetime) -> int:
            return await publish_results(self.repos, self.renderer, poll, now=now)

        return run


async def publish_results(
    repos: Repos, renderer: Renderer, poll: Poll, *, now: datetime, actor: Actor | None = None
) -> int:
    """Tell the electorate the results (once: dedupe keys) and mark them published.
    ``actor``: the staff member who asked for it (None: the scheduler, not audited)."""
    if iso(now) < poll.closes_at:
        raise ValueError("results are published after the poll closes")
    results = await poll_results.compute(repos, poll, now=now)
    async with repos.db.transaction():
        queued = await notify_electorate(
            repos, renderer, poll, "results", now=now, data={"results": results}
        )
        await repos.polls.mark_results_published(poll.id)
        if actor is not None:
            await audit.record(
                repos, poll.municipality_id, actor, "poll results published", now=now,
                object_kind="poll", object_id=poll.id, detail=f"{queued} message(s)",
            )  # fmt: skip
    return queued
