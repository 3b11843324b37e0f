"""What the public pages of a municipality show (``/m/<slug>/``): the budget, projects and
the joint action plan, hearings with their attendance, polls and service ratings, and
the same figures as CSV for anyone to recount.

Nothing personal leaves here: residents appear only as counts, monitoring acts by their
authors' roles, polls as :mod:`bot.core.services.poll_results` lets them out (turnout
only while open, small groups suppressed after closing), and a village's service rating
only from ``small_group_min`` ratings up (the same rule, :func:`poll_results.suppressed`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.clock import iso
from bot.core.rendering.spreadsheet import csv_text
from bot.core.services import hearings, poll_results, projects
from bot.core.services.errors import ServiceError
from bot.core.services.monitoring import KINDS
from bot.core.services.ratings import Average
from bot.core.services.ratings import results as rating_results
from bot.core.services.voting import poll_state
from storage.models import (
    Budget,
    Funding,
    Hearing,
    Milestone,
    Municipality,
    PlanTotals,
    Poll,
    Project,
)
from storage.public import PublicAct
from storage.repos import Repos

BUDGET_HEADER = ["year", "version", "kind", "name", "village", "amount"]


@dataclass(frozen=True)
class BudgetView:
    budget: Budget
    #: every version of every year, oldest first (for the links to earlier ones)
    versions: list[Budget]
    revenue: list[tuple[str, int]]  # by source, largest first
    spending: list[tuple[str, int]]  # by category, largest first
    #: by village, largest first; "" for what is spent on the whole municipality
    by_village: list[tuple[str, int]]
    plans: list[PlanTotals]

    @property
    def revenue_total(self) -> int:
        return sum(amount for _, amount in self.revenue)

    @property
    def spending_total(self) -> int:
        return sum(amount for _, amount in self.spending)


def _largest(pairs: list[tuple[str, int]]) -> list[tuple[str, int]]:
    totals: dict[str, int] = defaultdict(int)
    for name, amount in pairs:
        totals[name] += amount
    return sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))


async def municipalities(repos: Repos) -> list[Municipality]:
    """Every municipality the deployment serves, for the list page."""
    return await repos.municipalities.all()


async def municipality(
    repos: Repos, slug: str, *, now: datetime
) -> tuple[Municipality, str] | None:
    """The municipality of ``slug`` and what its cached pages depend on (its data
    version: a page is rendered again when this changes); None: no such one."""
    return await repos.public.data_version(slug, iso(now))


async def list_version(repos: Repos) -> str:
    """What the cached list of municipalities depends on."""
    return repr([(m.slug, m.name) for m in await repos.municipalities.all()])


async def open_polls(repos: Repos, municipality: Municipality, *, now: datetime) -> list[Poll]:
    return await repos.polls.open_at(municipality.id, iso(now))


async def poll(repos: Repos, municipality: Municipality, number: int) -> Poll | None:
    return await repos.polls.get(municipality.id, number)


async def act_photo(
    repos: Repos, municipality: Municipality, act: int, position: int
) -> str | None:
    """The Telegram file id of a monitoring act's ``position``-th photo."""
    return await repos.public.act_photo(municipality.id, act, position)


async def villages(repos: Repos, municipality: Municipality) -> dict[int, str]:
    return {v.id: v.name for v in await repos.municipalities.villages(municipality.id)}


async def budget_view(
    repos: Repos, municipality: Municipality, year: int | None = None, version: int | None = None
) -> BudgetView | None:
    """The budget of ``year`` (default: the latest), its ``version`` (default: the latest);
    None when there is none such."""
    versions = await repos.budget.versions(municipality.id)
    chosen = [b for b in versions if year is None or b.year == year]
    if version is not None:
        chosen = [b for b in chosen if b.version == version]
    if not chosen:
        return None
    budget = max(chosen, key=lambda b: (b.year, b.version))
    names = await villages(repos, municipality)
    spending = await repos.budget.lines(budget.id, "spending")
    return BudgetView(
        budget=budget,
        versions=versions,
        revenue=_largest([(n, a) for n, _, a in await repos.budget.lines(budget.id, "revenue")]),
        spending=_largest([(n, a) for n, _, a in spending]),
        by_village=_largest([(names.get(v, "") if v else "", a) for _, v, a in spending]),
        plans=await repos.budget.plans(budget.id),
    )


@dataclass(frozen=True)
class ProjectView:
    project: Project
    village: str | None
    funding: list[Funding]
    acts: list[PublicAct]
    #: the monitoring steps passed (tender, purchase, handover, use): kind -> first date
    milestones: dict[str, str]
    #: the joint action plan's milestones staff set (bot.core.services.projects)
    plan: list[Milestone] = field(default_factory=list)

    @property
    def funded(self) -> int:
        return sum(f.amount for f in self.funding)

    @property
    def progress(self) -> int:
        return projects.progress(self.project)


