"""Budgets by year and version, their lines, projects and funding, the plan totals."""

from __future__ import annotations

from collections.abc import Sequence

from storage.db import Database, Row
from storage.models import Budget, Funding, PlanTotals, Project

_PROJECT = (
    "id, municipality_id, code, name, village_id, cost, status, problem_id,"
    " direct_beneficiaries, indirect_beneficiaries, note, in_plan"
)


def _project(row: Row) -> Project:
    values = list(row)
    values[11] = bool(values[11])
    return Project(*values)


class BudgetRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def next_version(self, municipality_id: int, year: int) -> int:
        latest = await self.db.fetchval(
            "SELECT MAX(version) FROM budgets WHERE municipality_id = ? AND year = ?",
            (municipality_id, year),
        )
        return int(latest or 0) + 1

    async def create(self, municipality_id: int, year: int, version: int, *, now: str) -> int:
        return await self.db.execute(
            "INSERT INTO budgets (municipality_id, year, version, imported_at) VALUES (?, ?, ?, ?)",
            (municipality_id, year, version, now),
        )

    async def current(self, municipality_id: int, year: int | None = None) -> Budget | None:
        """The latest version of ``year`` (default: the latest year)."""
        row = await self.db.fetchone(
            "SELECT id, municipality_id, year, version FROM budgets WHERE municipality_id = ?"
            " AND (? IS NULL OR year = ?) ORDER BY year DESC, version DESC LIMIT 1",
            (municipality_id, year, year),
        )
        return None if row is None else Budget(*row)

    async def versions(self, municipality_id: int) -> list[Budget]:
        rows = await self.db.fetchall(
            "SELECT id, municipality_id, year, version FROM budgets WHERE municipality_id = ?"
            " ORDER BY year, version",
            (municipality_id,),
        )
        return [Budget(*row) for row in rows]

    async def add_lines(
        self, budget_id: int, lines: Sequence[tuple[str, str, int | None, int]]
    ) -> None:
        """Lines ``(kind, name, village_id, amount)``."""
        await self.db.executemany(
            "INSERT INTO budget_lines (budget_id, kind, name, village_id, amount)"
            " VALUES (?, ?, ?, ?, ?)",
            [(budget_id, *line) for line in lines],
        )

    async def lines(self, budget_id: int, kind: str) -> list[tuple[str, int | None, int]]:
        rows = await self.db.fetchall(
            "SELECT name, village_id, amount FROM budget_lines WHERE budget_id = ? AND kind = ?"
            " ORDER BY id",
            (budget_id, kind),
        )
        return [(row[0], row[1], int(row[2])) for row in rows]

    async def add_plan(self, budget_id: int, plan: PlanTotals) -> None:
        await self.db.execute(
            "INSERT INTO plans (budget_id, name, activities, total, community, investment)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (budget_id, plan.name, plan.activities, plan.total, plan.community, plan.investment),
        )

    async def plans(self, budget_id: int) -> list[PlanTotals]:
        rows = await self.db.fetchall(
            "SELECT name, activities, total, community, investment FROM plans"
            " WHERE budget_id = ? ORDER BY id",
            (budget_id,),
        )
        return [
            PlanTotals(row[0], int(row[1]), int(row[2]), int(row[3]), int(row[4])) for row in rows
        ]

    # projects

    async def upsert_project(
        self,
        municipality_id: int,
        budget_id: int,
        *,
        code: str,
        name: str,
        village_id: int | None,
        cost: int,
        status: str,
        problem_id: int | None,
        direct: int | None,
        indirect: int | None,
        note: str,
        in_plan: bool,
    ) -> int:
        """Insert or update by code (the project keeps its number); return its id."""
        await self.db.execute(
            "INSERT INTO projects (municipality_id, code, name, village_id, cost, status,"
            " problem_id, direct_beneficiaries, indirect_beneficiaries, note, in_plan, budget_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (municipality_id, code) DO UPDATE SET name = excluded.name,"
            " village_id = excluded.village_id, cost = excluded.cost, status = excluded.status,"
            " problem_id = excluded.problem_id,"
            " direct_beneficiaries = excluded.direct_beneficiaries,"
            " indirect_beneficiaries = excluded.indirect_beneficiaries, note = excluded.note,"
            " in_plan = excluded.in_plan, budget_id = excluded.budget_id",
            (municipality_id, code, name, village_id, cost, status, problem_id, direct,
             indirect, note, in_plan, budget_id),
        )  # fmt: skip
        return int(
            await self.db.fetchval(
                "SELECT id FROM projects WHERE municipality_id = ? AND code = ?",
                (municipality_id, code),
            )
        )

    async def add_funding(
        self, project_id: int, budget_id: int, funding: Sequence[Funding]
    ) -> None:
        await self.db.executemany(
            "INSERT INTO project_funding (project_id, budget_id, source_type, source_name, amount)"
            " VALUES (?, ?, ?, ?, ?)",
            [(project_id, budget_id, f.source_type, f.source_name, f.amount) for f in funding],
        )

    async def project(self, municipality_id: int, project_id: int) -> Project | None:
        row = await self.db.fetchone(
            f"SELECT {_PROJECT} FROM projects WHERE municipality_id = ? AND id = ?",
            (municipality_id, project_id),
        )
        return None if row is None else _project(row)

    async def project_by_code(self, municipality_id: int, code: str) -> Project | None:
        row = await self.db.fetchone(
            f"SELECT {_PROJECT} FROM projects WHERE municipality_id = ? AND code = ?",
            (municipality_id, code),
        )
        return None if row is None else _project(row)

    async def projects(
        self, municipality_id: int, village_id: int | None = None, *, year: int | None = None
    ) -> list[Project]:
        """All projects, or those of one village plus the municipality-wide ones; with
        ``year``, only those the latest budget listing them is of that year."""
        rows = await self.db.fetchall(
            f"SELECT {_PROJECT} FROM projects WHERE municipality_id = ?"
            " AND (? IS NULL OR village_id IS NULL OR village_id = ?)"
            " AND (? IS NULL OR budget_id IN (SELECT id FROM budgets WHERE year = ?))"
            " ORDER BY id",
            (municipality_id, village_id, village_id, year, year),
        )
        return [_project(row) for row in rows]

    async def funding(self, project_id: int) -> list[Funding]:
        """The funding in the latest budget version that lists the project."""
        rows = await self.db.fetchall(
            "SELECT source_type, source_name, amount FROM project_funding WHERE project_id = ?"
            " AND budget_id = (SELECT budget_id FROM projects WHERE id = ?) ORDER BY id",
            (project_id, project_id),
        )
        return [Funding(row[0], row[1], int(row[2])) for row in rows]

    async def set_status(self, project_id: int, status: str) -> None:
        await self.db.execute("UPDATE projects SET status = ? WHERE id = ?", (status, project_id))
