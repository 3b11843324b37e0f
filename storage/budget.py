"""Budgets by year and version, their lines, projects and funding, the plan totals."""

from __future__ import annotations

from collections.abc import Sequence

from storage.db import Database, Row
from storage.models import Budget, Funding, Milestone, PlanTotals, Project, Texts

_PROJECT = (
    "id, municipality_id, code, name, village_id, cost, status, problem_id,"
    " direct_beneficiaries, indirect_beneficiaries, note, in_plan,"
    " name_ky, name_ru, name_en, note_ky, note_ru, note_en, progress"
)


def _project(row: Row) -> Project:
    values = list(row)[:12]
    values[3], values[10] = Texts.of(row[3], row[12:15]), Texts.of(row[10], row[15:18])
    values[11] = bool(values[11])
    return Project(*values, progress=row[18])


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
        return await self.db.insert(
            "INSERT INTO budgets (municipality_id, year, version, imported_at) VALUES (?, ?, ?, ?)"
            " RETURNING id",
            (municipality_id, year, version, now),
        )

    async def current(self, municipality_id: int, year: int | None = None) -> Budget | None:
        """The latest version of ``year`` (default: the latest year)."""
        row = await self.db.fetchone(
            "SELECT id, municipality_id, year, version FROM budgets WHERE municipality_id = ?"
            " AND (CAST(? AS BIGINT) IS NULL OR year = ?) ORDER BY year DESC, version DESC LIMIT 1",
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
        """Lines ``(kind, name, village_id, amount)`` (the name may be :class:`Texts`)."""
        await self.db.insert_many(
            "budget_lines (budget_id, kind, name, village_id, amount, name_ky, name_ru, name_en)",
            [(budget_id, *line, *Texts.stored(line[1])) for line in lines],
        )

    async def lines(self, budget_id: int, kind: str) -> list[tuple[Texts, int | None, int]]:
        rows = await self.db.fetchall(
            f"SELECT {Texts.columns('name')}, village_id, amount FROM budget_lines"
            " WHERE budget_id = ? AND kind = ? ORDER BY id",
            (budget_id, kind),
        )
        return [(Texts.read(row, 0), row[4], int(row[5])) for row in rows]

    async def add_plan(self, budget_id: int, plan: PlanTotals) -> None:
        await self.db.execute(
            "INSERT INTO plans (budget_id, name, activities, total, community, investment,"
            " name_ky, name_ru, name_en) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (budget_id, plan.name, plan.activities, plan.total, plan.community, plan.investment,
             *Texts.stored(plan.name)),
        )  # fmt: skip

    async def plans(self, budget_id: int) -> list[PlanTotals]:
        rows = await self.db.fetchall(
            f"SELECT {Texts.columns('name')}, activities, total, community, investment FROM plans"
            " WHERE budget_id = ? ORDER BY id",
            (budget_id,),
        )
        return [
            PlanTotals(Texts.read(row, 0), int(row[4]), int(row[5]), int(row[6]), int(row[7]))
            for row in rows
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
        """Insert or update by code (the project keeps its number); return its id. ``name``
        and ``note`` may be :class:`Texts` (their versions are stored too)."""
        await self.db.execute(
            "INSERT INTO projects (municipality_id, code, name, village_id, cost, status,"
            " problem_id, direct_beneficiaries, indirect_beneficiaries, note, in_plan, budget_id,"
            " name_ky, name_ru, name_en, note_ky, note_ru, note_en)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (municipality_id, code) DO UPDATE SET name = excluded.name,"
            " name_ky = excluded.name_ky, name_ru = excluded.name_ru,"
            " name_en = excluded.name_en, note_ky = excluded.note_ky,"
            " note_ru = excluded.note_ru, note_en = excluded.note_en,"
            " village_id = excluded.village_id, cost = excluded.cost, status = excluded.status,"
            " problem_id = excluded.problem_id,"
            " direct_beneficiaries = excluded.direct_beneficiaries,"
            " indirect_beneficiaries = excluded.indirect_beneficiaries, note = excluded.note,"
            " in_plan = excluded.in_plan, budget_id = excluded.budget_id",
            (municipality_id, code, name, village_id, cost, status, problem_id, direct,
             indirect, note, in_plan, budget_id, *Texts.stored(name), *Texts.stored(note)),
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
        await self.db.insert_many(
            "project_funding (project_id, budget_id, source_type, source_name, amount,"
            " source_name_ky, source_name_ru, source_name_en)",
            [
                (project_id, budget_id, f.source_type, f.source_name, f.amount,
                 *Texts.stored(f.source_name))
                for f in funding
            ],
        )  # fmt: skip

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
            " AND (CAST(? AS BIGINT) IS NULL OR village_id IS NULL OR village_id = ?)"
            " AND (CAST(? AS BIGINT) IS NULL"
            " OR budget_id IN (SELECT id FROM budgets WHERE year = ?))"
            " ORDER BY id",
            (municipality_id, village_id, village_id, year, year),
        )
        return [_project(row) for row in rows]

    async def funding(self, project_id: int) -> list[Funding]:
        """The funding in the latest budget version that lists the project."""
        rows = await self.db.fetchall(
            f"SELECT source_type, {Texts.columns('source_name')}, amount FROM project_funding"
            " WHERE project_id = ? AND budget_id = (SELECT budget_id FROM projects WHERE id = ?)"
            " ORDER BY id",
            (project_id, project_id),
        )
        return [Funding(row[0], Texts.read(row, 1), int(row[5])) for row in rows]

    async def set_status(self, project_id: int, status: str) -> None:
        await self.db.execute("UPDATE projects SET status = ? WHERE id = ?", (status, project_id))

    async def set_progress(self, project_id: int, progress: int) -> None:
        await self.db.execute(
            "UPDATE projects SET progress = ? WHERE id = ?", (progress, project_id)
        )

    async def add_milestone(
        self, project_id: int, title: str, due_on: str | None, *, now: str
    ) -> int:
        return await self.db.insert(
            "INSERT INTO project_milestones (project_id, title, due_on, created_at)"
            " VALUES (?, ?, ?, ?) RETURNING id",
            (project_id, title, due_on, now),
        )

    async def milestones(self, municipality_id: int) -> dict[int, list[Milestone]]:
        """Every project's milestones, by project id, in the order they were added."""
        rows = await self.db.fetchall(
            "SELECT m.id, m.project_id, m.title, m.due_on, m.done_on FROM project_milestones m"
            " JOIN projects p ON p.id = m.project_id WHERE p.municipality_id = ?"
            " ORDER BY m.project_id, m.id",
            (municipality_id,),
        )
        found: dict[int, list[Milestone]] = {}
        for row in rows:
            found.setdefault(row[1], []).append(Milestone(*row))
        return found

    async def mark_milestone_done(self, project_id: int, milestone_id: int, done_on: str) -> bool:
        """False if it is not that project's, or was done already."""
        changed = await self.db.execute(
            "UPDATE project_milestones SET done_on = ?"
            " WHERE id = ? AND project_id = ? AND done_on IS NULL",
            (done_on, milestone_id, project_id),
        )
        return bool(changed)