async def projects_view(repos: Repos, municipality: Municipality) -> list[ProjectView]:
    names = await villages(repos, municipality)
    acts: dict[int, list[PublicAct]] = defaultdict(list)
    for act in await repos.public.acts(municipality.id):
        acts[act.project_id].append(act)
    plan = await projects.milestones(repos, municipality)
    views = []
    for project in await repos.budget.projects(municipality.id):
        mine = acts[project.id]
        first: dict[str, str] = {}
        for act in sorted(mine, key=lambda a: a.created_at):
            first.setdefault(act.kind, act.created_at)
        views.append(
            ProjectView(
                project=project,
                village=names.get(project.village_id) if project.village_id else None,
                funding=await repos.budget.funding(project.id),
                acts=mine,
                milestones={kind: first[kind] for kind in KINDS if kind in first},
                plan=plan.get(project.id, []),
            )
        )
    return views


async def plans(repos: Repos, municipality: Municipality) -> list[PlanTotals]:
    budget = await repos.budget.current(municipality.id)
    return [] if budget is None else await repos.budget.plans(budget.id)


@dataclass(frozen=True)
class VillageAttendance:
    village: str  # "?" for walk-ins of no known village
    participants: int
    women: int
    deputies: int | None  # None where the deputies were not counted


@dataclass(frozen=True)
class HearingsView:
    upcoming: list[Hearing]  # soonest first
    past: list[hearings.Report]  # latest first
    #: hearing id -> its attendance by village, as the seed's sheet printed it
    by_village: dict[int, list[VillageAttendance]]


async def attendance_by_village(repos: Repos, hearing: Hearing) -> list[VillageAttendance]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for present in await repos.hearings.attendance(hearing.id):
        row = counts[present.village or "?"]
        row[0] += 1
        row[1] += present.gender == "f"
        row[2] += present.role == "deputy"
    return [
        VillageAttendance(name, people, women, deputies if hearing.deputies_counted else None)
        for name, (people, women, deputies) in sorted(counts.items())
    ]


async def hearings_view(repos: Repos, municipality: Municipality, *, now: datetime) -> HearingsView:
    """Published budget hearings (never drafts; cancelled ones only while still ahead, so
    people learn of it), the past ones with their attendance from the check-ins. Other
    meetings (PRA sessions, trainings...) invite their own people and are not listed."""
    stamp = iso(now)
    shown = [
        h for h in await repos.hearings.all(municipality.id)
        if h.status != "draft" and h.meeting == "hearing"
    ]  # fmt: skip
    upcoming = sorted((h for h in shown if h.starts_at > stamp), key=lambda h: h.starts_at)
    past = sorted(
        (h for h in shown if h.starts_at <= stamp and h.status == "published"),
        key=lambda h: h.starts_at,
        reverse=True,
    )
    return HearingsView(
        upcoming,
        [await hearings.report(repos, h) for h in past],
        {h.id: await attendance_by_village(repos, h) for h in past},
    )


@dataclass(frozen=True)
class PollView:
    poll: Poll
    state: str  # scheduled, open, closed
    #: None for a scheduled poll or a closed one that cannot be counted here (no key)
    results: poll_results.PollResults | None


#: closed polls on one page of the polls page, with their results and breakdowns, so the
#: page stays small on a slow line; older ones on the next pages (``?page=``)
RECENT_CLOSED = 10


@dataclass(frozen=True)
class PollsPage:
    #: the open and scheduled polls (first page only), then this page's closed ones,
    #: latest first
    polls: list[PollView]
    page: int
    pages: int


async def polls_view(
    repos: Repos, municipality: Municipality, *, now: datetime, small_group_min: int,
    page: int = 1,
) -> PollsPage | None:  # fmt: skip
    """Page ``page`` of the polls, latest first: turnout only while open
    (``PollResults.sealed``), the results of :data:`RECENT_CLOSED` closed ones a page;
    None for a page past the last."""
    latest = sorted(await repos.polls.all(municipality.id), key=lambda p: p.closes_at,
                    reverse=True)  # fmt: skip
    closed = [p for p in latest if poll_state(p, now) == "closed"]
    pages = max(1, -(-len(closed) // RECENT_CLOSED))
    if not 1 <= page <= pages:
        return None
    shown = [p for p in latest if poll_state(p, now) != "closed"] if page == 1 else []
    shown += closed[(page - 1) * RECENT_CLOSED : page * RECENT_CLOSED]
    views = [await poll_view(repos, p, now=now, small_group_min=small_group_min) for p in shown]
    return PollsPage(views, page, pages)


async def poll_view(repos: Repos, poll: Poll, *, now: datetime, small_group_min: int) -> PollView:
    state = poll_state(poll, now)
    if state == "scheduled":
        return PollView(poll, state, None)
    try:
        results = await poll_results.compute(repos, poll, now=now, small_group_min=small_group_min)
    except ServiceError:  # closed, but no BALLOT_KEY to count with
        results = None
    return PollView(poll, state, results)


def countable(repos: Repos, poll: Poll, *, now: datetime) -> bool:
    """Whether the poll's results and ballots may be published: it is closed and its
    ballots can be opened (``BALLOT_KEY`` set)."""
    return repos.polls.sealing and poll_state(poll, now) == "closed"


async def countable_polls(repos: Repos, municipality: Municipality, *, now: datetime) -> list[Poll]:
    """The closed polls whose results and ballots may be published (:func:`countable`)."""
    return [p for p in await repos.polls.all(municipality.id) if countable(repos, p, now=now)]


@dataclass(frozen=True)
class RatingRow:
    service: str
    overall: Average
    #: village -> its average, None where fewer than the threshold rated
    villages: dict[str, Average | None]


@dataclass(frozen=True)
class RatingsView:
    #: round name -> the services rated in it
    rounds: dict[str, list[RatingRow]]
    #: service -> its average per round, oldest first
    trends: dict[str, list[tuple[str, float]]]


async def ratings_view(
    repos: Repos, municipality: Municipality, *, small_group_min: int
) -> RatingsView:
    found = await rating_results(repos, municipality)
    rounds: dict[str, list[RatingRow]] = {}
    for round_name, services in found.rounds.items():
        rows = []
        for service, groups in services.items():
            by_village = {name: avg for name, avg in groups.items() if name}
            hidden = poll_results.suppressed(
                {name: avg.count for name, avg in by_village.items()}, small_group_min
            )
            rows.append(RatingRow(
                service, groups[""],
                {name: None if name in hidden else avg for name, avg in by_village.items()},
            ))  # fmt: skip
        rounds[round_name] = rows
    names = {row.service for rows in rounds.values() for row in rows}
    return RatingsView(rounds, {name: found.trend(name) for name in sorted(names)})


# Open data: the same figures as CSV (bot.core.rendering.spreadsheet: no formulas)


def budget_csv(view: BudgetView | None, language: str) -> str:
    """The budget's lines (none at all: the header alone), names in ``language`` (as are
    those of every file here)."""
    if view is None:
        return csv_text(BUDGET_HEADER, [])
    year, version = view.budget.year, view.budget.version
    rows: list[list[object]] = [
        [year, version, "revenue", name, "", amount] for name, amount in view.revenue
    ]
    rows += [[year, version, "spending", name, "", amount] for name, amount in view.spending]
    rows += [
        [year, version, "spending by village", "", village or "all", amount]
        for village, amount in view.by_village
    ]
    return csv_text(BUDGET_HEADER, rows, language)


def projects_csv(views: list[ProjectView], language: str) -> str:
    rows: list[list[object]] = []
    for v in views:
        p = v.project
        common = [p.code, p.name, v.village or "", p.cost, p.status,
                  p.direct_beneficiaries or "", p.indirect_beneficiaries or ""]  # fmt: skip
        rows += [[*common, f.source_type, f.source_name, f.amount] for f in v.funding]
        if not v.funding:
            rows.append([*common, "", "", ""])
    return csv_text(
        ["code", "name", "village", "cost", "status", "direct_beneficiaries",
         "indirect_beneficiaries", "source_type", "source_name", "amount"],
        rows, language,
    )  # fmt: skip


def hearings_csv(view: HearingsView, language: str) -> str:
    """Each past hearing's attendance ("all"), then by village; ``starts_at`` in UTC."""
    rows: list[list[object]] = []
    for r in view.past:
        h = r.hearing
        rows.append([h.starts_at, h.kind, h.place, "all", r.participants, r.women,
                     "" if r.deputies is None else r.deputies])  # fmt: skip
        rows += [
            [h.starts_at, h.kind, h.place, v.village, v.participants, v.women,
             "" if v.deputies is None else v.deputies]
            for v in view.by_village[h.id]
        ]  # fmt: skip
    return csv_text(
        ["starts_at", "kind", "place", "village", "participants", "women", "deputies"],
        rows,
        language,
    )


def ratings_csv(view: RatingsView, language: str) -> str:
    rows: list[list[object]] = []
    for round_name, services in view.rounds.items():
        for row in services:
            rows.append([round_name, row.service, "all", row.overall.count,
                         round(row.overall.mean, 2)])  # fmt: skip
            for village, avg in row.villages.items():
                count = "" if avg is None else avg.count
                mean = "" if avg is None else round(avg.mean, 2)
                rows.append([round_name, row.service, village, count, mean])
    return csv_text(["round", "service", "village", "ratings", "average"], rows, language)
